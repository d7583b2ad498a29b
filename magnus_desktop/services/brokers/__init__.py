"""Broker adapters behind the ``Broker`` protocol: paper (default), Interactive Brokers, Robinhood."""
