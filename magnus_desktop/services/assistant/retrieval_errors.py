"""Errors of the knowledge index, importable without loading chromadb."""

from __future__ import annotations


class KnowledgeIndexError(RuntimeError):
    """The index cannot be opened or written (bad folder, corrupt store); the message says why."""


class IndexingStoppedError(KnowledgeIndexError):
    """A build or notes run ended early because :meth:`KnowledgeIndex.stop_writers` was called;
    what was written before is consistent (the manifest is saved per file and per batch)."""
