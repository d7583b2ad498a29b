"""Offline replay market data: real recorded chains and daily bars bundled in ``resources/data``.

Synchronous and pure data (no Qt, no network): callers run it off the GUI thread. Each file is
read once, lazily, on first use and kept in memory; loading is guarded by a lock so concurrent
first calls from worker threads read a file only once.

Sources (see ``resources/data/LICENSES.md``):

- ``SPX``/``SPXW`` options: the optopsy SPXW chain (EOD quotes 2018-01-02..2018-02-28). Its quote
  dates are the replay calendar; ``SPX`` bars are its ``underlying_last`` per day (close only).
- ``SPY``: the pandas-ta file (unadjusted, 1999-11-01..2020-08-28) for *all* dates. The
  mplfinance/Yahoo SPY file overlaps it on 2008-2017 with small vendor revisions (max |close
  diff| 0.37); it ends before the replay window, so it is not used: one vendor per series,
  never spliced.
- ``AAPL``, ``GOOG``: mplfinance/Yahoo (end 2018-01-19; quotes from 2018-01-22 on are ``stale``);
  ``Close`` is used, ``Adj Close`` ignored.
- ``VIX``: datahub/CBOE daily (no volume → NaN). Rows with ``low > min(open, close)`` are real
  quirks of the source and are kept as recorded.
"""

from __future__ import annotations

import json
import math
import threading
from bisect import bisect_right
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

from magnus_desktop.models.domain import CHAIN_COLUMNS, OptionContract, Quote
from magnus_desktop.models.market import OptionQuote
from magnus_desktop.services.market.chains import ChainFormatError, chain_for_date, load_chain, quote_dates
from magnus_desktop.services.paths import DATA_RESOURCES_DIR

__all__ = [
    "BAR_COLUMNS",
    "BUNDLED_BAR_FILES",
    "BUNDLED_CHAIN_FILE",
    "MarketDataError",
    "NotAReplayDayError",
    "ReplayMarketData",
    "UnknownSymbolError",
    "close_of_day",
    "normalize_symbol",
]

BAR_COLUMNS: tuple[str, ...] = ("open", "high", "low", "close", "volume")
BUNDLED_CHAIN_FILE = "options_chains/optopsy_SPXW_2018_monthlies.csv"
BUNDLED_BAR_FILES: Mapping[str, str] = {
    "SPY": "ohlcv/pandas-ta_SPY_D_1999-2020.csv",
    "AAPL": "ohlcv/mplfinance_yahoo_AAPL_2004-2018.csv",
    "GOOG": "ohlcv/mplfinance_yahoo_GOOG_2004-2018.csv",
    "VIX": "ohlcv/datahub_vix-daily_1990-2026.csv",
}
#: Symbol served from the option chain's underlying price rather than a bar file.
CHAIN_INDEX_SYMBOL = "SPX"
_ALIASES = {"^VIX": "VIX", "^SPX": "SPX", "^GSPC": "SPX", "SPXW": "SPX"}
NEW_YORK = ZoneInfo("America/New_York")
_CLOSE = time(16, 0)
_UTC = ZoneInfo("UTC")
_NAN5 = (math.nan, math.nan, math.nan, math.nan, math.nan)
#: Option roots whose underlying is the chain's index level.
_CHAIN_ROOTS = frozenset({"SPX", "SPXW"})


@lru_cache(maxsize=4096)
def close_of_day(day: date) -> datetime:
    """The US cash close of ``day`` (16:00 America/New_York) as a UTC ``datetime``: the ``as_of``
    of every end-of-day value the replay serves."""
    return datetime.combine(day, _CLOSE, tzinfo=NEW_YORK).astimezone(_UTC)


class MarketDataError(RuntimeError):
    """A market-data resource is missing or malformed, or a request cannot be served."""


class _MissingKeyError(MarketDataError, KeyError):
    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


class UnknownSymbolError(_MissingKeyError):
    """The replay data has no series for this symbol."""


class NotAReplayDayError(_MissingKeyError):
    """The day is not a quote date of the recorded chain."""


def normalize_symbol(symbol: str) -> str:
    """Canonical replay symbol: upper case, exchange prefix dropped, aliases resolved.

    ``"NASDAQ:aapl"`` → ``"AAPL"``, ``"TVC:VIX"``/``"^VIX"`` → ``"VIX"``, ``"SP:SPX"`` → ``"SPX"``.
    """
    bare = symbol.strip().upper().rpartition(":")[2].strip()
    return _ALIASES.get(bare, bare)


@dataclass(frozen=True, slots=True)
class _ChainCache:
    frame: pd.DataFrame
    days: list[date]
    by_day: dict[date, pd.DataFrame]
    und: dict[date, float]
    #: (underlying, quote day, expiry, strike, right) -> (bid, ask, last, volume, open_interest)
    quotes: dict[tuple[str, date, date, float, str], tuple[float, float, float, float, float]]


def _read_bar_file(path: Path) -> pd.DataFrame:
    """Read a daily OHLC(V) CSV (Yahoo, pandas-ta or CBOE/datahub layout) into ``BAR_COLUMNS``.

    Raises:
        MarketDataError: missing/unreadable file, missing columns, bad dates or closes, duplicates.
    """
    try:
        raw = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except FileNotFoundError as exc:
        raise MarketDataError(f"{path}: bar file not found") from exc
    except (OSError, ValueError, UnicodeDecodeError, pd.errors.ParserError) as exc:
        raise MarketDataError(f"{path}: not a readable CSV ({exc})") from exc
    raw.columns = [str(c).strip().lower() for c in raw.columns]
    missing = [c for c in ("date", "open", "high", "low", "close") if c not in raw.columns]
    if missing:
        raise MarketDataError(f"{path}: not a daily bar file, missing columns: {', '.join(missing)}")
    if raw.empty:
        raise MarketDataError(f"{path}: no data rows below the header")
    days = pd.to_datetime(raw["date"].str.strip(), format="%Y-%m-%d", errors="coerce")
    out = pd.DataFrame(index=pd.DatetimeIndex(days, name="date"))
    for col in BAR_COLUMNS:
        values = raw[col] if col in raw.columns else pd.Series(np.nan, index=raw.index)
        out[col] = pd.to_numeric(values, errors="coerce").astype("float64").to_numpy()
    _check_bars(out, raw, path)
    return out.sort_index()


def _check_bars(out: pd.DataFrame, raw: pd.DataFrame, path: Path) -> None:
    bad_day = np.flatnonzero(out.index.isna())
    if bad_day.size:
        raise MarketDataError(f"{path}: bad date at line {bad_day[0] + 2} ({raw['date'].iloc[bad_day[0]]!r})")
    close = out["close"].to_numpy()
    bad_close = np.flatnonzero(~np.isfinite(close) | (close <= 0))
    if bad_close.size:
        line = bad_close[0]
        raise MarketDataError(f"{path}: bad close at line {line + 2} ({raw['close'].iloc[line]!r})")
    dup = out.index[out.index.duplicated()]
    if len(dup):
        raise MarketDataError(f"{path}: duplicate date {dup[0].date().isoformat()}")


class ReplayMarketData:
    """Quotes, bars and option chains replayed from recorded files.

    Args:
        chain_path: option-chain CSV (any layout ``services.market.chains.load_chain`` reads).
        bar_paths: symbol (canonical, e.g. ``"SPY"``) → daily bar CSV.
        provenance_path: ``provenance.json`` describing the files (optional).
    """

    def __init__(
        self,
        chain_path: str | Path,
        bar_paths: Mapping[str, str | Path],
        provenance_path: str | Path | None = None,
    ) -> None:
        self._chain_path = Path(chain_path)
        self._bar_paths = {normalize_symbol(s): Path(p) for s, p in bar_paths.items()}
        self._provenance_path = None if provenance_path is None else Path(provenance_path)
        self._lock = threading.RLock()
        self._chain: _ChainCache | None = None
        self._bars: dict[str, pd.DataFrame] = {}
        self._und_cache: dict[tuple[str, date], float] = {}
        self._provenance: dict[str, dict[str, str]] | None = None

    @classmethod
    def from_resources(cls, data_dir: str | Path = DATA_RESOURCES_DIR) -> ReplayMarketData:
        """The bundled real data (``resources/data``)."""
        root = Path(data_dir)
        bars = {sym: root / rel for sym, rel in BUNDLED_BAR_FILES.items()}
        return cls(root / BUNDLED_CHAIN_FILE, bars, root / "provenance.json")

    # ----------------------------------------------------------------- chain
    def _chain_cache(self) -> _ChainCache:
        with self._lock:
            if self._chain is None:
                self._chain = self._load_chain()
            return self._chain

    def _load_chain(self) -> _ChainCache:
        try:
            frame = load_chain(self._chain_path)
        except ChainFormatError as exc:
            raise MarketDataError(f"replay option chain unusable: {exc}") from exc
        days = quote_dates(frame)
        by_day = {d: chain_for_date(frame, d) for d in days}
        und = {d: float(part["und_price"].iloc[0]) for d, part in by_day.items()}
        keys = zip(
            frame["underlying"].str.upper(),
            frame["quote_date"].dt.date,
            frame["expiry"].dt.date,
            frame["strike"].astype(float),
            frame["right"],
            strict=True,
        )
        cols = frame[["bid", "ask", "last", "volume", "open_interest"]].astype(float).to_numpy()
        quotes = {k: (b, a, last, vol, oi) for k, (b, a, last, vol, oi) in zip(keys, cols.tolist(), strict=True)}
        return _ChainCache(frame, days, by_day, und, quotes)

    def trading_days(self) -> list[date]:
        """The replay calendar: sorted quote dates of the recorded chain."""
        return list(self._chain_cache().days)

    def chain(self, day: date) -> pd.DataFrame:
        """All option quotes recorded on ``day`` (a copy; ``CHAIN_COLUMNS``).

        Raises:
            NotAReplayDayError: ``day`` is not in ``trading_days()`` (message gives the range).
            MarketDataError: the chain file is missing or malformed.
        """
        cache = self._chain_cache()
        if day not in cache.by_day:
            raise NotAReplayDayError(
                f"{day.isoformat()} is not a replay day; recorded quote dates: "
                f"{cache.days[0].isoformat()} .. {cache.days[-1].isoformat()} ({len(cache.days)} days)"
            )
        return cache.by_day[day].loc[:, list(CHAIN_COLUMNS)].copy()

    def und_price(self, day: date) -> float:
        """SPX level (the chain's ``underlying_last``) on ``day``; NaN if ``day`` is not a replay day.

        The chain's index only: for any underlying use :meth:`underlying_price`.
        """
        return self._chain_cache().und.get(day, math.nan)

    def underlying_price(self, symbol: str, day: date) -> float:
        """Close of the underlying ``symbol`` on ``day``, USD per share (index points for SPX).

        ``SPX``/``SPXW`` (and aliases): the recorded chain's underlying price of that quote date.
        Any other symbol: the close of its recorded bar dated ``day`` (SPY, AAPL, GOOG, VIX).
        NaN when the symbol is unknown or its series has no bar that day (an older close is never
        passed off as ``day``'s: a settlement or a mark needs the day's own price).

        Raises:
            MarketDataError: the series' file or the replay chain is missing or malformed.
        """
        sym = normalize_symbol(symbol)
        if sym == CHAIN_INDEX_SYMBOL:
            return self._chain_cache().und.get(day, math.nan)
        key = (sym, day)
        cached = self._und_cache.get(key)
        if cached is not None:
            return cached
        try:
            df = self._series(sym)
        except UnknownSymbolError:
            return math.nan
        pos = int(df.index.searchsorted(pd.Timestamp(day), side="left"))
        found = pos < len(df) and df.index[pos].date() == day
        price = float(df["close"].iat[pos]) if found else math.nan
        self._und_cache[key] = price
        return price

    def option_quote(self, contract: OptionContract, day: date) -> OptionQuote:
        """Recorded end-of-day quote of one contract on ``day`` (USD per share), typed.

        ``bid``/``ask``/``last`` (and ``volume``/``open_interest``, contracts) are NaN when the
        contract is not quoted that day (or the source has no trade/offer). ``und_price`` is the
        contract's *own* underlying on ``day`` (:meth:`underlying_price`: the chain's SPX for
        SPX/SPXW, the recorded close for SPY/AAPL/GOOG), NaN when there is none. ``source`` is
        ``"replay"``, ``as_of`` the close of ``day`` (UTC); Greeks are NaN (the recording has none).
        Contracts are matched on their underlying exactly (case-insensitive; the chain's is ``"SPXW"``).
        """
        cache = self._chain_cache()
        root = contract.underlying.upper()
        bid, ask, last, volume, oi = cache.quotes.get((root, day, contract.expiry, float(contract.strike),
                                                       contract.right), _NAN5)
        und = cache.und.get(day, math.nan) if root in _CHAIN_ROOTS else self.underlying_price(root, day)
        return OptionQuote(contract, bid, ask, last, volume, oi, und, "replay", close_of_day(day))

    # ------------------------------------------------------------------ bars
    def known_symbols(self) -> set[str]:
        """Canonical symbols with recorded bars (``"SPX"`` included)."""
        return {*self._bar_paths, CHAIN_INDEX_SYMBOL}

    def _series(self, symbol: str) -> pd.DataFrame:
        sym = normalize_symbol(symbol)
        with self._lock:
            if sym not in self._bars:
                if sym == CHAIN_INDEX_SYMBOL:
                    self._bars[sym] = self._index_bars()
                elif sym in self._bar_paths:
                    self._bars[sym] = _read_bar_file(self._bar_paths[sym])
                else:
                    known = ", ".join(sorted(self.known_symbols()))
                    raise UnknownSymbolError(f"no recorded data for {symbol!r}; known symbols: {known}")
            return self._bars[sym]

    def _index_bars(self) -> pd.DataFrame:
        cache = self._chain_cache()
        index = pd.DatetimeIndex(pd.to_datetime(cache.days), name="date")
        out = pd.DataFrame(np.nan, index=index, columns=list(BAR_COLUMNS))
        out["close"] = [cache.und[d] for d in cache.days]
        return out

    def bars(self, symbol: str, start: date | None = None, end: date | None = None) -> pd.DataFrame:
        """Daily bars of ``symbol`` between ``start`` and ``end`` (inclusive; None = open end).

        Args:
            symbol: ``"SPY"``, ``"AAPL"``, ``"GOOG"``, ``"VIX"``, ``"SPX"``; case-insensitive,
                exchange prefixes (``"NASDAQ:AAPL"``) and ``"^VIX"`` accepted.
            start: first day wanted.
            end: last day wanted.

        Returns:
            A copy, ``DatetimeIndex`` named ``date`` (sorted), float64 columns ``BAR_COLUMNS``
            (USD per share; ``volume`` shares, NaN for VIX; SPX has only ``close``).

        Raises:
            UnknownSymbolError: no recorded series for ``symbol``.
            MarketDataError: the series' file is missing or malformed.
        """
        df = self._series(symbol)
        lo = None if start is None else pd.Timestamp(start)
        hi = None if end is None else pd.Timestamp(end)
        return df.loc[lo:hi].copy()

    def quote(self, symbol: str, day: date) -> Quote | None:
        """Quote from the last bar on or before ``day``.

        ``day``'s trading session is the latest replay-calendar day (``trading_days()``) on or
        before ``day`` when ``day`` lies within that calendar (so weekends and exchange holidays
        map to the session before); outside it, the latest weekday on or before ``day`` (holidays
        there are not known, so a quote asked on one reads stale).

        Returns:
            ``Quote`` with ``as_of`` = that bar's date, ``prev_close`` the bar before (NaN if
            none), ``stale`` when ``as_of`` is before ``day``'s trading session (the series has
            no bar for it: e.g. AAPL after 2018-01-19); None for an unknown symbol or a day
            before the series starts.

        Raises:
            MarketDataError: the series' file or the replay chain is missing or malformed.
        """
        try:
            df = self._series(symbol)
        except UnknownSymbolError:
            return None
        pos = int(df.index.searchsorted(pd.Timestamp(day), side="right")) - 1
        if pos < 0:
            return None
        as_of = df.index[pos].date()
        close = df["close"].to_numpy()
        calendar = self._chain_cache().days
        if calendar and calendar[0] <= day <= calendar[-1]:
            session = calendar[bisect_right(calendar, day) - 1]
        else:
            session = day - timedelta(days=max(0, day.weekday() - 4))  # Sat -> Fri, Sun -> Fri
        return Quote(
            symbol=normalize_symbol(symbol),
            as_of=as_of,
            last=float(close[pos]),
            prev_close=float(close[pos - 1]) if pos > 0 else math.nan,
            volume=float(df["volume"].iloc[pos]),
            stale=as_of < session,
        )

    # ------------------------------------------------------------ provenance
    def _source_path(self, symbol: str) -> Path:
        sym = normalize_symbol(symbol)
        if sym == CHAIN_INDEX_SYMBOL:
            return self._chain_path
        if sym in self._bar_paths:
            return self._bar_paths[sym]
        raise UnknownSymbolError(f"no recorded data for {symbol!r}")

    def _provenance_records(self) -> dict[str, dict[str, str]]:
        with self._lock:
            if self._provenance is None:
                self._provenance = _read_provenance(self._provenance_path)
            return self._provenance

    def provenance(self, symbol: str) -> str:
        """Where a symbol's replay data comes from, for tooltips.

        Returns:
            ``"<file> — <repo>@<commit7>:<path> (<licence>)"``, or the file name and
            ``"(no provenance record)"`` when ``provenance.json`` does not list it.

        Raises:
            UnknownSymbolError: no recorded series for ``symbol``.
            MarketDataError: ``provenance.json`` is missing or malformed.
        """
        path = self._source_path(symbol)
        records = self._provenance_records()
        rel = path.as_posix()
        if self._provenance_path is not None:
            root = self._provenance_path.parent
            rel = path.relative_to(root).as_posix() if path.is_relative_to(root) else path.name
        rec = records.get(rel)
        if rec is None:
            return f"{path.name} (no provenance record)"
        return f"{rec['file']} — {rec['repo']}@{rec['commit'][:7]}:{rec['path']} ({rec['license']})"


def _read_provenance(path: Path | None) -> dict[str, dict[str, str]]:
    """``provenance.json`` records keyed by their ``file`` (relative to the data folder)."""
    if path is None:
        return {}
    try:
        records = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise MarketDataError(f"{path}: provenance file not found") from exc
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise MarketDataError(f"{path}: not a readable provenance JSON ({exc})") from exc
    needed = ("file", "repo", "commit", "path", "license")
    if not isinstance(records, list) or not all(
        isinstance(r, dict) and all(isinstance(r.get(k), str) for k in needed) for r in records
    ):
        raise MarketDataError(f"{path}: expected a list of records with {', '.join(needed)}")
    return {r["file"]: r for r in records}
