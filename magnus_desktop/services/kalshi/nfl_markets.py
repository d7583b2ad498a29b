"""NFL game markets on Kalshi ↔ the NFL Elo model: our probability of YES for a game market.

Kalshi lists one event per NFL game in the ``KXNFLGAME`` series, with one market per team whose YES
pays if that team wins: event ticker ``KXNFLGAME-<YY><MON><DD><AWAY><HOME>`` (e.g.
``KXNFLGAME-25SEP04DALPHI``: Dallas at Philadelphia on 2025-09-04) and market ticker
``<event>-<TEAM>``. This layout is the one Kalshi's website and API showed for the 2025 season;
no recorded NFL market is in our test data, so the parser is strict: a ticker it does not recognise
gets no probability (never a guess).

P(YES) = the Elo model's pre-game probability that the market's team wins
(``NflModelService.probability_for(home, away, day)``, or 1 − that for the away team). Ties (rare)
count as no win.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from magnus_desktop.models.kalshi import KalshiMarket
from magnus_desktop.services.kalshi.nfl_teams import CODE_ALIASES, FRANCHISES

#: the series of NFL game-winner markets
NFL_GAME_SERIES = "KXNFLGAME"
_MONTHS = {m: i for i, m in enumerate(("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT",
                                        "NOV", "DEC"), start=1)}
_EVENT = re.compile(r"^KXNFLGAME-(\d{2})([A-Z]{3})(\d{2})([A-Z]{4,6})$")
#: codes Kalshi uses → our franchise codes (the standard ones map to themselves)
_KALSHI_CODES: dict[str, str] = {**{c: c for c in FRANCHISES}, **CODE_ALIASES, "LA": "LAR", "JAC": "JAX"}


@dataclass(frozen=True, slots=True)
class NflGameMarket:
    """One team's market of one game: ``yes_team`` wins → YES. Codes are our franchise codes."""

    day: date
    away: str
    home: str
    yes_team: str


def parse_nfl_game(market: KalshiMarket) -> NflGameMarket | None:
    """The game of a ``KXNFLGAME`` market, or None for any other market or a ticker not in that layout
    (an unknown month or team code, a team string with no unique split into two codes)."""
    match = _EVENT.match(market.event_ticker)
    if match is None or not market.ticker.startswith(market.event_ticker + "-"):
        return None
    yy, mon, dd, teams = match.groups()
    if mon not in _MONTHS:
        return None
    try:
        day = date(2000 + int(yy), _MONTHS[mon], int(dd))
    except ValueError:
        return None
    splits = [(teams[:i], teams[i:]) for i in (2, 3, 4)
              if teams[:i] in _KALSHI_CODES and teams[i:] in _KALSHI_CODES]
    if len(splits) != 1:
        return None
    away, home = (_KALSHI_CODES[c] for c in splits[0])
    yes = _KALSHI_CODES.get(market.ticker[len(market.event_ticker) + 1:])
    if yes not in (away, home) or away == home:
        return None
    return NflGameMarket(day, away, home, yes)


def nfl_probability_provider(probability_for: Callable[[str, str, date], float | None]
                             ) -> Callable[[KalshiMarket], float | None]:
    """A Kalshi probability provider (``KalshiService.set_probability_provider``) from the Elo model's
    ``probability_for(home, away, day)``: P(YES) of an NFL game market, None for other markets, a
    game the model has no probability for, or a ticker not in the expected layout."""

    def provider(market: KalshiMarket) -> float | None:
        game = parse_nfl_game(market)
        if game is None:
            return None
        p_home = probability_for(game.home, game.away, game.day)
        if p_home is None:
            return None
        return p_home if game.yes_team == game.home else 1.0 - p_home

    return provider
