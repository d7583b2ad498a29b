"""The Kalshi dock: market browser, market view (book, price history, rules), portfolio, order ticket."""
