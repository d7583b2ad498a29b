"""Domain values (frozen dataclasses) and ORM tables. No Qt, no I/O."""
