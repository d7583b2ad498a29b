"""The Orders dock: working and recent orders, keyed by ``order_ref``, with Cancel."""
