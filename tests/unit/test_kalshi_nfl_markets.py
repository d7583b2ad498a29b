"""Kalshi NFL game markets priced by the Elo model: the ticker layout parsed strictly, P(YES) of each
team's market from ``probability_for``, and the model plugged into Kalshi once a results file is
evaluated (the Kalshi dock's Model column and the mispricing monitor read it)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date
from pathlib import Path

import pytest
import pytest_asyncio

from magnus_desktop.models.kalshi import KalshiMarket
from magnus_desktop.services.context import AppContext
from magnus_desktop.services.kalshi.nfl_markets import NflGameMarket, nfl_probability_provider, parse_nfl_game
from magnus_desktop.services.paths import AppPaths
from magnus_desktop.services.settings import Settings, SettingsStore

EVENT = "KXNFLGAME-01OCT11KCDEN"  # Kansas City at Denver, 2001-10-11


def market(event: str, team: str) -> KalshiMarket:
    return KalshiMarket(f"{event}-{team}", event, "Kansas City at Denver Winner?", yes_sub_title=team)


def test_the_ticker_layout_is_parsed_strictly() -> None:
    assert parse_nfl_game(market(EVENT, "DEN")) == NflGameMarket(date(2001, 10, 11), "KC", "DEN", "DEN")
    assert parse_nfl_game(market("KXNFLGAME-25SEP04DALPHI", "DAL")) == NflGameMarket(date(2025, 9, 4), "DAL",
                                                                                     "PHI", "DAL")
    assert parse_nfl_game(market("KXNFLGAME-25SEP07LARHOU", "LA")) is not None  # Kalshi's LA = our LAR
    for event, team in (("KXNFLGAME-25XYZ04DALPHI", "DAL"),   # no such month
                        ("KXNFLGAME-25SEP04DALXXX", "DAL"),   # unknown team
                        ("KXNFLGAME-25SEP04DALPHI", "NYG"),   # a team not in the game
                        ("KXNBAGAME-25SEP04DALPHI", "DAL"),   # another series
                        ("KXNFLGAME-25FEB30DALPHI", "DAL")):  # no such day
        assert parse_nfl_game(market(event, team)) is None, event


def test_p_yes_is_the_teams_win_probability() -> None:
    provider = nfl_probability_provider(lambda home, away, day: 0.7 if (home, away) == ("DEN", "KC") else None)
    assert provider(market(EVENT, "DEN")) == pytest.approx(0.7)
    assert provider(market(EVENT, "KC")) == pytest.approx(0.3)
    assert provider(market("KXNFLGAME-01OCT11DENKC", "KC")) is None  # the model has no such game
    assert provider(KalshiMarket("KXFED-26DEC-T4.00", "KXFED-26DEC", "Fed")) is None


PLAIN = ("date,season,home,away,home_score,away_score,neutral,playoff\n"
         + "".join(f"{1998 + s}-09-{d:02d},{1998 + s},{h},{a},{hs},{as_},0,0\n"
                   for s in range(4) for d, h, a, hs, as_ in ((6, "KC", "DEN", 24, 17), (13, "DEN", "LV", 30, 10),
                                                              (20, "LV", "KC", 13, 27), (27, "KC", "LV", 3, 0)))
         + "2001-10-11,2001,DEN,KC,,,0,0\n")  # not played yet: the market's game


@pytest_asyncio.fixture
async def ctx(tmp_path: Path) -> AsyncIterator[AppContext]:
    paths = AppPaths(tmp_path / "config", tmp_path / "data", tmp_path / "logs").ensure()
    context = AppContext(SettingsStore(paths.settings_file), Settings(), db_url=f"sqlite:///{tmp_path / 'm.db'}",
                         paths=paths)
    await context.start(date(2018, 1, 2))
    await context.refreshed.wait()
    yield context
    await context.aclose()


@pytest.mark.asyncio
async def test_an_evaluated_results_file_prices_kalshi_nfl_markets(ctx: AppContext, tmp_path: Path) -> None:
    den, kc = market(EVENT, "DEN"), market(EVENT, "KC")
    assert ctx.kalshi.model_probability(den) is None  # no model until a file is evaluated
    path = tmp_path / "plain.csv"
    path.write_text(PLAIN)
    await ctx.nfl.load(path, from_season=1999)
    p_home = ctx.nfl.probability_for("DEN", "KC", date(2001, 10, 11))
    assert p_home is not None and 0.0 < p_home < 1.0
    assert ctx.kalshi.model_probability(den) == pytest.approx(p_home)
    assert ctx.kalshi.model_probability(kc) == pytest.approx(1.0 - p_home)
