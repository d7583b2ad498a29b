"""The Predictor dock: the model card of the win-probability model, its walk-forward evaluation
(reliability diagram, ROC, P&L by decile, per-year scores) and Retrain / Evaluate."""
