"""Watchlists dock against a real Workstation (SQLite in tmp, bundled replay data) on a qasync loop."""

from __future__ import annotations

import csv
import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QFileDialog, QLabel, QMessageBox, QSplitter

from magnus_desktop.services.context import AppContext
from magnus_desktop.services.market.recorded import ReplayMarketData
from magnus_desktop.services.portfolio import DEFAULT_WATCHLIST
from magnus_desktop.services.settings import Settings, SettingsStore
from magnus_desktop.services.storage import DatabaseReadOnly, repositories
from magnus_desktop.services.storage.repositories import WatchlistRepo
from magnus_desktop.ui.watchlists.panel import WatchlistsPanel
from magnus_desktop.ui.watchlists.symbols import COLUMNS, NO_DATA, parse_symbol_input
from magnus_desktop.ui.watchlists.view_model import WatchlistsViewModel
from magnus_desktop.widgets.formatting import MISSING, fmt_num
from magnus_desktop.widgets.table_model import text_color
from tests.ui.conftest import LoopRunner

OHLCV = Path(__file__).resolve().parents[2] / "resources" / "data" / "ohlcv"
PVB = "tradingview/metaData_v1_pvb_watchlist_2_20250930.txt"
COL = {c.key: i for i, c in enumerate(COLUMNS)}
FIRST_DAY = date(2018, 1, 2)


@dataclass
class Rig:
    run: LoopRunner
    ws: AppContext
    vm: WatchlistsViewModel
    panel: WatchlistsPanel

    def in_loop(self, fn: Callable[..., Any], *args: Any) -> Any:
        """Call ``fn`` from inside the running loop (as a Qt slot would be called)."""
        async def call() -> Any:
            return fn(*args)
        return self.run(call())

    def settle(self) -> None:
        """Wait for the panel's async actions and the replay refresh; apply queued table rows."""
        self.run.until(lambda: not self.panel._tasks and self.ws.refreshed.is_set())
        self.panel.model.flush()

    def db_lists(self) -> list[tuple[str, list[str]]]:
        return [(wl.name, [i.symbol for i in wl.items]) for wl in WatchlistRepo(self.ws.db).list()]

    def cell(self, symbol: str, key: str, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        model = self.panel.model
        row = next(r for r in range(model.rowCount()) if model.record(r)["symbol"] == symbol)
        return model.data(model.index(row, COL[key]), role)

    def shown_symbols(self) -> list[str]:
        """Symbols in the order the table shows them."""
        proxy = self.panel.table.proxy
        return [proxy.index(r, COL["symbol"]).data() for r in range(proxy.rowCount())]

    def select_symbol(self, symbol: str) -> None:
        self.panel.table.selectRow(self.shown_symbols().index(symbol))


@pytest.fixture
def rig(run: LoopRunner, qtbot: Any, tmp_path: Path, replay_market: ReplayMarketData) -> Iterator[Rig]:
    ws = AppContext(SettingsStore(tmp_path / "s.json"), Settings(), db_url="sqlite:///" + str(tmp_path / "t.db"),
                     market=replay_market)
    vm = WatchlistsViewModel(ws)
    panel = WatchlistsPanel(vm)  # created before start, as the main window does
    qtbot.addWidget(panel)
    r = Rig(run, ws, vm, panel)
    run(ws.start())
    r.settle()
    yield r
    run(ws.aclose())


def _csv_closes(name: str, date_col: str, close_col: str) -> dict[date, float]:
    with open(OHLCV / name, newline="") as fh:
        return {date.fromisoformat(row[date_col]): float(row[close_col]) for row in csv.DictReader(fh)}


def _count_tradingview_symbols(text: str) -> tuple[int, list[str]]:
    """Independent count: unique non-header tokens; section names in order."""
    tokens = [t.strip() for line in text.splitlines() for t in line.split(",") if t.strip()]
    sections = [t[3:] for t in tokens if t.startswith("###")]
    return len(dict.fromkeys(t for t in tokens if not t.startswith("###"))), sections


# ---- quotes ----------------------------------------------------------------------------------------
def test_default_list_shows_replay_quotes(rig: Rig, qtmodeltester: Any) -> None:
    panel = rig.panel
    assert panel.selected_watchlist() is not None and panel.selected_watchlist().name == DEFAULT_WATCHLIST
    assert panel.lists.currentRow() == 0
    for symbol in ("SPY", "VIX", "SPX"):
        quote = rig.ws.market.quote(symbol, FIRST_DAY)
        assert quote is not None
        assert rig.cell(symbol, "last") == fmt_num(quote.last)
        assert rig.cell(symbol, "as_of") == "2018-01-02"
        assert "replay · as of 2018-01-02 close" in rig.cell(symbol, "as_of", Qt.ItemDataRole.ToolTipRole)
    vix = _csv_closes("datahub_vix-daily_1990-2026.csv", "DATE", "CLOSE")
    vix_now, vix_before = vix[FIRST_DAY], vix[date(2017, 12, 29)]
    assert rig.cell("VIX", "last") == f"{vix_now:,.2f}"
    assert rig.cell("VIX", "change") == f"{vix_now - vix_before:+,.2f}"
    assert rig.cell("VIX", "change_pct") == f"{(vix_now / vix_before - 1) * 100:+,.2f}%"  # percent shown
    assert rig.cell("VIX", "volume") == MISSING  # the VIX file has no volume: a dash, not 0
    spy_volume = rig.ws.market.quote("SPY", FIRST_DAY).volume
    assert spy_volume > 1e6 and rig.cell("SPY", "volume") == f"{spy_volume / 1e6:,.2f}M"
    qtmodeltester.check(panel.model)


def test_change_colours_follow_sign(rig: Rig) -> None:
    model = rig.panel.model
    seen = set()
    for r in range(model.rowCount()):
        change = model.record(r)["change"]
        brush = model.data(model.index(r, COL["change_pct"]), Qt.ItemDataRole.ForegroundRole)
        if math.isnan(change) or change == 0:
            assert brush is None
        else:
            assert brush.color() == text_color("gain" if change > 0 else "loss")
            seen.add(change > 0)
    assert seen == {True, False}  # 2018-01-02: VIX fell, SPY rose


def test_unknown_symbol_is_kept_and_says_no_data(rig: Rig) -> None:
    rig.panel.symbol_edit.setText("nasdaq:zzzq, msft")
    rig.panel.add_btn.click()
    rig.settle()
    assert rig.db_lists()[0][1][-2:] == ["ZZZQ", "MSFT"]
    for symbol in ("ZZZQ", "MSFT"):
        assert rig.cell(symbol, "as_of") == NO_DATA
        for key in ("last", "change", "change_pct", "volume"):
            assert rig.cell(symbol, key) == MISSING
        assert "No recorded replay data" in rig.cell(symbol, "symbol", Qt.ItemDataRole.ToolTipRole)
    assert rig.panel.symbol_edit.text() == ""


def test_stale_quote_shows_its_date_and_says_stale(rig: Rig) -> None:
    aapl = _csv_closes("mplfinance_yahoo_AAPL_2004-2018.csv", "Date", "Close")
    goog = _csv_closes("mplfinance_yahoo_GOOG_2004-2018.csv", "Date", "Close")
    last_day = max(aapl)
    assert last_day == max(goog) == date(2018, 1, 19)
    assert rig.ws.clock is not None
    replay_day = date(2018, 1, 22)  # the first replay day after the AAPL/GOOG files end (a Monday)
    assert replay_day in rig.ws.market.trading_days()
    rig.in_loop(rig.ws.clock.jump, replay_day)
    rig.settle()
    for symbol, closes in (("AAPL", aapl), ("GOOG", goog)):
        age = (replay_day - last_day).days  # the stale bar says its age, never reads as the day's
        assert rig.cell(symbol, "as_of") == f"{last_day.isoformat()} ({age} d old)"
        assert f"replay · as of {last_day.isoformat()} close · {age} days old" in rig.cell(symbol, "as_of", Qt.ItemDataRole.ToolTipRole)
        assert rig.cell(symbol, "change") == rig.cell(symbol, "change_pct") == f"as of {last_day.isoformat()}"
        assert rig.cell(symbol, "last") == f"{closes[last_day]:,.2f} (19 Jan)"  # labelled with its day
        record = next(r for r in rig.panel.model.records() if r["symbol"] == symbol)
        assert math.isnan(record["change"]) and math.isnan(record["change_pct"])  # nothing sorts as a move
        tip = rig.cell(symbol, "last", Qt.ItemDataRole.ToolTipRole)
        assert "Stale" in tip and replay_day.isoformat() in tip and "no change is shown" in tip
        assert rig.cell(symbol, "as_of", Qt.ItemDataRole.ForegroundRole).color() == text_color("stale")
        assert rig.cell(symbol, "change", Qt.ItemDataRole.ForegroundRole).color() == text_color("stale")
    spy = rig.ws.market.quote("SPY", replay_day)
    assert spy is not None and rig.cell("SPY", "as_of") == replay_day.isoformat()  # SPY covers the day
    assert rig.cell("SPY", "change") == f"{spy.last - spy.prev_close:+,.2f}"  # fresh rows unchanged
    assert rig.cell("SPY", "last") == fmt_num(spy.last)
    assert replay_day.isoformat() in rig.panel.title.text()


# ---- TradingView import ------------------------------------------------------------------------------
def test_import_shared_file_creates_list(rig: Rig, shared_data: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = shared_data / PVB
    expected, sections = _count_tradingview_symbols(path.read_text())
    captured: dict[str, str] = {}

    def fake_dialog(parent: Any, caption: str, folder: str, filters: str) -> tuple[str, str]:
        captured["filters"] = filters
        return str(path), filters

    monkeypatch.setattr(QFileDialog, "getOpenFileName", fake_dialog)
    rig.panel.import_dialog()
    rig.settle()
    assert "*.txt" in captured["filters"]
    name, symbols = rig.db_lists()[-1]
    assert name == path.stem and len(symbols) == expected
    assert rig.panel.selected_watchlist().name == path.stem  # the new list is shown
    assert rig.panel.model.rowCount() == expected
    shown_sections = [rig.panel.model.record(r)["section"] for r in range(expected)]
    assert list(dict.fromkeys(shown_sections)) == sections
    assert f"Imported {expected} symbols" in rig.panel.message.text()


def test_malformed_file_gives_notice_and_stores_nothing(rig: Rig, tmp_path: Path) -> None:
    bad = tmp_path / "broken.txt"
    bad.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)))
    before = rig.db_lists()
    notices: list[str] = []
    rig.vm.notice.connect(notices.append)
    rig.panel.import_file(bad)
    rig.settle()
    assert rig.db_lists() == before
    assert notices and "Import failed" in notices[-1]
    assert "Import failed" in rig.panel.message.text()
    rig.panel.symbol_edit.setText("GOOG, IBM")  # the panel still works; GOOG is a duplicate
    rig.panel.add_from_input()
    rig.settle()
    assert rig.db_lists()[0][1][-1] == "IBM" and rig.db_lists()[0][1].count("GOOG") == 1
    assert "GOOG is already" in rig.panel.message.text()


BAD_TOKENS = ("$$$", "<SCRIPT>", "NASDAQ:", "A:B:C", "X" * 25, "^", ".AAPL", "CAFÉ", "BRK B", "1X:IBM")


def _file_with_bad_entries(tmp_path: Path) -> Path:
    """A UTF-16 LE (BOM) TradingView file: 3 good symbols, one duplicate, the ``BAD_TOKENS``."""
    text = ("###Tech\r\nNASDAQ:AAPL, " + ", ".join(BAD_TOKENS[:5]) + "\r\n"
            "###More\r\nNYSE:BRK.B,nasdaq:aapl," + ",".join(BAD_TOKENS[5:]) + ",AMEX:SPY\r\n")
    path = tmp_path / "mixed.txt"
    path.write_bytes(b"\xff\xfe" + text.encode("utf-16-le"))
    return path


def test_import_names_skipped_entries_and_lists_them_all(rig: Rig, tmp_path: Path) -> None:
    rig.panel.import_file(_file_with_bad_entries(tmp_path))
    rig.settle()
    name, symbols = rig.db_lists()[-1]
    assert (name, symbols) == ("mixed", ["AAPL", "BRK.B", "SPY"])
    message = rig.panel.message.text()
    assert message.startswith("Imported 3 symbols into 'mixed'") and "Skipped 11 entries" in message
    for token in ("$$$", "<SCRIPT>", "NASDAQ:", "A:B:C", "X" * 25):  # the first five, with reasons
        assert repr(token) in message
    assert "'$' not allowed" in message and "more than one ':'" in message
    assert repr("nasdaq:aapl") not in message and message.endswith("and 6 more.")
    box = rig.panel.skipped_box
    assert isinstance(box, QMessageBox) and box.isVisible()
    details = box.detailedText().splitlines()
    assert len(details) == 11
    for token in (*BAD_TOKENS, "nasdaq:aapl"):
        assert sum(repr(token) in line for line in details) == 1
    assert "line 4: 'nasdaq:aapl' — duplicate of line 2" in details
    showing = [label for label in box.findChildren(QLabel) if "'<SCRIPT>'" in label.text()]
    assert showing and all(label.textFormat() == Qt.TextFormat.PlainText for label in showing)  # text, not markup
    assert rig.panel.message.textFormat() == Qt.TextFormat.PlainText
    box.close()
    rig.run.until(lambda: rig.panel.skipped_box is None)


def test_clean_import_opens_no_box(rig: Rig, tmp_path: Path) -> None:
    path = tmp_path / "clean.txt"
    path.write_text("NASDAQ:AAPL,NYSE:BRK.B\n", encoding="utf-8-sig")
    rig.panel.import_file(path)
    rig.settle()
    assert rig.db_lists()[-1] == ("clean", ["AAPL", "BRK.B"])
    assert rig.panel.skipped_box is None and "Skipped" not in rig.panel.message.text()


def test_import_is_atomic_when_storing_the_symbols_fails(rig: Rig, tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    real_append = repositories._append_items

    def append_then_fail(*args: Any) -> int:
        real_append(*args)  # the rows are in the transaction when the failure comes
        raise DatabaseReadOnly("the database file is read-only")

    monkeypatch.setattr(repositories, "_append_items", append_then_fail)
    before = rig.db_lists()
    rig.panel.import_file(_file_with_bad_entries(tmp_path))
    rig.settle()
    assert rig.db_lists() == before  # neither the list nor a symbol
    assert "nothing was imported" in rig.panel.message.text()
    assert rig.panel.skipped_box is None


def test_title_shows_a_list_name_as_text(rig: Rig, tmp_path: Path) -> None:
    path = tmp_path / "<i>x<i>.txt"
    path.write_text("SPY\n", encoding="utf-8")
    rig.panel.import_file(path)
    rig.settle()
    assert rig.panel.selected_watchlist().name == "<i>x<i>"
    assert "&lt;i&gt;x&lt;i&gt;" in rig.panel.title.text()


# ---- list management -----------------------------------------------------------------------------------
def test_create_rename_reorder_delete_round_trip(rig: Rig, monkeypatch: pytest.MonkeyPatch) -> None:
    panel = rig.panel
    answers = iter(["Tech", "Growth", "Growth"])
    monkeypatch.setattr(panel, "_ask_name", lambda *a: next(answers))
    panel.new_btn.click()
    rig.settle()
    assert [n for n, _ in rig.db_lists()] == [DEFAULT_WATCHLIST, "Tech"]
    assert panel.selected_watchlist().name == "Tech"
    panel.rename_btn.click()
    rig.settle()
    assert [n for n, _ in rig.db_lists()] == [DEFAULT_WATCHLIST, "Growth"]
    panel.new_btn.click()  # duplicate name: a notice shown here, nothing stored
    rig.settle()
    assert [n for n, _ in rig.db_lists()] == [DEFAULT_WATCHLIST, "Growth"]
    assert "Growth" in panel.message.text()
    panel.list_up_btn.click()
    rig.settle()
    assert [n for n, _ in rig.db_lists()] == ["Growth", DEFAULT_WATCHLIST]
    assert [panel.lists.item(i).text().split("  ")[0] for i in range(2)] == ["Growth", DEFAULT_WATCHLIST]
    assert panel.selected_watchlist().name == "Growth" and panel.lists.currentRow() == 0
    monkeypatch.setattr(panel, "_confirm", lambda *a: False)
    panel.delete_btn.click()
    rig.settle()
    assert len(rig.db_lists()) == 2
    monkeypatch.setattr(panel, "_confirm", lambda *a: True)
    panel.delete_btn.click()
    rig.settle()
    assert [n for n, _ in rig.db_lists()] == [DEFAULT_WATCHLIST]
    assert panel.selected_watchlist().name == DEFAULT_WATCHLIST and panel.model.rowCount() == 5


def test_selection_survives_reload_by_id(rig: Rig, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(rig.panel, "_ask_name", lambda *a: "Second")
    rig.panel.new_watchlist()
    rig.settle()
    second = rig.panel.selected_watchlist()
    assert second.name == "Second"
    first_id = rig.ws.watchlists.watchlists[0].watchlist_id
    rig.run(rig.ws.watchlists.move(second.watchlist_id, 0))  # reload with a new order
    rig.run(rig.ws.watchlists.add_symbols(first_id, parse_symbol_input("IBM")[0]))
    rig.settle()
    assert rig.panel.selected_watchlist().watchlist_id == second.watchlist_id
    assert rig.panel.lists.currentRow() == 0 and rig.panel.model.rowCount() == 0


# ---- symbols -------------------------------------------------------------------------------------------
def test_move_and_remove_symbols(rig: Rig, qtbot: Any) -> None:
    panel = rig.panel
    order = rig.db_lists()[0][1]
    rig.select_symbol("SPY")
    panel.sym_down_btn.click()
    rig.settle()
    moved = order[:]
    moved.insert(moved.index("SPY") + 1, moved.pop(moved.index("SPY")))
    assert rig.db_lists()[0][1] == moved == rig.shown_symbols()
    assert panel.selected_item().symbol == "SPY"  # the selection follows the symbol
    panel.table.sortByColumn(COL["symbol"], Qt.SortOrder.DescendingOrder)
    panel.sym_up_btn.click()  # moves in list order and shows the list order again
    rig.settle()
    assert rig.db_lists()[0][1] == order == rig.shown_symbols()
    qtbot.keyClick(panel.table, Qt.Key.Key_Delete)
    rig.settle()
    assert rig.db_lists()[0][1] == [s for s in order if s != "SPY"]
    assert panel.selected_item() is not None and panel.selected_item().symbol != "SPY"


def test_symbol_context_menu_actions(rig: Rig) -> None:
    table = rig.panel.table
    assert table.contextMenuPolicy() == Qt.ContextMenuPolicy.ActionsContextMenu
    actions = {a.text().split("\t")[0]: a for a in table.actions()}
    assert set(actions) == {"Remove", "Move up", "Move down"}
    table.clearSelection()
    assert not actions["Remove"].isEnabled()
    rig.select_symbol("VIX")
    assert actions["Remove"].isEnabled()
    actions["Move up"].trigger()
    rig.settle()
    order = rig.db_lists()[0][1]
    assert order.index("VIX") == 1  # was third
    actions["Remove"].trigger()
    rig.settle()
    assert "VIX" not in rig.db_lists()[0][1]


def test_parse_symbol_input() -> None:
    items, problems = parse_symbol_input("aapl, NASDAQ:msft  spy\tAAPL")
    assert [(i.exchange, i.symbol) for i in items] == [("", "AAPL"), ("NASDAQ", "MSFT"), ("", "SPY")]
    assert problems == []
    items, problems = parse_symbol_input("  ,, ")
    assert items == [] and problems
    items, problems = parse_symbol_input("GOOD, A:B:C")
    assert [i.symbol for i in items] == ["GOOD"] and "A:B:C" in problems[0]


@pytest.mark.parametrize(
    ("typed", "reason"),
    [("$$$", "'$' not allowed"), ("<script>", "'<>' not allowed"), ("X" * 25, "longer than 24"),
     ("NASDAQ:", "empty symbol"), ("^", "no letter or digit")],
)
def test_typed_input_that_is_not_a_ticker_is_refused_with_reason(typed: str, reason: str) -> None:
    items, problems = parse_symbol_input(f"{typed} ")
    assert items == [] and len(problems) == 1
    assert reason in problems[0] and typed.upper() in problems[0]


def test_typed_input_drops_invisible_characters() -> None:
    items, problems = parse_symbol_input("\u200bAAPL\u202e, NYSE:BRK\u00ad.B\ufeff \u2066spy\u2069")
    assert [(i.exchange, i.symbol) for i in items] == [("", "AAPL"), ("NYSE", "BRK.B"), ("", "SPY")]
    assert problems == []


def test_typed_bad_symbols_reach_no_list(rig: Rig) -> None:
    before = rig.db_lists()
    rig.panel.symbol_edit.setText("$$$ <SCRIPT> IBM")
    rig.panel.add_btn.click()
    rig.settle()
    assert rig.db_lists()[0][1] == before[0][1] + ["IBM"]
    text = rig.panel.message.text()
    assert "'$$$' skipped" in text and "'<SCRIPT>' skipped" in text


# ---- construction and rendering ----------------------------------------------------------------------------
def test_panel_created_after_start_shows_lists(rig: Rig, qtbot: Any) -> None:
    late = WatchlistsPanel(rig.vm)
    qtbot.addWidget(late)
    assert late.selected_watchlist().name == DEFAULT_WATCHLIST
    assert late.model.rowCount() == 5 and late.model.record(0)["as_of"] == "…"  # until the next quotes


def test_render_and_narrow_layout(rig: Rig, tmp_path: Path) -> None:
    panel = rig.panel
    panel.resize(900, 500)
    panel.show()
    image = panel.grab()
    assert image.save(str(tmp_path / "watchlists_panel.png"))
    assert image.width() == 900 * image.devicePixelRatio()
    assert panel.splitter.orientation() == Qt.Orientation.Horizontal
    panel.resize(400, 600)
    QApplication.processEvents()
    assert isinstance(panel.splitter, QSplitter) and panel.splitter.orientation() == Qt.Orientation.Vertical


def test_list_keys_rename_and_delete(rig: Rig, qtbot: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    panel = rig.panel
    monkeypatch.setattr(panel, "_ask_name", lambda *a: "Index & ETFs")
    qtbot.keyClick(panel.lists, Qt.Key.Key_F2)
    rig.settle()
    assert [n for n, _ in rig.db_lists()] == ["Index & ETFs"]
    asked: list[str] = []
    monkeypatch.setattr(panel, "_confirm", lambda title, text: asked.append(text) or True)
    qtbot.keyClick(panel.symbol_edit, Qt.Key.Key_Delete)  # Del while typing edits text, deletes nothing
    rig.settle()
    assert asked == [] and len(rig.db_lists()) == 1
    qtbot.keyClick(panel.lists, Qt.Key.Key_Delete)
    rig.settle()
    assert "Index & ETFs" in asked[0] and rig.db_lists() == []
    assert panel.selected_watchlist() is None and panel.model.rowCount() == 0
    assert not panel.add_btn.isEnabled() and panel.title.text() == "No watchlist selected"
