"""The Assistant dock: chat over the app's own data with a local model."""
