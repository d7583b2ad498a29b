"""The watchlists dock: named symbol lists and their replay quotes."""
