"""Magnus Desktop: an options trader's workstation (PySide6)."""

__version__ = "0.1.0"
