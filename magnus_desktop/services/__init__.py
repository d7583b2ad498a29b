"""Asyncio services and I/O (files, database, replay). Never import Qt here (import-linter enforces it)."""
