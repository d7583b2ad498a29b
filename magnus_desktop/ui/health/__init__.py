"""The Health dock (connections, latency, loop lag, memory, backup/restore, log viewer)."""
