"""The dashboard dock: account value and P&L, SPX and VIX."""
