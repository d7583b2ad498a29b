"""Which accounts may send orders: the demo account (paper tier), a real account only with "Live
trading enabled" AND a connected session (live tier); otherwise refused before any broker call."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator
from datetime import date
from pathlib import Path

import pytest
import pytest_asyncio

from magnus_desktop.models.domain import OptionContract
from magnus_desktop.services.context import AppContext
from magnus_desktop.services.orders import LiveOrdersDisabled
from magnus_desktop.services.settings import AccountConfig, Settings, SettingsStore

PUT = OptionContract("SPXW", date(2018, 1, 31), 2000.0, "P")
FAST = {"connect_timeout": 0.5, "request_timeout": 1.0, "backoff_initial": 0.05, "backoff_max": 0.2}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest_asyncio.fixture
async def ctx(tmp_path: Path) -> AsyncIterator[AppContext]:
    context = AppContext(SettingsStore(tmp_path / "s.json"), Settings(), db_url=f"sqlite:///{tmp_path / 'm.db'}",
                         session_options={"ib_options": FAST})
    await context.start()
    await context.refreshed.wait()
    yield context
    await context.aclose()


@pytest.mark.asyncio
async def test_demo_account_is_the_paper_tier(ctx: AppContext) -> None:
    assert ctx.orders.refusal() is None and not ctx.orders.live


@pytest.mark.asyncio
@pytest.mark.parametrize(("enabled", "reason"), [(False, "Live orders are not enabled for IB x"),
                                                 (True, "IB x is not connected")])
async def test_real_account_is_refused_unless_enabled_and_connected(ctx: AppContext, enabled: bool,
                                                                    reason: str) -> None:
    await ctx.session.save_account(AccountConfig(name="IB x", kind="ib", port=free_port(), client_id=3,
                                                 live_trading_enabled=enabled))
    await ctx.session.switch("IB x")  # nothing listens on the port: never connected
    assert ctx.orders.live is enabled
    refusal = ctx.orders.refusal()
    assert refusal is not None and refusal.startswith(reason)
    fills = len(ctx.portfolio.fills)
    with pytest.raises(LiveOrdersDisabled):
        await ctx.orders.place_order(ctx.orders.new_ticket(PUT, "SELL", 1))
    assert len(ctx.portfolio.fills) == fills  # nothing filled on the demo account either
