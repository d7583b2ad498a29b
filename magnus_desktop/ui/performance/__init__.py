"""The Performance dock: equity, drawdown and monthly returns of the trade history, its ratios and
trade statistics by strategy, underlying and month."""
