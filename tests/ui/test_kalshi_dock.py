"""The Kalshi dock against the local Kalshi server (recorded markets): offline banner and cache,
browser filters, reciprocal book, model column only with a model, ticket → live confirmation → audit."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from PySide6.QtWidgets import QApplication
from tenacity import wait_none

from magnus_desktop.analytics.kalshi_fees import fee_cents
from magnus_desktop.models.audit import AuditFilter
from magnus_desktop.models.kalshi import KalshiMarket
from magnus_desktop.services.context import AppContext
from magnus_desktop.services.credentials import CredentialStore
from magnus_desktop.services.kalshi import KalshiClient
from magnus_desktop.services.market.recorded import ReplayMarketData
from magnus_desktop.services.settings import Settings, SettingsStore
from magnus_desktop.ui.kalshi.panel import KalshiPanel
from magnus_desktop.ui.kalshi.view_model import KalshiViewModel
from tests.fakes.kalshi_fixtures import KEY_ID, pem_of
from tests.fakes.kalshi_server import FakeKalshi
from tests.memory_keyring import MemoryKeyring
from tests.ui.conftest import LoopRunner

MakeCtx = Callable[..., AppContext]


@pytest.fixture
def make_ctx(run: LoopRunner, tmp_path: Path, replay_market: ReplayMarketData,
             kalshi_server: FakeKalshi) -> Iterator[MakeCtx]:
    made: list[AppContext] = []
    keyring = MemoryKeyring()

    def make(*, enabled: bool = True, live: bool = True, key: rsa.RSAPrivateKey | None = None) -> AppContext:
        s = Settings()
        s.kalshi.enabled, s.kalshi.base_url, s.kalshi.live_trading_enabled = enabled, kalshi_server.base_url, live
        ctx = AppContext(SettingsStore(tmp_path / "s.json"), s, db_url=f"sqlite:///{tmp_path / 'm.db'}",
                         market=replay_market, credentials=CredentialStore(keyring, refuse_insecure=False))
        ctx.kalshi._client_factory = lambda url, **kw: KalshiClient(url, retry_wait=wait_none(), **kw)  # noqa: SLF001
        made.append(ctx)
        run(ctx.start())
        if ctx.kalshi._task is not None:  # noqa: SLF001
            run(ctx.kalshi._task)  # noqa: SLF001
        if key is not None:
            run(ctx.kalshi.save_key(KEY_ID, pem=pem_of(key)))
            run(ctx.kalshi._task)  # noqa: SLF001
        return ctx

    yield make
    for ctx in made:
        run(ctx.aclose())


def _panel(ctx: AppContext, qtbot) -> KalshiPanel:  # noqa: ANN001
    vm = KalshiViewModel(ctx)
    panel = KalshiPanel(vm)
    vm.setParent(panel)
    qtbot.addWidget(panel)
    panel.resize(1100, 600)
    panel.show()
    return panel


def _rows(panel: KalshiPanel) -> list[dict]:
    panel.browser.refilter()
    panel.browser.model.flush()
    return panel.browser.model.records()


def test_offline_says_kalshi_needs_the_network_and_shows_the_cache(make_ctx: MakeCtx, qtbot, run: LoopRunner,  # noqa: ANN001
                                                                   kalshi_server: FakeKalshi) -> None:
    first = _panel(make_ctx(enabled=False), qtbot)
    assert "needs the network" in first.banner.text() and _rows(first) == []
    make_ctx()  # an online session saves the cache
    panel = _panel(make_ctx(enabled=False), qtbot)
    assert "needs the network" in panel.banner.text() and "cached on" in panel.banner.text()
    active = sorted(m["ticker"] for m in kalshi_server.data.markets if m["status"] == "active")
    assert sorted(r["ticker"] for r in _rows(panel)) == active
    panel.browser.table.selectRow(0)
    assert "Kalshi needs the network" in panel.market_view.book_note.text()


def test_browser_filters_by_category_series_and_search(make_ctx: MakeCtx, qtbot,  # noqa: ANN001
                                                       kalshi_server: FakeKalshi) -> None:
    panel = _panel(make_ctx(), qtbot)
    events = {e["event_ticker"]: e for e in kalshi_server.data.events}
    active = [m for m in kalshi_server.data.markets if m["status"] == "active"]
    assert len(_rows(panel)) == len(active)
    assert "MODEL" not in [c.title.upper() for c in panel.browser.model.columns]  # no model, no column
    panel.browser.select_path("Economics")
    econ = sorted(m["ticker"] for m in active if events[m["event_ticker"]]["category"] == "Economics")
    assert sorted(r["ticker"] for r in _rows(panel)) == econ
    series = events[active[0]["event_ticker"]]["series_ticker"]
    panel.browser.select_path(events[active[0]["event_ticker"]]["category"], series)
    assert {r["series"] for r in _rows(panel)} == {series}
    panel.browser.select_path("")
    panel.browser.search.setText("beyonce")
    expect = sorted(m["ticker"] for m in active if "beyonce" in (m["ticker"] + events[m["event_ticker"]]["title"]).lower())
    assert expect and sorted(r["ticker"] for r in _rows(panel)) == expect


def test_book_is_shown_reciprocally(make_ctx: MakeCtx, qtbot, run: LoopRunner,  # noqa: ANN001
                                    kalshi_server: FakeKalshi) -> None:
    ctx = make_ctx()
    panel = _panel(ctx, qtbot)
    ticker, raw = next((t, b) for t, b in kalshi_server.data.orderbooks.items() if b.get("yes") and b.get("no"))
    book = run(ctx.kalshi.orderbook(ticker))
    panel.market_view.show_market(KalshiMarket(ticker, ticker.rsplit("-", 1)[0], "t", status="active"), "t", None, True)
    panel.market_view.show_book(book)
    panel.market_view.yes_model.flush()
    rows = panel.market_view.yes_model.records()
    asks = {r["price_cents"]: r["ask_qty"] for r in rows if r["ask_qty"] is not None}
    assert asks == {100 - p: q for p, q in raw["no"]}
    bids = {r["price_cents"]: r["bid_qty"] for r in rows if r["bid_qty"] is not None}
    assert bids == {p: q for p, q in raw["yes"]}
    assert f"best YES ask {100 - max(p for p, _ in raw['no'])}¢" in panel.market_view.book_note.text()


def test_model_column_and_ticket_edge_only_with_a_model(make_ctx: MakeCtx, qtbot) -> None:  # noqa: ANN001
    ctx = make_ctx()
    ctx.kalshi.set_probability_provider(lambda m: 0.8 if m.yes_ask_cents and m.yes_ask_cents < 50 else None)
    panel = _panel(ctx, qtbot)
    rows = _rows(panel)
    assert "Model" in [c.title for c in panel.browser.model.columns]
    assert {r["model_prob"] for r in rows} == {0.8, None}
    m = next(x for x in ctx.kalshi.markets() if x.yes_ask_cents and x.yes_ask_cents < 50)
    panel.market_view.show_market(m, ctx.kalshi.title(m), 0.8, True)
    ticket = panel.open_ticket("yes")
    assert ticket is not None and ticket.preview_labels["Edge"].isVisibleTo(ticket)
    edge = 0.8 - (m.yes_ask_cents + fee_cents(m.yes_ask_cents, 1)) / 100  # type: ignore[operator]
    assert f"{edge:+.3f} USD" in ticket.preview_labels["Edge"].text()
    ticket.close()


def test_ticket_confirms_like_a_live_order_sends_once_and_audits(make_ctx: MakeCtx, qtbot, run: LoopRunner,  # noqa: ANN001
                                                                 kalshi_key: rsa.RSAPrivateKey,
                                                                 kalshi_server: FakeKalshi) -> None:
    ctx = make_ctx(key=kalshi_key)
    panel = _panel(ctx, qtbot)
    m = next(x for x in ctx.kalshi.markets() if x.is_open and x.yes_ask_cents and x.yes_ask_cents <= 90)
    panel.market_view.show_market(m, ctx.kalshi.title(m), None, True)
    ticket = panel.open_ticket("yes")
    assert ticket is not None and not ticket.preview_labels["Model"].isVisibleTo(ticket)  # no model: no row
    ticket.count.setValue(5)
    assert ticket.price.value() == m.yes_ask_cents
    fee = fee_cents(m.yes_ask_cents, 5)  # type: ignore[arg-type]
    assert ticket.preview_labels["Fee"].text().startswith(f"${fee / 100:.2f}")
    assert ticket.preview_labels["Max loss"].text() == f"${(5 * m.yes_ask_cents + fee) / 100:,.2f}"  # type: ignore[operator]
    ticket.place.click()
    confirm = ticket.confirm
    assert confirm is not None and confirm.tier == "live" and not confirm.ok.isEnabled()
    assert confirm.fields["Max loss"].text() == f"<b>${(5 * m.yes_ask_cents + fee) / 100:,.2f}</b>"  # type: ignore[operator]
    confirm.typed.setText(m.ticker)  # type: ignore[union-attr]
    confirm.ok.click()
    run.until(lambda: kalshi_server.orders_created == 1 and not ticket.isVisible())
    ticket._send()  # noqa: SLF001 - a second send of the same ticket (double click) changes nothing
    run.idle(0.3)
    assert kalshi_server.orders_created == 1
    run(ctx.audit.idle())
    rows, _ = run(ctx.audit.query(AuditFilter(), 50, 0))
    assert sorted(r.action for r in rows) == ["filled", "placed"]
    assert rows[0].account == "Kalshi (production)" and rows[0].params["ticker"] == m.ticker
    panel.portfolio.positions.flush()  # the account was read again before the ticket closed
    assert [(r["ticker"], r["position"]) for r in panel.portfolio.positions.records()] == [(m.ticker, 5.0)]


def test_ticket_without_live_trading_says_why_and_cannot_place(make_ctx: MakeCtx, qtbot,  # noqa: ANN001
                                                               kalshi_key: rsa.RSAPrivateKey) -> None:
    ctx = make_ctx(key=kalshi_key, live=False)
    panel = _panel(ctx, qtbot)
    m = next(x for x in ctx.kalshi.markets() if x.is_open and x.yes_ask_cents)
    panel.market_view.show_market(m, ctx.kalshi.title(m), None, True)
    ticket = panel.open_ticket("no")
    assert ticket is not None and not ticket.place.isEnabled()
    assert "Live trading is off" in ticket.problems.text()
    assert ticket.price.value() == m.no_ask_cents
    QApplication.processEvents()


def test_a_model_plugged_in_later_adds_the_column(make_ctx: MakeCtx, qtbot) -> None:  # noqa: ANN001
    ctx = make_ctx()
    panel = _panel(ctx, qtbot)
    assert "Model" not in [c.title for c in panel.browser.model.columns]
    n = len(_rows(panel))
    ctx.kalshi.set_probability_provider(lambda m: 0.25)
    assert "Model" in [c.title for c in panel.browser.model.columns]
    rows = _rows(panel)
    assert len(rows) == n and {r["model_prob"] for r in rows} == {0.25}
    ctx.kalshi.set_probability_provider(None)
    assert "Model" not in [c.title for c in panel.browser.model.columns] and len(_rows(panel)) == n
