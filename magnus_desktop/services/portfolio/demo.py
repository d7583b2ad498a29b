"""The demo account: its name, opening trades (with the 2018-02-01 roll) and default watchlist."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from magnus_desktop.models.domain import WatchlistItem

DEMO_ACCOUNT = "Demo (paper, replay)"


@dataclass(frozen=True, slots=True)
class SeedTrade:
    """One opening trade of the demo account: SELL ``qty`` SPXW puts (``strike`` USD, ``expiry``) on
    ``trade_date`` at that day's recorded bid (the price comes from the chain, not from here)."""

    trade_date: date
    expiry: date
    strike: float
    qty: int


DEMO_SEED_DAY = date(2018, 1, 2)
DEMO_ROLL_DAY = date(2018, 2, 1)
#: The demo account's trades. 2018-01-02: Jan-31-2018 2550/2600/2650 puts (|delta| ~0.07/0.13/0.24
#: that day). They expire on 31 Jan, so the book is rolled on 2018-02-01 into Feb-28-2018
#: 2670/2720/2770 puts (about the same distance below SPX, |delta| ~0.10/0.16/0.28 on the recorded
#: chain; nothing is bought back), and the demo holds short puts through the 5 Feb 2018 shock.
#: Databases seeded before the roll existed keep their three January trades ("Reset demo" adds it).
DEMO_SEED: tuple[SeedTrade, ...] = (
    *(SeedTrade(DEMO_SEED_DAY, date(2018, 1, 31), strike, 1) for strike in (2550.0, 2600.0, 2650.0)),
    *(SeedTrade(DEMO_ROLL_DAY, date(2018, 2, 28), strike, 1) for strike in (2670.0, 2720.0, 2770.0)),
)
DEFAULT_WATCHLIST = "Replay symbols"
DEFAULT_WATCHLIST_ITEMS = (
    WatchlistItem("SPX", "SP"),
    WatchlistItem("SPY", "AMEX"),
    WatchlistItem("VIX", "CBOE"),
    WatchlistItem("AAPL", "NASDAQ"),
    WatchlistItem("GOOG", "NASDAQ"),
)
