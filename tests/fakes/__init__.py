"""Local fakes of external services that speak the real wire protocols (no network)."""
