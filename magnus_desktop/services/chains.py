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

- ``last`` <= 0 and ``ask`` <= 0 become NaN (no trade / no offer is a missing price, never 0);
  a zero ``bid`` is kept: "nobody bids" is real market information.
- A bad cell in an optional numeric column (``bid``, ``ask``, ``last``, ``volume``,
  ``open_interest``) is tolerated and becomes NaN; a bad or empty ``quote_date``, ``expiry``,
  ``right``, ``strike``, ``und_price`` or ``underlying`` raises :class:`ChainFormatError` naming
  the file, the column and the first offending lines.
"""

from __future__ import annotations

import csv
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import numpy as np
import pandas as pd

from magnus_desktop.models.domain import CHAIN_COLUMNS


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

_RIGHTS = {"c": "C", "call": "C", "p": "P", "put": "P"}
_OPTIONAL_NUMERIC = ("bid", "ask", "last", "volume", "open_interest")


def load_chain(path: str | Path) -> pd.DataFrame:
    """Load an option-chain CSV in any known layout.

    Args:
        path: CSV file (optopsy, historicaloptiondata, CBOE DataShop EOD or yfinance layout).

    Returns:
        DataFrame with exactly ``CHAIN_COLUMNS`` (see module docstring), in file order.

    Raises:
        ChainFormatError: missing/unreadable file, empty or binary content, unknown layout (the
            message names the closest layout and its missing columns), or bad required values
            (the message names the column and the first offending file lines).
    """
    path = Path(path)
    header = _read_header(path)
    layout = detect_layout(header, path)
    raw = _read_rows(path, layout)
    return _to_canonical(raw, layout, path)


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


def _read_rows(path: Path, layout: ChainLayout) -> pd.DataFrame:
    wanted = set(layout.source_columns)
    try:
        raw = pd.read_csv(path, encoding="utf-8-sig", usecols=lambda c: _clean(c) in wanted,
                          dtype=str, keep_default_na=False)
    except (ValueError, UnicodeDecodeError, pd.errors.ParserError) as exc:
        raise ChainFormatError(f"{path}: not a readable CSV ({exc})") from exc
    raw.columns = [_clean(c) for c in raw.columns]
    if raw.empty:
        raise ChainFormatError(f"{path}: no data rows below the header")
    return raw


def _to_canonical(raw: pd.DataFrame, layout: ChainLayout, path: Path) -> pd.DataFrame:
    src = {canon: raw[col].str.strip() for col, canon in layout.columns.items()}
    out = pd.DataFrame(index=raw.index)
    out["underlying"] = _required_text(src["underlying"], "underlying", path)
    out["quote_date"] = _required_dates(src["quote_date"], layout.date_format, "quote_date", path)
    if layout.und_mid:
        bid, ask = (_required_numbers(raw[c], c, path) for c in layout.und_mid)
        out["und_price"] = (bid + ask) / 2.0
    else:
        out["und_price"] = _required_numbers(src["und_price"], "und_price", path)
    out["expiry"] = _required_dates(src["expiry"], layout.date_format, "expiry", path)
    out["strike"] = _required_numbers(src["strike"], "strike", path)
    out["right"] = _rights(src["right"], path)
    for col in _OPTIONAL_NUMERIC:
        out[col] = pd.to_numeric(src[col], errors="coerce").astype("float64") if col in src else np.nan
    out.loc[out["last"] <= 0, "last"] = np.nan
    out.loc[out["ask"] <= 0, "ask"] = np.nan
    return out.loc[:, list(CHAIN_COLUMNS)].reset_index(drop=True)


def _bad_rows(mask: pd.Series | np.ndarray, values: pd.Series, column: str, path: Path) -> None:
    bad = np.flatnonzero(np.asarray(mask))
    if bad.size:
        shown = ", ".join(f"line {i + 2} ({values.iloc[i]!r})" for i in bad[:3])
        more = f" and {bad.size - 3} more" if bad.size > 3 else ""
        raise ChainFormatError(f"{path}: bad {column} value at {shown}{more}")


def _required_text(values: pd.Series, column: str, path: Path) -> pd.Series:
    _bad_rows(values.eq("").to_numpy(), values, column, path)
    return values.astype(str)


def _required_dates(values: pd.Series, fmt: str, column: str, path: Path) -> pd.Series:
    parsed = pd.to_datetime(values, format=fmt, errors="coerce")
    _bad_rows(parsed.isna().to_numpy(), values, column, path)
    return parsed.dt.normalize()


def _required_numbers(values: pd.Series, column: str, path: Path) -> pd.Series:
    parsed = pd.to_numeric(values.str.strip(), errors="coerce").astype("float64")
    _bad_rows((~np.isfinite(parsed.to_numpy())) | (parsed.to_numpy() <= 0), values, column, path)
    return parsed


def _rights(values: pd.Series, path: Path) -> pd.Series:
    mapped = values.str.lower().map(_RIGHTS)
    _bad_rows(mapped.isna().to_numpy(), values, "right (expected C/P or call/put)", path)
    return mapped.astype(str)
