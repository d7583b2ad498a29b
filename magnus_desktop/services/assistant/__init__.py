"""The private assistant: a local llama.cpp model, tools over the app's own data, and cited
retrieval from the bundled knowledge base and the trader's notes (``retrieval.py``)."""
