"""Market data: the ``MarketData`` protocol and its sources (replay, broker, yfinance)."""
