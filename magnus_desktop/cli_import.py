"""``magnus-desktop import FILE``: bring a broker statement into the trade history.

Kinds: ``ibkr-flex`` (IBKR Flex Query XML: Trades, OpenPositions, CashTransactions, CashReport,
StmtFunds) and ``robinhood-csv`` (Robinhood account-activity CSV); detected when ``--kind`` is
left out. One file is one transaction: all of it is stored or nothing. Events already stored for
the account (broker id or content hash) are skipped and counted as duplicates.

Output (``--format json``)::

    {"file", "kind", "account", "dry_run", "rows_imported", "duplicates", "positions_imported",
     "by_kind": {kind: n}, "skipped": [{"line", "reason"}],
     "reconciliation": [{"currency", "source", "statement_balance", "computed_balance", "difference"}],
     "realized": {"lot_method": "FIFO", "positions": [...], "months": [...]}}

Amounts are in each row's currency. ``realized`` covers the events of this file only. After the
import the trade-history dock's snapshot of the whole history is computed and stored
(``services.history.store.update_stored``), so the app's first open of the dock reads it.

Exit codes: 0 = imported and every stated balance reconciles within 0.01; 3 = imported (or dry
run) but a balance differs by more than 0.01; 2 = bad input (one line on stderr naming file and
line; nothing stored); 1 = the database refused the write (nothing stored).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from magnus_desktop.services.imports import ImportReport

EXIT_OK = 0
EXIT_DB = 1
EXIT_USAGE = 2
EXIT_UNRECONCILED = 3
PROG = "magnus-desktop import"


def add_import_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Register the ``import`` sub-command on an ``argparse`` subparsers object."""
    p: argparse.ArgumentParser = subparsers.add_parser(
        "import", help="import an IBKR Flex XML or Robinhood activity CSV into the trade history",
        description="Import a broker statement into the trade history, reconcile its cash balances "
        "and show the realized P&L (FIFO). One file is one transaction; repeated events are skipped.",
        epilog="Exit codes: 0 = stored and reconciled (every |difference| <= 0.01); 3 = a stated "
        "balance differs; 2 = bad input (nothing stored); 1 = database error (nothing stored).",
    )
    p.add_argument("file", metavar="FILE", help="the statement file")
    p.add_argument("--kind", choices=("ibkr-flex", "robinhood-csv"), help="file kind (default: detected)")
    p.add_argument("--account", metavar="NAME",
                   help="account name for the rows (default: the statement's account id; 'robinhood')")
    p.add_argument("--dry-run", action="store_true", help="parse, reconcile and report; store nothing")
    p.add_argument("--format", choices=("table", "json"), default="table", help="output format (default table)")
    p.add_argument("--db-url", dest="import_db_url", metavar="URL",
                   help="SQLAlchemy URL (default: the app's SQLite file in the user data dir)")
    return p


def run_import(args: argparse.Namespace) -> int:
    """Run the import described by ``args``; print the report on stdout. Returns the exit code."""
    from magnus_desktop.services.imports import ImportFormatError, import_file
    from magnus_desktop.services.storage import Database, StorageError

    db = None
    try:
        if not args.dry_run:
            db = Database.open(getattr(args, "import_db_url", None) or getattr(args, "db_url", None))
        report = import_file(db, args.file, args.kind, args.account, dry_run=args.dry_run)
        if db is not None:  # the statement's starting cash: the Performance dock's starting capital
            from magnus_desktop.services.performance.service import statement_cash_rows, store_statement_cash

            store_statement_cash(db, statement_cash_rows(report))
            # the trade-history dock's snapshot, stored now so the app's first open of the dock reads it
            # instead of recomputing the FIFO over every event (a failure only logs: the dock computes)
            from magnus_desktop.services.history.store import update_stored

            update_stored(db, report)
    except ImportFormatError as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except StorageError as exc:
        print(f"{PROG}: database error: {exc}", file=sys.stderr)
        return EXIT_DB
    finally:
        if db is not None:
            db.close()
    text = json.dumps(report_document(report), indent=1) + "\n" if args.format == "json" else format_table(report)
    try:
        sys.stdout.write(text)
        sys.stdout.flush()
    except BrokenPipeError:
        sys.stdout = open(os.devnull, "w")
    return EXIT_OK if report.reconciled else EXIT_UNRECONCILED


def report_document(report: ImportReport) -> dict[str, Any]:
    """The JSON object described in the module docstring."""
    r = report.realized
    return {
        "file": str(report.path), "kind": report.kind, "account": report.account, "dry_run": report.dry_run,
        "rows_imported": report.rows_imported, "duplicates": report.duplicates,
        "positions_imported": report.positions_imported, "by_kind": report.by_kind,
        "skipped": [s.as_dict() for s in report.skipped],
        "reconciliation": [row.as_dict() for row in report.reconciliation],
        "realized": {
            "lot_method": r.lot_method,
            "positions": [{"account": p.account, "contract": p.contract_key, "symbol": p.symbol,
                           "currency": p.currency, "realized": round(p.realized, 6), "closed_qty": p.closed_qty,
                           "open_qty": p.open_qty, "unmatched_qty": p.unmatched_qty, "lot_method": p.lot_method}
                          for p in r.positions],
            "months": [{"month": m.month, "currency": m.currency, "realized": round(m.realized, 6),
                        "realized_base": round(m.realized_base, 6)} for m in r.months],
        },
    }


def _table(head: tuple[str, ...], rows: list[tuple[str, ...]]) -> list[str]:
    widths = [max(len(str(row[i])) for row in [head, *rows]) for i in range(len(head))]
    out = ["  ".join(str(c).ljust(w) for c, w in zip(head, widths, strict=True)).rstrip(),
           "  ".join("-" * w for w in widths)]
    out += ["  ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in rows]
    return out


def format_table(report: ImportReport) -> str:
    """Plain-text report: counts, skipped lines, reconciliation, realized P&L per position and month."""
    verb = "would import" if report.dry_run else "imported"
    kinds = ", ".join(f"{k} {n}" for k, n in report.by_kind.items()) or "nothing new"
    lines = [f"{report.path.name} ({report.kind}, account {report.account}): {verb} {report.rows_imported} "
             f"rows ({kinds}); {report.duplicates} duplicates skipped; "
             f"{report.positions_imported} open positions"]
    if report.skipped:
        lines += ["", f"skipped lines ({len(report.skipped)}):"]
        lines += [f"  line {s.line}: {s.reason}" for s in report.skipped]
    if report.reconciliation:
        lines += ["", "reconciliation (stated vs computed from imported movements):"]
        lines += _table(("currency", "source", "statement", "computed", "difference", "ok"),
                        [(r.currency, r.source, f"{r.statement_balance:,.2f}", f"{r.computed_balance:,.2f}",
                          f"{round(r.difference, 2) + 0.0:+,.2f}", "yes" if r.ok else "NO") for r in report.reconciliation])
    r = report.realized
    closed = [p for p in r.positions if p.closed_qty or p.unmatched_qty]
    lines += ["", f"realized P&L per position (lot method {r.lot_method}; this file's events):"]
    lines += _table(("contract", "currency", "realized", "closed", "open", "unmatched"),
                    [(p.contract_key, p.currency, f"{p.realized:,.2f}", f"{p.closed_qty:g}", f"{p.open_qty:g}",
                      f"{p.unmatched_qty:g}") for p in closed] or [("(no closed position)", "", "", "", "", "")])
    lines += ["", f"realized P&L per month ({r.lot_method}):"]
    lines += _table(("month", "currency", "realized", "in base"),
                    [(m.month, m.currency, f"{m.realized:,.2f}", f"{m.realized_base:,.2f}") for m in r.months]
                    or [("(none)", "", "", "")])
    return "\n".join(lines) + "\n"
