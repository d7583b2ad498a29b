"""Earnings dates of a symbol, and where they came from (no Qt).

Sources, first that knows the symbol wins:

1. the user's earnings file (*Settings → Research → Earnings file*): a CSV with a ``ticker``/``symbol``
   column and a ``date``/``dates``/``earnings_date`` column (YYYY-MM-DD), e.g. an export of a calendar;
2. Yahoo Finance (``YahooMarket.earnings_dates``) when *Quotes from Yahoo Finance* is on and reachable.

Offline with neither, the answer is an :class:`EarningsInfo` with ``status="no_source"`` and a sentence
saying so — never an empty "no earnings". (Tests also read the test-only file under
``/work/shared/data/earnings/``; it is never bundled.)
"""

from __future__ import annotations

import threading
from bisect import bisect_left
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Literal

from magnus_desktop.services.market.protocols import MarketDataError, NoData, SourceOffline, UnknownSymbol
from magnus_desktop.services.predictor.dataset import DatasetError, read_earnings_csv
from magnus_desktop.services.research.symbol import canonical_symbol

__all__ = ["EarningsFileError", "EarningsInfo", "EarningsSource", "EarningsStatus", "YahooEarnings"]

#: ok = dates known; not_listed = a source was asked and has none for the symbol;
#: no_source = offline with no earnings file; offline = Yahoo unreachable; error = the file is unusable
EarningsStatus = Literal["ok", "not_listed", "no_source", "offline", "error"]
#: fetches Yahoo's dates of a symbol (``YahooMarket.earnings_dates``)
YahooEarnings = Callable[[str], Awaitable[list[date]]]


class EarningsFileError(ValueError):
    """The earnings file is unreadable or has no usable row (the message names the file)."""


@dataclass(frozen=True, slots=True)
class EarningsInfo:
    """Known earnings dates of ``symbol`` (sorted, past and scheduled) and their ``source``.

    ``status`` says whether the dates can be trusted to be complete: only ``"ok"`` carries dates;
    ``message`` is the sentence a dock shows otherwise.
    """

    symbol: str
    status: EarningsStatus
    dates: tuple[date, ...] = ()
    source: str = ""
    message: str = ""

    def next_on_or_after(self, day: date) -> date | None:
        """The first report date on or after ``day`` (None if the source lists none after it)."""
        i = bisect_left(self.dates, day)
        return self.dates[i] if i < len(self.dates) else None

    def last_before(self, day: date) -> date | None:
        """The last report date strictly before ``day``."""
        i = bisect_left(self.dates, day)
        return self.dates[i - 1] if i > 0 else None

    def days_to_next(self, day: date) -> int | None:
        """Calendar days from ``day`` to the next report (0 = that day); None when unknown."""
        nxt = self.next_on_or_after(day)
        return (nxt - day).days if nxt is not None else None

    def as_dict(self, day: date) -> dict[str, object]:
        """JSON-ready summary as of ``day`` (dates ISO strings; ``next``/``days_to_next`` None if unknown)."""
        nxt, last = self.next_on_or_after(day), self.last_before(day)
        return {"status": self.status, "source": self.source, "message": self.message,
                "next": nxt.isoformat() if nxt else None, "days_to_next": self.days_to_next(day),
                "last": last.isoformat() if last else None}


class EarningsSource:
    """Looks up earnings dates: the user file, then Yahoo (when given). Thread-safe file cache.

    Args:
        file: the user's earnings CSV (None or "" = none).
        yahoo: a coroutine function returning Yahoo's dates, or None when Yahoo is off.
    """

    def __init__(self, file: str | Path | None = None, yahoo: YahooEarnings | None = None) -> None:
        self.file = Path(file).expanduser() if file else None
        self.yahoo = yahoo
        self._lock = threading.Lock()
        self._table: dict[str, list[date]] | None = None
        self._table_key: tuple[Path, float] | None = None

    def file_dates(self) -> dict[str, list[date]]:
        """The user file's dates per symbol (re-read when the file changes on disk); {} without a file.

        Raises:
            EarningsFileError: missing, unreadable, wrong columns or no usable row.
        """
        if self.file is None:
            return {}
        try:
            key = (self.file, self.file.stat().st_mtime)
        except OSError as exc:
            raise EarningsFileError(f"earnings file {self.file} cannot be read ({exc.strerror or exc})") from exc
        with self._lock:
            if self._table is None or self._table_key != key:
                try:
                    raw = read_earnings_csv(self.file)
                except DatasetError as exc:
                    raise EarningsFileError(str(exc)) from exc
                self._table = {canonical_key(k): sorted(set(v)) for k, v in raw.items()}
                self._table_key = key
            return self._table

    def lookup_file(self, symbol: str) -> EarningsInfo | None:
        """The file's answer for ``symbol`` (blocking: run it off the GUI thread); None when the file
        does not list the symbol or there is no file; an ``error`` info when the file is unusable."""
        sym = canonical_key(symbol)
        try:
            table = self.file_dates()
        except EarningsFileError as exc:
            return EarningsInfo(sym, "error", message=str(exc))
        days = table.get(sym)
        if not days:
            return None
        return EarningsInfo(sym, "ok", tuple(days), f"file {self.file.name}" if self.file else "file")

    def offline_answer(self, symbol: str) -> EarningsInfo:
        """What is known without the network (the file only), with the reason when nothing is."""
        sym = canonical_key(symbol)
        found = self.lookup_file(sym)
        if found is not None:
            return found
        if self.file is not None:
            return EarningsInfo(sym, "not_listed", source=f"file {self.file.name}",
                                message=f"{sym} is not in the earnings file {self.file.name}.")
        return EarningsInfo(sym, "no_source", message="No earnings source: set an earnings file in "
                                                      "Settings → Research, or turn on Quotes from Yahoo Finance.")

    async def lookup(self, symbol: str, run: Callable[..., Awaitable[EarningsInfo | None]] | None = None) -> EarningsInfo:
        """Earnings dates of ``symbol``: the file, then Yahoo.

        Args:
            run: runs the blocking file read off the loop (``ctx.run_compute``); None = inline.
        """
        sym = canonical_key(symbol)
        found = await run(self.lookup_file, sym) if run is not None else self.lookup_file(sym)
        if found is not None and found.status == "ok":
            return found
        if self.yahoo is None:
            return found if found is not None else self.offline_answer(sym)
        try:
            days = await self.yahoo(sym)
        except SourceOffline as exc:
            return EarningsInfo(sym, "offline", source="yfinance", message=str(exc))
        except (NoData, UnknownSymbol) as exc:
            return EarningsInfo(sym, "not_listed", source="yfinance", message=str(exc))
        except MarketDataError as exc:
            return EarningsInfo(sym, "error", source="yfinance", message=str(exc))
        return EarningsInfo(sym, "ok", tuple(sorted(set(days))), "yfinance")


def canonical_key(symbol: str) -> str:
    """Symbol as the earnings tables key it (upper case, exchange prefix dropped; ``BRK-B`` → ``BRK.B``)."""
    return canonical_symbol(symbol).replace("-", ".")
