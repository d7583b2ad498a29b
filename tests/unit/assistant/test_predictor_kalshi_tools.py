"""The predictor's and Kalshi's assistant tools, registered by those services: the p_win the assistant
quotes is the scanner's for the same contract; Kalshi markets come from what the dock has (none
offline without a cache: "no data", never a guess)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date
from pathlib import Path

import pytest
import pytest_asyncio

from magnus_desktop.models.kalshi import KalshiMarket
from magnus_desktop.services.assistant.tools import NoDataError, ToolRegistry
from magnus_desktop.services.context import AppContext
from magnus_desktop.services.kalshi import assistant_tools as kalshi_tools
from magnus_desktop.services.paths import AppPaths
from magnus_desktop.services.predictor import assistant_tools as predictor_tools
from magnus_desktop.services.settings import Settings, SettingsStore

DAY = date(2018, 2, 6)


@pytest_asyncio.fixture
async def ctx(tmp_path: Path) -> AsyncIterator[AppContext]:
    paths = AppPaths(tmp_path / "config", tmp_path / "data", tmp_path / "logs").ensure()
    context = AppContext(SettingsStore(paths.settings_file), Settings(), db_url=f"sqlite:///{tmp_path / 'm.db'}",
                         paths=paths)
    await context.start(DAY)
    await context.refreshed.wait()
    await context.predictor.loaded()
    await context.scanner.idle()
    yield context
    await context.aclose()


@pytest.mark.asyncio
async def test_win_probability_is_the_scanners_p_win(ctx: AppContext) -> None:
    reg = ToolRegistry()
    predictor_tools.register(reg, ctx)
    row = ctx.scanner.last_scan.rows.iloc[3]
    result = await reg.call("win_probability", {"symbol": "SPX", "expiry": row["expiry"].date().isoformat(),
                                                 "strike": float(row["strike"]), "right": row["right"],
                                                 "date": DAY.isoformat()})
    fields = {label: value for label, value, _unit in result.fields}
    assert fields["p_win"] == pytest.approx(float(row["p_win"]), abs=1e-6)
    assert fields["prob_otm"] == pytest.approx(float(row["prob_otm"]), abs=0.02)  # rate 0 here, Settings' in the scan
    assert f"{row['p_win'] * 100:.1f} %" in result.facts
    with pytest.raises(NoDataError, match="No data"):
        await reg.call("win_probability", {"symbol": "SPX", "expiry": "2018-02-28", "strike": 1.0, "right": "P",
                                           "date": DAY.isoformat()})


@pytest.mark.asyncio
async def test_kalshi_markets_come_from_the_dock_or_say_there_are_none(ctx: AppContext) -> None:
    reg = ToolRegistry()
    kalshi_tools.register(reg, ctx)
    with pytest.raises(NoDataError, match="Kalshi needs the network"):
        await reg.call("kalshi_markets", {"query": "fed"})
    ctx.kalshi._markets["KXFED-26DEC-T4.00"] = KalshiMarket("KXFED-26DEC-T4.00", "KXFED-26DEC",
                                                             "Fed funds above 4.00%?", yes_bid_cents=41,
                                                             yes_ask_cents=44, volume=1200.0)
    ctx.kalshi._markets["KXRAIN-X"] = KalshiMarket("KXRAIN-X", "KXRAIN", "Rain in NYC?", volume=5.0)
    result = await reg.call("kalshi_markets", {"query": "fed"})
    assert [r[0] for r in result.rows] == ["KXFED-26DEC-T4.00"]
    assert result.rows[0][2:5] == (41, 44, 1200.0) and "yes ask 44 cents" in result.facts
