"""Orders: the paper ticket dialog and its view model (shared by the docks that open tickets)."""
