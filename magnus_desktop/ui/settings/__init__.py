"""The Settings dialog (Edit → Settings, Ctrl+,)."""
