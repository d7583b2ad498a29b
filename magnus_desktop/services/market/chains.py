"""Option-chain CSV loaders: recorded end-of-day chains → one canonical ``DataFrame``.

Every loader returns exactly :data:`~magnus_desktop.models.domain.CHAIN_COLUMNS`:

- ``underlying`` (str), ``right`` (``"C"``/``"P"``);
- ``quote_date``, ``expiry``: ``datetime64``, normalised to the day;
- ``und_price``, ``strike``, ``bid``, ``ask``, ``last``: float64 USD per share;
- ``volume``, ``open_interest``: float64 counts (NaN when the source has none).

The layout is recognised from the header (names compared after stripping blanks and a UTF-8
BOM) and each layout maps its columns explicitly (:data:`LAYOUTS`):

- ``optopsy`` — optopsy/SPXW exports (``underlying_last``, ``quotedate``, ``type`` call/put,
  dates ``MM/DD/YYYY``);
- ``historicaloptiondata`` — ``UnderlyingSymbol``, ``UnderlyingPrice``, ``DataDate``, ``Type``…;
- ``cboe_eod`` — CBOE DataShop "Option EOD Summary": ``root`` is the underlying, ``bid_eod``/
  ``ask_eod`` the quote, ``close`` the last trade, ``und_price`` the mid of
  ``underlying_bid_eod``/``underlying_ask_eod``;
- ``yfinance`` — yfinance screener snapshots (``date``, ``ticker``, ``spot``, ``type`` C/P…; no
  last trade, so ``last`` is NaN).

Cleaning rules (the same for every layout):

- ``last`` = 0 and ``ask`` = 0 become NaN (no trade / no offer is a missing price, never 0);
  a zero ``bid`` is kept: "nobody bids" is real market information. An empty or non-numeric
  ``bid``, ``ask``, ``last``, ``volume`` or ``open_interest`` cell is a missing value (NaN).
- A bad or empty ``quote_date``, ``expiry``, ``right`` or ``underlying`` means the file is not in
  the layout it claims: :class:`ChainFormatError` names the file, the column and the first
  offending lines.
- Rows with impossible values are skipped and counted per reason (:data:`SKIP_REASONS`, checked
  in that order, each row counted once): strike or underlying price missing, not a number,
  infinite or <= 0; expiry before the quote date; an infinite bid/ask/last; a negative
  bid/ask/last; bid > ask.
- Duplicates: a row repeating the contract (underlying, quote_date, expiry, strike, right) of an
  earlier valid row is dropped, the first one kept, and counted (``differing`` counts those whose
  prices or counts differ from the earlier copy).
- Blank lines are ignored. Line numbers in messages and reports are file lines (1-based, the
  header is line 1), as an editor shows them, assuming no line breaks inside quoted cells.
- A file whose rows are all skipped raises :class:`ChainFormatError` ("no valid rows").

:func:`read_chain` returns the frame with its :class:`ChainReport`; :func:`load_chain` returns the
frame and logs the report as a warning.
"""

from __future__ import annotations

import csv
import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

import numpy as np
import pandas as pd

from magnus_desktop.models.domain import CHAIN_COLUMNS

log = logging.getLogger(__name__)

#: How many line numbers a report keeps per reason (the first ones in the file).
REPORT_LINES = 10

#: Skip reasons, stable code → what is wrong; a row is counted under the first that applies.
SKIP_REASONS: dict[str, str] = {
    "bad_strike": "strike missing, not a number, infinite or <= 0",
    "bad_und_price": "underlying price missing, not a number, infinite or <= 0",
    "expiry_before_quote_date": "expiry before quote_date",
    "infinite_price": "bid, ask or last infinite",
    "negative_price": "bid, ask or last negative",
    "bid_above_ask": "bid > ask",
}

#: The columns that identify one contract quote; a second row with the same values is a duplicate.
CONTRACT_KEY: tuple[str, ...] = ("underlying", "quote_date", "expiry", "strike", "right")


class ChainFormatError(ValueError):
    """A chain file cannot be read as an option chain (layout, encoding or values)."""


class QuoteDateNotFoundError(ChainFormatError, KeyError):
    """The requested quote date is not in the chain; the message lists the available range."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


@dataclass(frozen=True, slots=True)
class ChainLayout:
    """One vendor CSV layout.

    Attributes:
        name: short label used in messages.
        columns: source column (stripped) → canonical column.
        date_format: ``strptime`` format of ``quote_date`` and ``expiry``.
        und_mid: source (bid, ask) columns whose mid is ``und_price`` (layouts without a last).
    """

    name: str
    columns: Mapping[str, str]
    date_format: str
    und_mid: tuple[str, str] | None = None

    @property
    def source_columns(self) -> tuple[str, ...]:
        return (*self.columns, *(self.und_mid or ()))


LAYOUTS: tuple[ChainLayout, ...] = (
    ChainLayout(
        "optopsy",
        {"underlying": "underlying", "underlying_last": "und_price", "quotedate": "quote_date",
         "expiration": "expiry", "strike": "strike", "type": "right", "bid": "bid", "ask": "ask",
         "last": "last", "volume": "volume", "openinterest": "open_interest"},
        "%m/%d/%Y",
    ),
    ChainLayout(
        "historicaloptiondata",
        {"UnderlyingSymbol": "underlying", "UnderlyingPrice": "und_price", "DataDate": "quote_date",
         "Expiration": "expiry", "Strike": "strike", "Type": "right", "Bid": "bid", "Ask": "ask",
         "Last": "last", "Volume": "volume", "OpenInterest": "open_interest"},
        "%m/%d/%Y",
    ),
    ChainLayout(
        "cboe_eod",
        {"root": "underlying", "quote_date": "quote_date", "expiration": "expiry", "strike": "strike",
         "option_type": "right", "bid_eod": "bid", "ask_eod": "ask", "close": "last",
         "trade_volume": "volume", "open_interest": "open_interest"},
        "%Y-%m-%d",
        und_mid=("underlying_bid_eod", "underlying_ask_eod"),
    ),
    ChainLayout(
        "yfinance",
        {"ticker": "underlying", "date": "quote_date", "spot": "und_price", "expiry": "expiry",
         "strike": "strike", "type": "right", "bid": "bid", "ask": "ask", "volume": "volume",
         "open_interest": "open_interest"},
        "%Y-%m-%d",
    ),
)


@dataclass(frozen=True, slots=True)
class SkippedRows:
    """Rows of one file dropped for one reason.

    Attributes:
        reason: stable code, a key of :data:`SKIP_REASONS`.
        count: number of rows.
        lines: the first (at most :data:`REPORT_LINES`) file line numbers, header = line 1.
    """

    reason: str
    count: int
    lines: tuple[int, ...]

    @property
    def message(self) -> str:
        """What is wrong with these rows, in words."""
        return SKIP_REASONS[self.reason]

    def as_dict(self) -> dict[str, object]:
        return {"reason": self.reason, "message": self.message, "count": self.count, "lines": list(self.lines)}


@dataclass(frozen=True, slots=True)
class DuplicateRows:
    """Rows dropped because an earlier row quotes the same contract (:data:`CONTRACT_KEY`).

    Attributes:
        count: rows dropped (the first row of each contract is kept).
        differing: of those, rows whose other values differ from the kept row.
        lines: the first (at most :data:`REPORT_LINES`) dropped file lines, header = line 1.
    """

    count: int = 0
    differing: int = 0
    lines: tuple[int, ...] = ()

    def as_dict(self) -> dict[str, object]:
        return {"count": self.count, "differing": self.differing, "lines": list(self.lines)}


@dataclass(frozen=True, slots=True)
class ChainReport:
    """What loading a chain file dropped.

    Attributes:
        path: the file.
        rows_read: data rows in the file (blank lines not counted).
        skipped: one entry per reason that occurred, in :data:`SKIP_REASONS` order.
        duplicates: duplicate rows dropped.
    """

    path: Path
    rows_read: int
    skipped: tuple[SkippedRows, ...] = ()
    duplicates: DuplicateRows = field(default_factory=DuplicateRows)

    @property
    def rows_kept(self) -> int:
        return self.rows_read - sum(s.count for s in self.skipped) - self.duplicates.count

    def messages(self) -> list[str]:
        """One line per reason (empty when nothing was dropped), e.g. for stderr or a log."""
        out = [f"{self.path}: skipped {_rows(s.count)}, {s.message}: {_lines(s.lines, s.count)}"
               for s in self.skipped]
        d = self.duplicates
        if d.count:
            differing = f", {d.differing} of them with other values" if d.differing else ""
            out.append(f"{self.path}: dropped {_rows(d.count)} repeating an earlier row's contract "
                       f"({'/'.join(CONTRACT_KEY)}; first kept{differing}): {_lines(d.lines, d.count)}")
        return out


@dataclass(frozen=True, slots=True)
class LoadedChain:
    """A canonical chain frame (``CHAIN_COLUMNS``) and the report of what its file lost."""

    frame: pd.DataFrame
    report: ChainReport


def _rows(n: int) -> str:
    return f"{n} row" if n == 1 else f"{n} rows"


def _lines(lines: tuple[int, ...], count: int) -> str:
    word = "line" if len(lines) == 1 else "lines"
    more = f" and {count - len(lines)} more" if count > len(lines) else ""
    return f"{word} {', '.join(map(str, lines))}{more}"


#: a value with leading or trailing blanks, in the newline-joined values of a column (one C-level
#: search instead of a Python call per value: stripping every column cost ~40 % of a load)
_PADDED = re.compile(r"(?:^|\n)\s|\s(?:\n|$)")
_RIGHTS = {"c": "C", "call": "C", "p": "P", "put": "P"}
_OPTIONAL_NUMERIC = ("bid", "ask", "last", "volume", "open_interest")


def load_chain(path: str | Path) -> pd.DataFrame:
    """Load an option-chain CSV in any known layout; dropped rows are logged as a warning.

    Args:
        path: CSV file (optopsy, historicaloptiondata, CBOE DataShop EOD or yfinance layout).

    Returns:
        DataFrame with exactly ``CHAIN_COLUMNS`` (see module docstring), valid rows in file order.

    Raises:
        ChainFormatError: see :func:`read_chain`.
    """
    loaded = read_chain(path)
    for message in loaded.report.messages():
        log.warning("option chain %s", message)
    return loaded.frame


def read_chain(path: str | Path) -> LoadedChain:
    """Load an option-chain CSV and report the rows it skipped or de-duplicated.

    Args:
        path: CSV file (optopsy, historicaloptiondata, CBOE DataShop EOD or yfinance layout).

    Returns:
        The canonical frame (exactly ``CHAIN_COLUMNS``, valid rows in file order, index 0..n-1)
        and a :class:`ChainReport` (skip reasons and duplicates with file line numbers).

    Raises:
        ChainFormatError: missing/unreadable file, empty or binary content, unknown layout (the
            message names the closest layout and its missing columns), bad required values
            (the message names the column and the first offending file lines), or no valid row.
    """
    path = Path(path)
    header = _read_header(path)
    layout = detect_layout(header, path)
    raw, lines = _read_rows(path, layout)
    return _to_canonical(raw, lines, layout, path)


def detect_layout(header: list[str], path: str | Path = "<chain>") -> ChainLayout:
    """Pick the layout whose columns are all in ``header`` (names stripped of blanks/BOM).

    Raises:
        ChainFormatError: no layout matches; names the closest one and its missing columns.
    """
    names = {_clean(h) for h in header}
    missing = {lay.name: [c for c in lay.source_columns if c not in names] for lay in LAYOUTS}
    for lay in LAYOUTS:
        if not missing[lay.name]:
            return lay
    closest = min(LAYOUTS, key=lambda lay: len(missing[lay.name]) / len(lay.source_columns))
    raise ChainFormatError(
        f"{path}: not a known option-chain layout; closest is {closest.name!r}, "
        f"missing columns: {', '.join(missing[closest.name])}"
    )


def quote_dates(df: pd.DataFrame) -> list[date]:
    """Sorted distinct quote dates of a canonical chain."""
    days = np.unique(_days(df))
    return [d.item() for d in days if not np.isnat(d)]


def chain_for_date(df: pd.DataFrame, day: date | None = None) -> pd.DataFrame:
    """Rows of one quote date (all underlyings of that date).

    Args:
        df: canonical chain (``load_chain`` output).
        day: quote date (a ``datetime``/``Timestamp`` counts by its day); ``None`` = the latest.

    Returns:
        The matching rows, index reset.

    Raises:
        QuoteDateNotFoundError: ``day`` is not a quote date of ``df`` (message gives the range).
    """
    days = quote_dates(df)
    if not days:
        raise QuoteDateNotFoundError("the chain has no quote dates")
    wanted = days[-1] if day is None else day.date() if isinstance(day, datetime) else day
    if wanted not in days:
        raise QuoteDateNotFoundError(
            f"quote date {wanted.isoformat()} is not in the chain; available: "
            f"{days[0].isoformat()} .. {days[-1].isoformat()} ({len(days)} dates)"
        )
    return df.loc[_days(df) == np.datetime64(wanted, "D")].reset_index(drop=True)


def _days(df: pd.DataFrame) -> np.ndarray:
    return np.asarray(pd.to_datetime(df["quote_date"]).to_numpy(dtype="datetime64[D]"))


def _clean(name: str) -> str:
    return name.strip().lstrip("\ufeff").strip()


def _read_header(path: Path) -> list[str]:
    try:
        with path.open(encoding="utf-8-sig", newline="") as fh:
            sample = fh.read(65536)
    except FileNotFoundError as exc:
        raise ChainFormatError(f"{path}: file not found") from exc
    except UnicodeDecodeError as exc:
        raise ChainFormatError(f"{path}: not a text CSV file (binary or not UTF-8)") from exc
    except OSError as exc:
        raise ChainFormatError(f"{path}: cannot be read ({exc.strerror or exc})") from exc
    if "\x00" in sample:
        raise ChainFormatError(f"{path}: not a text CSV file (contains NUL bytes)")
    lines = sample.splitlines()
    if not lines or not lines[0].strip():
        raise ChainFormatError(f"{path}: empty file (no header line)")
    return next(csv.reader([lines[0]]))


def _read_rows(path: Path, layout: ChainLayout) -> tuple[pd.DataFrame, np.ndarray]:
    """The layout's columns as stripped text, blank rows dropped, and each row's file line."""
    wanted = set(layout.source_columns)
    try:
        raw = pd.read_csv(path, encoding="utf-8-sig", usecols=lambda c: _clean(c) in wanted,
                          dtype=str, keep_default_na=False, skip_blank_lines=False)
    except (ValueError, UnicodeDecodeError, pd.errors.ParserError) as exc:
        raise ChainFormatError(f"{path}: not a readable CSV ({exc})") from exc
    raw.columns = [_clean(c) for c in raw.columns]
    for name in raw.columns:  # strip only the columns that have padded values (most files have none)
        if _PADDED.search("\n".join(raw[name].tolist())):
            raw[name] = raw[name].str.strip()
    blank = raw.iloc[:, 0].eq("").to_numpy(copy=True)  # cheap first pass: a blank row is empty everywhere
    if blank.any():
        blank[blank] = raw.loc[blank].eq("").all(axis=1).to_numpy()
    lines = np.flatnonzero(~blank) + 2  # row 0 is line 2: the header is line 1
    if blank.any():
        raw = raw.loc[~blank].reset_index(drop=True)
    if raw.empty:
        raise ChainFormatError(f"{path}: no data rows below the header")
    return raw, lines


def _to_canonical(raw: pd.DataFrame, lines: np.ndarray, layout: ChainLayout, path: Path) -> LoadedChain:
    src = {canon: raw[col] for col, canon in layout.columns.items()}
    out = pd.DataFrame(index=raw.index)
    out["underlying"] = _required_text(src["underlying"], "underlying", lines, path)
    out["quote_date"] = _required_dates(src["quote_date"], layout.date_format, "quote_date", lines, path)
    if layout.und_mid:
        und_bid, und_ask = (_numbers(raw[c]) for c in layout.und_mid)
        out["und_price"] = (und_bid + und_ask) / 2.0
        und_ok = _positive(und_bid) & _positive(und_ask)
    else:
        out["und_price"] = _numbers(src["und_price"])
        und_ok = _positive(out["und_price"])
    out["expiry"] = _required_dates(src["expiry"], layout.date_format, "expiry", lines, path)
    out["strike"] = _numbers(src["strike"])
    out["right"] = _rights(src["right"], lines, path)
    for col in _OPTIONAL_NUMERIC:
        out[col] = _numbers(src[col]) if col in src else np.nan
    out.loc[out["last"] == 0, "last"] = np.nan
    out.loc[out["ask"] == 0, "ask"] = np.nan
    keep, skipped = _valid_rows(out, und_ok, lines)
    if not keep.any():
        counts = ", ".join(f"{s.count} {s.message}" for s in skipped)
        raise ChainFormatError(f"{path}: no valid rows: all {_rows(len(out))} skipped ({counts})")
    out, lines = out.loc[keep], lines[keep]
    duplicated = out.duplicated(list(CONTRACT_KEY)).to_numpy()
    duplicates = DuplicateRows()
    if duplicated.any():
        differing = int((duplicated & ~out.duplicated().to_numpy()).sum())
        dup_lines = lines[duplicated]
        duplicates = DuplicateRows(len(dup_lines), differing, tuple(dup_lines[:REPORT_LINES].tolist()))
        out = out.loc[~duplicated]
    report = ChainReport(path, len(raw), skipped, duplicates)
    return LoadedChain(out.loc[:, list(CHAIN_COLUMNS)].reset_index(drop=True), report)


def _valid_rows(out: pd.DataFrame, und_ok: np.ndarray, lines: np.ndarray) -> tuple[np.ndarray, tuple[SkippedRows, ...]]:
    """Keep mask and the skipped rows per reason (each row under the first reason that applies)."""
    prices = out[["bid", "ask", "last"]].to_numpy()
    bid, ask = prices[:, 0], prices[:, 1]
    with np.errstate(invalid="ignore"):
        checks = {
            "bad_strike": ~_positive(out["strike"]),
            "bad_und_price": ~und_ok,
            "expiry_before_quote_date": (out["expiry"] < out["quote_date"]).to_numpy(),
            "infinite_price": np.isinf(prices).any(axis=1),
            "negative_price": (prices < 0).any(axis=1),
            "bid_above_ask": bid > ask,
        }
    keep = np.ones(len(out), dtype=bool)
    skipped = []
    for reason, bad in checks.items():
        hit = bad & keep
        if hit.any():
            keep &= ~hit
            hit_lines = lines[hit]
            skipped.append(SkippedRows(reason, len(hit_lines), tuple(hit_lines[:REPORT_LINES].tolist())))
    return keep, tuple(skipped)


def _numbers(values: pd.Series) -> pd.Series:
    """Text → float64; empty or non-numeric cells become NaN."""
    return pd.to_numeric(values, errors="coerce").astype("float64")


def _positive(values: pd.Series) -> np.ndarray:
    v = np.asarray(values, dtype=float)
    with np.errstate(invalid="ignore"):
        return np.isfinite(v) & (v > 0)


def _bad_rows(mask: pd.Series | np.ndarray, values: pd.Series, column: str, lines: np.ndarray, path: Path) -> None:
    bad = np.flatnonzero(np.asarray(mask))
    if bad.size:
        shown = ", ".join(f"line {lines[i]} ({values.iloc[i]!r})" for i in bad[:3])
        more = f" and {bad.size - 3} more" if bad.size > 3 else ""
        raise ChainFormatError(f"{path}: bad {column} value at {shown}{more}")


def _required_text(values: pd.Series, column: str, lines: np.ndarray, path: Path) -> pd.Series:
    _bad_rows(values.eq("").to_numpy(), values, column, lines, path)
    return values.astype(str)


def _required_dates(values: pd.Series, fmt: str, column: str, lines: np.ndarray, path: Path) -> pd.Series:
    parsed = pd.to_datetime(values, format=fmt, errors="coerce")
    _bad_rows(parsed.isna().to_numpy(), values, column, lines, path)
    return parsed.dt.normalize()


def _rights(values: pd.Series, lines: np.ndarray, path: Path) -> pd.Series:
    mapped = values.str.lower().map(_RIGHTS)
    _bad_rows(mapped.isna().to_numpy(), values, "right (expected C/P or call/put)", lines, path)
    return mapped.astype(str)
