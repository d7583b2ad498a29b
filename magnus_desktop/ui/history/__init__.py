"""The trade-history dock (closed trades, wheel cycles, monthly realized P&L) and the broker
statement import dialog (File → Import broker statement…)."""
