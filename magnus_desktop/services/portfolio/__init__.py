"""Portfolio: the demo account's fills, marks, Greeks, P&L and equity curve
(``service.PortfolioService``), the marking arithmetic (``marking``) and the demo seed (``demo``).

Only the demo constants are re-exported here: the paper broker imports ``marking``, and the
service imports the paper broker.
"""

from magnus_desktop.services.portfolio.demo import (
    DEFAULT_WATCHLIST,
    DEFAULT_WATCHLIST_ITEMS,
    DEMO_ACCOUNT,
    DEMO_ROLL_DAY,
    DEMO_SEED,
    DEMO_SEED_DAY,
    SeedTrade,
)

__all__ = [
    "DEFAULT_WATCHLIST",
    "DEFAULT_WATCHLIST_ITEMS",
    "DEMO_ACCOUNT",
    "DEMO_ROLL_DAY",
    "DEMO_SEED",
    "DEMO_SEED_DAY",
    "SeedTrade",
]
