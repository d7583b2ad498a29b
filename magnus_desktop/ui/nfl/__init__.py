"""The "NFL model" dock: an NFL results file's Elo probabilities, scored season by season."""
