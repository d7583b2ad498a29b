"""``magnus-desktop import``: JSON and table output, exit codes 0 / 2 / 3, dry run."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from magnus_desktop.cli import main
from magnus_desktop.services.imports import count_rows
from magnus_desktop.services.storage import Database

FLEX = Path(__file__).resolve().parents[1] / "data" / "ibkr_flex_TestForCoding_20181109.xml"


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["import", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_json_output_and_exit_0_when_reconciled(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    url = f"sqlite:///{tmp_path / 'h.sqlite3'}"
    code, out, _ = _run(capsys, str(FLEX), "--format", "json", "--db-url", url)
    doc = json.loads(out)
    n = FLEX.read_text().count("<Trade ")
    assert code == 0
    assert {"rows_imported", "by_kind", "skipped", "reconciliation"} <= set(doc)
    assert doc["rows_imported"] == n and doc["by_kind"] == {"trade": n}
    assert all(set(r) >= {"currency", "statement_balance", "computed_balance", "difference"}
               for r in doc["reconciliation"])
    assert all(abs(r["difference"]) <= 0.01 for r in doc["reconciliation"])
    assert doc["realized"]["lot_method"] == "FIFO"
    code, out, _ = _run(capsys, str(FLEX), "--format", "json", "--db-url", url)
    assert json.loads(out)["duplicates"] == n and code == 0


def test_table_output_shows_reconciliation_and_lot_method(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(capsys, str(FLEX), "--db-url", f"sqlite:///{tmp_path / 'h.sqlite3'}")
    assert code == 0
    assert "reconciliation" in out and "lot method FIFO" in out
    assert re.search(r"USD\s+CashReport\s+94,605\.73\s+94,605\.73\s+\+0\.00\s+yes", out)


def test_unreconciled_balance_exits_3(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = FLEX.read_text()
    ending = re.search(r'currency="USD" levelOfDetail="Currency".*?endingCash="([\d.]+)"', text)
    assert ending is not None
    changed = tmp_path / "off.xml"
    changed.write_text(text.replace(f'endingCash="{ending[1]}"', f'endingCash="{float(ending[1]) + 5:.7f}"', 1))
    code, out, _ = _run(capsys, str(changed), "--dry-run", "--format", "json")
    assert code == 3
    usd = next(r for r in json.loads(out)["reconciliation"] if r["currency"] == "USD")
    assert usd["difference"] == pytest.approx(-5.0)


def test_bad_input_exits_2_with_one_line_naming_file_and_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "cut.xml"
    bad.write_text(FLEX.read_text()[:5000])
    url = f"sqlite:///{tmp_path / 'h.sqlite3'}"
    code, out, err = _run(capsys, str(bad), "--kind", "ibkr-flex", "--db-url", url)
    assert code == 2 and out == ""
    assert len(err.strip().splitlines()) == 1
    assert re.search(r"cut\.xml, line \d+: malformed or truncated XML", err)
    db = Database.open(url)
    try:
        assert count_rows(db)["history_events"] == 0
    finally:
        db.close()


def test_dry_run_does_not_create_the_default_database(isolated_home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(capsys, str(FLEX), "--dry-run")
    assert code == 0 and "would import" in out
    assert not list(isolated_home.rglob("*.sqlite3"))


def test_default_database_is_the_app_sqlite_file(isolated_home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from magnus_desktop.services.paths import app_paths

    code, _, _ = _run(capsys, str(FLEX), "--format", "json")
    assert code == 0 and app_paths().default_db_file.is_file()
