"""The positions dock: open positions marked at the replay day, with totals."""
