"""Win-probability predictor of short-option trades: training set, XGBoost model, time-ordered evaluation."""
