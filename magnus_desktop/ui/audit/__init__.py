"""The audit viewer dock: the append-only order log, filtered, paged, exported as CSV."""
