"""Speed of ``magnus-desktop import`` (``services.imports.import_file``) into a fresh SQLite file.

Inputs are SYNTHETIC files built from REAL rows: the bundled IBKR Flex statement's 15 Trade rows
(tests/data, MIT) and the Robinhood activity CSV's data rows (``../shared/data``, test-only; the
Robinhood rows are skipped when that folder is absent) repeated to 100,000 rows (20,000 with
``--quick``). Flex rows get fresh ``transactionID``/``tradeID``; Robinhood rows have no id and get
unique content-hash keys from their occurrence number. Target: >= 50,000 rows/s end to end (read,
parse, validate, reconcile, FIFO realized P&L, duplicate check, bulk insert, commit). A parse-only
row is printed for information.
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


def _measure(name: str, path: Path, n: int, tmp: Path) -> list[Result]:
    from magnus_desktop.services.imports import import_file, parse_file
    from magnus_desktop.services.storage import Database

    start = time.perf_counter()
    parsed = parse_file(path)
    parse_s = time.perf_counter() - start
    db = Database.open(f"sqlite:///{tmp / (name + '.sqlite3')}")
    try:
        start = time.perf_counter()
        report = import_file(db, path)
        total_s = time.perf_counter() - start
    finally:
        db.close()
    assert report.rows_imported == len(parsed.events) == n, (report.rows_imported, n)
    size = f"{n:,} rows, {path.stat().st_size / 1e6:.0f} MB"
    return [
        Result(f"imports.{name} parse only", "rows/s", n / parse_s, "rows/s", note=size),
        Result(f"imports.{name} into SQLite", "rows/s", n / total_s, "rows/s", target=TARGET,
               direction="min_value", note=f"{size}; {total_s:.2f} s end to end"),
    ]


def run(quick: bool = False) -> list[Result]:
    n = 20_000 if quick else 100_000
    results: list[Result] = []
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        results += _measure("ibkr-flex", synthetic_flex(n, tmp / "flex.xml"), n, tmp)
        if RH.is_file():
            results += _measure("robinhood-csv", synthetic_robinhood(n, tmp / "rh.csv"), n, tmp)
        else:
            results.append(Result("imports.robinhood-csv into SQLite", "rows/s", float("nan"), "rows/s",
                                  note=f"{RH} absent (test-only data)"))
    return results


if __name__ == "__main__":
    import sys

    sys.path.insert(0, str(ROOT))
    from benchmarks.common import format_table

    print(format_table(run(quick="--quick" in sys.argv)))
