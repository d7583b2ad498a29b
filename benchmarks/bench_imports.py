"""Speed of ``magnus-desktop import`` (``services.imports.import_file``) into a fresh SQLite file.

Inputs are SYNTHETIC files built from REAL rows: the bundled IBKR Flex statement's 15 Trade rows
(tests/data, MIT) and the Robinhood activity CSV's data rows (``../shared/data``, test-only; the
Robinhood rows are skipped when that folder is absent) repeated to 100,000 rows (20,000 with
``--quick``). Flex rows get fresh ``transactionID``/``tradeID``; Robinhood rows have no id and get
unique content-hash keys from their occurrence number. Target: >= 50,000 rows/s end to end for
what ``magnus-desktop import`` does: read, parse, validate, reconcile, duplicate check, bulk insert,
commit, then compute and store the trade-history dock's snapshot of the whole history
(``services.history.store.update_stored``: FIFO + wheel + month bars, encode, one row), the best of
2 imports into fresh database files (1 with ``--quick``): on 2 shared cores one run alone swings by
up to 1.5x. The row's note gives the import alone and the stored snapshot's share, same run (the
import alone is the "before" of the stored snapshot). The FIFO realized P&L of the report itself is
computed when first asked for, so it is not in this row. Parse-only and store-only rows are printed
for information, each with a floor measured in the same run: the bare tokenizer (expat handing
every element's attributes to a handler that does nothing; ``csv.reader`` alone) and raw
``sqlite3`` executemany of the same rows into the same schema, with the settings an import runs
with (``synchronous=NORMAL``, CHECK constraints tested in Python, not by SQLite); the end-to-end
row's note gives the rate those two floors allow together. The Flex file is about 1.4 kB per row
(some 60 attributes per ``<Trade>``), so its bare tokenizer alone takes about the whole 2 s that
50,000 rows/s allows for 100,000 rows.

Trade-history dock: a trader imports with ``magnus-desktop import``, then starts the app and opens
the dock. The row is that first open in a fresh offscreen process after the import command: the
time from creating the dock's panel on the 100,000-row Flex history to its tables and monthly
bars shown and painted (the stored snapshot read and version-checked on the db executor, decoded
on the compute executor, then one paint), target <= 1 s. Qt and app import time are not in it.
Same run, interleaved, fresh processes each: the same open computing from the events as before
the stored snapshot (read 100k events, FIFO + wheel + month bars; the fresh result then written
back), and the same open with the GUI-thread collector running while the history loads. Runs with
the app's garbage collection (``MainThreadGarbageCollector`` on the GUI thread, and
``gc.freeze()`` of what start-up allocated, as ``app.py`` does once the services are started).
"""

from __future__ import annotations

import re
import tempfile
import time
from pathlib import Path

from benchmarks.common import Result

ROOT = Path(__file__).resolve().parents[1]
FLEX = ROOT / "tests" / "data" / "ibkr_flex_TestForCoding_20181109.xml"
RH = ROOT.parent / "shared" / "data" / "broker_exports" / "robinhood_activity_Dec2023.csv"
TARGET = 50_000.0


def synthetic_flex(n: int, out: Path) -> Path:
    """The real Flex file with its Trades section replaced by ``n`` repeated real rows."""
    text = FLEX.read_text()
    rows = re.findall(r"<Trade [^>]*/>", text)
    body = []
    for i in range(n):
        row = rows[i % len(rows)]
        row = re.sub(r'transactionID="\d+"', f'transactionID="9{i:09d}"', row)
        body.append(re.sub(r'tradeID="\d+"', f'tradeID="8{i:09d}"', row))
    start, end = text.index("<Trades>") + len("<Trades>"), text.index("</Trades>")
    out.write_text(text[:start] + "\n" + "\n".join(body) + "\n" + text[end:])
    return out


def synthetic_robinhood(n: int, out: Path) -> Path:
    """The real Robinhood CSV's data records repeated to ``n`` records (header and disclaimer kept)."""
    import csv
    import io

    with RH.open(newline="") as fh:
        records = list(csv.reader(fh))
    header, data = records[0], [r for r in records[1:] if len(r) == 9 and r[0]]
    buf = io.StringIO()
    writer = csv.writer(buf, quoting=csv.QUOTE_ALL, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(data[i % len(data)] for i in range(n))
    buf.write('""\n"","","","","","","","","","The data provided is for informational purposes only."\n')
    out.write_text(buf.getvalue())
    return out


def _measure(name: str, path: Path, n: int, tmp: Path, repeat: int) -> list[Result]:
    """The parse, store and end-to-end rows of one file; the end-to-end import is the best of
    ``repeat`` runs, each into a fresh database file."""
    from benchmarks.baseline import baseline_module, label
    from magnus_desktop.services.history.store import update_stored
    from magnus_desktop.services.imports import import_file, parse_file
    from magnus_desktop.services.imports.service import store_parsed
    from magnus_desktop.services.storage import Database

    def timed(fn):  # type: ignore[no-untyped-def]
        wall, cpu = time.perf_counter(), time.process_time()
        out = fn()
        return out, time.perf_counter() - wall, time.process_time() - cpu

    def store(fn, db_name: str, bulk: bool = True) -> tuple[float, float]:  # type: ignore[no-untyped-def]
        db = Database.open(f"sqlite:///{tmp / db_name}")
        try:
            with db.bulk_session() if bulk else db.session() as session:
                _, wall, cpu = timed(lambda: fn(session, parsed, "0" * 64))
        finally:
            db.close()
        return wall, cpu

    parsed, parse_s, parse_cpu = timed(lambda: parse_file(path))
    store_s, store_cpu = store(store_parsed, name + "-store.sqlite3")
    old = baseline_module("magnus_desktop/services/imports/service.py")
    before = store(old.store_parsed, name + "-before.sqlite3", bulk=False) if old is not None else None
    runs = []
    for db_name in (name + ".sqlite3", name + "-again.sqlite3")[:repeat]:  # the first file is kept (dock rows)
        db = Database.open(f"sqlite:///{tmp / db_name}")
        try:
            report, import_s, import_cpu = timed(lambda: import_file(db, path))  # noqa: B023 - called at once
            stored, snap_s, snap_cpu = timed(lambda: update_stored(db, report))  # noqa: B023 - as the command does
        finally:
            db.close()
        assert stored, "the trade-history snapshot was not stored"
        assert report.rows_imported == len(parsed.events) == n, (report.rows_imported, n)
        runs.append((import_s + snap_s, import_cpu + snap_cpu, import_s, import_cpu, snap_s, snap_cpu))
    total_s, total_cpu, import_s, import_cpu, snap_s, snap_cpu = min(runs)
    floor_parse = _floor_parse(path, name)
    floor_store = _floor_sqlite(parsed.events, tmp / (name + "-floor.sqlite3"))
    limit = 1.0 / (1.0 / floor_parse + 1.0 / floor_store)
    size = f"{n:,} rows, {path.stat().st_size / 1e6:.0f} MB"
    rows = [
        Result(f"imports.{name} parse only", "rows/s", n / parse_s, "rows/s", reference="bare tokenizer",
               ratio=floor_parse / (n / parse_s), note=f"{size}; parse = tokenize + map to events, CPU "
               f"{parse_cpu:.2f} s of {parse_s:.2f} s; bare tokenizer alone (no row work) {floor_parse:,.0f} "
               f"rows/s in this run, so mapping takes {max(parse_s - n / floor_parse, 0.0):.2f} s; "
               "ratio = tokenizer / ours"),
        Result(f"imports.{name} store only", "rows/s", n / store_s, "rows/s", reference="raw sqlite3",
               ratio=floor_store / (n / store_s), note=f"store_parsed + commit in the import's bulk_session (duplicate check, rows, executemany), "
               f"CPU {store_cpu:.2f} s of {store_s:.2f} s; raw sqlite3 executemany of the same rows, same schema "
               f"{floor_store:,.0f} rows/s in this run; ratio = raw / ours"),
    ]
    if before is not None:
        rows.append(Result(f"imports.{name} store only {label()}", "rows/s", n / before[0], "rows/s",
                           reference="ours (row above)", ratio=before[0] / store_s,
                           note=f"store_parsed as before the speed work (in a plain session, as import_file "
                                f"used it then), same parsed rows, same run: CPU "
                                f"{before[1]:.2f} s of {before[0]:.2f} s; ratio = before time / ours"))
    rows.append(Result(f"imports.{name} into SQLite", "rows/s", n / total_s, "rows/s", target=TARGET,
                       direction="min_value", note=f"{size}; {total_s:.2f} s end to end (CPU {total_cpu:.2f} s) = "
                       f"import {import_s:.2f} s (CPU {import_cpu:.2f} s; {n / import_s:,.0f} rows/s alone) + "
                       f"stored dock snapshot {snap_s:.2f} s (CPU {snap_cpu:.2f} s); best of {len(runs)} into fresh "
                       f"files ({', '.join(f'{r[0]:.2f}' for r in runs)} s); the floors of this run (bare "
                       f"tokenizer, then raw inserts, no row work between) allow at most {limit:,.0f} rows/s"))
    return rows


def _floor_parse(path: Path, name: str) -> float:
    """Rows/s of the bare tokenizer over ``path``: expat delivering every element's attribute
    dictionary to a handler that does nothing (Flex), or ``csv.reader`` alone (Robinhood)."""
    import csv
    import xml.parsers.expat

    start = time.perf_counter()
    if name == "ibkr-flex":
        parser = xml.parsers.expat.ParserCreate()
        rows = 0

        def on_start(_name: str, _attrs: dict[str, str]) -> None:
            nonlocal rows
            rows += _name == "Trade"

        parser.StartElementHandler = on_start
        with path.open("rb") as fh:
            parser.ParseFile(fh)
    else:
        with path.open(newline="", encoding="utf-8-sig") as fh:
            rows = sum(1 for _ in csv.reader(fh, strict=True)) - 3  # header, blank record, disclaimer
    return rows / (time.perf_counter() - start)


def _floor_sqlite(events: list, db_path: Path) -> float:  # type: ignore[type-arg]
    """Rows/s of raw ``sqlite3`` executemany of ``events`` (already converted to the stored
    texts) into the app's schema, one transaction, WAL, foreign keys on, and the settings an
    import runs with (``synchronous=NORMAL``; CHECK constraints skipped, the importer tests
    them in Python): what the store path could reach with no per-row work at all."""
    import sqlite3
    from operator import attrgetter

    from magnus_desktop.services.imports.service import _EVENT_FIELDS
    from magnus_desktop.services.storage import Database

    Database.open(f"sqlite:///{db_path}").close()  # the schema
    at, exp = _EVENT_FIELDS.index("occurred_at"), _EVENT_FIELDS.index("expiry")
    rows = []
    for values in map(attrgetter(*_EVENT_FIELDS), events):
        row = [1, *values]
        row[1 + at] = row[1 + at].strftime("%Y-%m-%d %H:%M:%S.%f")
        row[1 + exp] = row[1 + exp] and row[1 + exp].isoformat()
        rows.append(row)
    columns = ", ".join(f'"{c}"' for c in ("import_id", *_EVENT_FIELDS))
    sql = f"INSERT INTO history_events ({columns}) VALUES ({', '.join('?' * (1 + len(_EVENT_FIELDS)))})"
    con = sqlite3.connect(db_path, isolation_level=None)
    try:
        con.execute("PRAGMA journal_mode=WAL")
        con.execute("PRAGMA foreign_keys=ON")
        con.execute("PRAGMA synchronous=NORMAL")
        con.execute("PRAGMA ignore_check_constraints=ON")
        start = time.perf_counter()
        con.execute("BEGIN")
        con.execute("INSERT INTO history_imports (id, imported_at, file_name, file_sha256, file_kind, account, "
                    "rows_imported, duplicates) VALUES (1, '2000-01-01 00:00:00.000000', 'f', '', 'k', 'a', 0, 0)")
        for i in range(0, len(rows), 20_000):
            con.executemany(sql, rows[i:i + 20_000])
        con.execute("COMMIT")
        return len(rows) / (time.perf_counter() - start)
    finally:
        con.close()


DOCK_TARGET_S = 1.0
_DOCK_SCRIPT = """
import asyncio, gc, sys, time
import qasync
from PySide6.QtWidgets import QApplication
from magnus_desktop.services.executors import Executors
from magnus_desktop.services.history import HistoryService
from magnus_desktop.services.storage import Database
from magnus_desktop.ui.history.panel import HistoryPanel
from magnus_desktop.ui.history.view_model import HistoryViewModel, ImportViewModel
from magnus_desktop.widgets import gc_guard
from magnus_desktop.widgets.gc_guard import MainThreadGarbageCollector

if sys.argv[2:] == ["unpaused"]:  # a same-run reference: collections go on while the history loads
    import contextlib
    gc_guard.paused = contextlib.nullcontext
if sys.argv[2:] == ["computed"]:  # a same-run reference: the stored snapshot ignored, computed from the events
    from magnus_desktop.services.history import store
    store.read_stored = lambda db: (store.events_version(db), None)

class Context:  # what HistoryService needs of AppContext: the database and its executors
    def __init__(self, db):
        self.db, self.executors = db, Executors()
        self.history = HistoryService(self)
    async def run_db(self, fn, *args):
        return await self.executors.run("db", fn, *args)
    async def run_compute(self, fn, *args):
        return await self.executors.run("compute", fn, *args)

async def main():
    MainThreadGarbageCollector(QApplication.instance())  # as app.py: collections on the GUI thread only
    gc.freeze()  # as app.py once started: start-up objects out of the collector's way
    ctx = Context(Database.open(sys.argv[1]))
    vm = HistoryViewModel(ctx)
    start = time.perf_counter()
    panel = HistoryPanel(vm, ImportViewModel(ctx, vm))
    panel.resize(1200, 420)
    panel.show()
    while panel.shown_snapshot is None:
        await asyncio.sleep(0.005)
    panel.lots.flush(); panel.cycles.flush()
    panel.grab()
    print("DOCK_OPEN", time.perf_counter() - start, panel.shown_snapshot.events, panel.lots.rowCount(),
          int(ctx.history.from_stored))
    ctx.executors.shutdown()

app = QApplication([])
qasync.run(main())
"""


def _dock_open(db_file: Path, n: int, *extra: str) -> tuple[float, str]:
    """(seconds, note) of one dock open in a fresh offscreen process; NaN and the error when it failed."""
    import os
    import subprocess
    import sys

    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "MAGNUS_DESKTOP_HOME": str(db_file.parent / "home")}
    proc = subprocess.run([sys.executable, "-c", _DOCK_SCRIPT, f"sqlite:///{db_file}", *extra], env=env, cwd=ROOT,
                          capture_output=True, text=True, timeout=300)
    line = next((ln for ln in proc.stdout.splitlines() if ln.startswith("DOCK_OPEN ")), None)
    if proc.returncode != 0 or line is None:
        return float("nan"), f"exit {proc.returncode}: {proc.stderr[-300:]}"
    _, seconds, events, lots, from_stored = line.split()
    source = "the stored snapshot read" if from_stored == "1" else "computed from the events"
    return float(seconds), f"{int(events):,} events stored ({n:,} imported rows), {int(lots):,} closed lots shown, {source}"


def _best(runs: list[tuple[float, str]]) -> tuple[float, str]:
    """The fastest run that worked, else the first failure (NaN and its error)."""
    worked = [r for r in runs if r[0] == r[0]]
    return min(worked) if worked else runs[0]


def _dock_rows(db_file: Path, n: int, quick: bool) -> list[Result]:
    """The first dock open after the import command (best of 2 fresh processes, 1 with ``quick``)
    and, interleaved in the same run, the same open computing from the events (the stored snapshot
    ignored) and the same open with garbage collection going on while the history loads."""
    runs: dict[str, list[tuple[float, str]]] = {"stored": [], "computed": [], "unpaused": []}
    for _ in range(1 if quick else 2):
        runs["stored"].append(_dock_open(db_file, n))
        runs["computed"].append(_dock_open(db_file, n, "computed"))
        runs["unpaused"].append(_dock_open(db_file, n, "unpaused"))
    ours, note = _best(runs["stored"])
    computed, computed_note = _best(runs["computed"])
    unpaused, _note = _best(runs["unpaused"])
    return [Result("history.dock open", "time", ours, "s", target=DOCK_TARGET_S, direction="max_value",
                   note=f"{note}; first open in a fresh process after magnus-desktop import; best of "
                        f"{len(runs['stored'])} fresh processes"),
            Result("history.dock open, computed from the events", "time", computed, "s", reference="ours (row above)",
                   ratio=computed / ours, note=f"the same open without the stored snapshot (as before it: read "
                   f"the events, FIFO + wheel + month bars, then the result is written back), same run, "
                   f"interleaved; {computed_note.split(', ')[-1]}; ratio = this / ours"),
            Result("history.dock open, collections not paused", "time", unpaused, "s", reference="ours (row above)",
                   ratio=unpaused / ours, note="the same open with the GUI-thread collector running while the "
                   "history loads (no gc_guard.paused), same run, interleaved; ratio = this / ours")]


def _history_load(db_file: Path, n: int, quick: bool) -> list[Result]:
    """The dock's off-GUI work on the stored history (read + FIFO + wheel), after and before the speed
    work, in this process, interleaved: today's ``load_snapshot`` (``PositionEvent`` tuples, the
    streamlined FIFO) against whole ``HistoryEvent`` values through the FIFO of the baseline."""
    from operator import attrgetter

    from benchmarks.baseline import baseline_module, label
    from benchmarks.common import best_interleaved
    from magnus_desktop.analytics.wheel import wheel_cycles
    from magnus_desktop.services.history import load_snapshot, store
    from magnus_desktop.services.imports import load_position_events
    from magnus_desktop.services.storage import Database

    old = baseline_module("magnus_desktop/analytics/realized.py")
    db = Database.open(f"sqlite:///{db_file}")
    try:
        def before():  # type: ignore[no-untyped-def]
            _stored, events = load_position_events(db)
            report = old.realized_pnl(events)  # type: ignore[union-attr]
            matches = sorted(report.matches, key=attrgetter("closed_at"), reverse=True)
            return matches, report.positions, report.months, wheel_cycles(events), sorted({e.account for e in events})

        def stored():  # type: ignore[no-untyped-def]
            version, payload = store.read_stored(db)
            return None if payload is None else store.decode(payload, version)

        fns = {"ours": lambda: load_snapshot(db), "stored": stored}
        if old is not None:
            fns["before"] = before
        best = best_interleaved(fns, repeat=1 if quick else 3, warmup=0)
        snap = load_snapshot(db)
        wall, cpu = best["ours"]
        rows = [Result("history.load (read + FIFO + wheel)", "time", wall, "s",
                       note=f"{snap.events:,} events, {len(snap.matches):,} closed lots; CPU {cpu:.2f} s; the dock's "
                            "work off the GUI thread (db + compute executors) when no stored snapshot is current")]
        if old is not None:
            matches, positions, months, cycles, _accounts = before()
            same = (repr(matches), repr(positions), repr(months), repr(cycles)) == (
                repr(snap.matches), repr(snap.positions), repr(snap.months), repr(snap.cycles))
            b_wall, b_cpu = best["before"]
            rows.append(Result(f"history.load {label()}", "time", b_wall, "s", reference="ours (row above)",
                               ratio=b_wall / wall, note=f"whole HistoryEvent rows + the FIFO before the speed work, "
                               f"same run: CPU {b_cpu:.2f} s; ratio = before / ours; results "
                               f"{'identical' if same else 'DIFFER'}"))
        s_wall, s_cpu = best["stored"]
        rows.append(Result("history.load from the stored snapshot", "time", s_wall, "s", reference="history.load (read + FIFO + wheel)",
                           ratio=wall / s_wall, note=f"version check + read of the stored row + decode, CPU "
                           f"{s_cpu:.2f} s, same run, interleaved; ratio = that / this; snapshots "
                           f"{'identical' if stored() == snap else 'DIFFER'}"))
        return rows
    finally:
        db.close()


def run(quick: bool = False) -> list[Result]:
    n = 20_000 if quick else 100_000
    results: list[Result] = []
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        results += _measure("ibkr-flex", synthetic_flex(n, tmp / "flex.xml"), n, tmp, 1 if quick else 2)
        results += _dock_rows(tmp / "ibkr-flex.sqlite3", n, quick)
        results += _history_load(tmp / "ibkr-flex.sqlite3", n, quick)
        if RH.is_file():
            results += _measure("robinhood-csv", synthetic_robinhood(n, tmp / "rh.csv"), n, tmp, 1 if quick else 2)
        else:
            results.append(Result("imports.robinhood-csv into SQLite", "rows/s", float("nan"), "rows/s",
                                  note=f"{RH} absent (test-only data)"))
    return results


if __name__ == "__main__":
    import sys

    sys.path.insert(0, str(ROOT))
    from benchmarks.common import format_table

    print(format_table(run(quick="--quick" in sys.argv)))
