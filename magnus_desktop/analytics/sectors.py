"""Sector analytics: portfolio allocation by GICS sector, concentration, and sector relative
strength against SPY (pure pandas/NumPy, no I/O).

- Allocation (:func:`sector_allocation`): per sector, the market value (USD, signed: short
  options are negative) and the delta-dollars (delta in shares × underlying price, USD), each
  with its share of the book's gross amount (sum of absolute values), so longs and shorts both
  count as exposure.
- Concentration (:func:`concentration_warnings`): a sector whose share of gross delta-dollars
  (or of gross market value) is at or above the threshold.
- Relative strength (:func:`relative_strength`): over 1/3/6/12 months (21/63/126/252 sessions),
  the symbol's total price return minus SPY's over the same sessions (decimal; > 0 = stronger
  than the market). A window the bars do not cover is NaN, never a shorter window.

Source: GICS sectors (MSCI/S&P Global Industry Classification Standard, 11 sectors); the Select
Sector SPDR ETFs stand for the sectors (XLK, XLF, ...); relative strength as return spread,
e.g. Murphy, *Intermarket Analysis* (2004), ch. 10.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date

import pandas as pd

__all__ = ["RS_WINDOWS", "SECTOR_ETFS", "UNCLASSIFIED", "SectorExposure", "concentration_warnings",
           "relative_strength", "sector_allocation"]

#: The Select Sector SPDR ETF of each GICS sector.
SECTOR_ETFS: dict[str, str] = {
    "Communication Services": "XLC", "Consumer Discretionary": "XLY", "Consumer Staples": "XLP",
    "Energy": "XLE", "Financials": "XLF", "Health Care": "XLV", "Industrials": "XLI",
    "Information Technology": "XLK", "Materials": "XLB", "Real Estate": "XLRE", "Utilities": "XLU",
}
#: Relative-strength windows: label → sessions.
RS_WINDOWS: dict[str, int] = {"1m": 21, "3m": 63, "6m": 126, "12m": 252}
#: The sector of a symbol the classification does not know (an index, an ETF, a foreign listing).
UNCLASSIFIED = "Unclassified"


@dataclass(frozen=True, slots=True)
class SectorExposure:
    """One position's contribution: ``market_value`` and ``delta_dollars`` in USD (signed)."""

    symbol: str
    sector: str
    market_value: float
    delta_dollars: float


def sector_allocation(exposures: Iterable[SectorExposure]) -> pd.DataFrame:
    """Market value and delta-dollars by sector.

    Args:
        exposures: one per position (NaN amounts are left out of the sums and counted in
            ``unpriced``).

    Returns:
        One row per sector, largest gross delta-dollars first: ``sector``, ``positions``,
        ``symbols`` (comma-joined), ``market_value``, ``mv_share`` (|MV| / gross |MV|, decimal),
        ``delta_dollars``, ``delta_share`` (|delta$| / gross |delta$|, decimal), ``unpriced``
        (positions without a finite amount).
    """
    rows: dict[str, dict[str, object]] = {}
    for e in exposures:
        r = rows.setdefault(e.sector, {"sector": e.sector, "positions": 0, "symbols": set(), "market_value": 0.0,
                                       "gross_mv": 0.0, "delta_dollars": 0.0, "gross_delta": 0.0, "unpriced": 0})
        r["positions"] += 1  # type: ignore[operator]
        r["symbols"].add(e.symbol)  # type: ignore[union-attr]
        if math.isfinite(e.market_value) and math.isfinite(e.delta_dollars):
            r["market_value"] += e.market_value  # type: ignore[operator]
            r["gross_mv"] += abs(e.market_value)  # type: ignore[operator]
            r["delta_dollars"] += e.delta_dollars  # type: ignore[operator]
            r["gross_delta"] += abs(e.delta_dollars)  # type: ignore[operator]
        else:
            r["unpriced"] += 1  # type: ignore[operator]
    cols = ["sector", "positions", "symbols", "market_value", "mv_share", "delta_dollars", "delta_share", "unpriced"]
    if not rows:
        return pd.DataFrame(columns=cols)
    df = pd.DataFrame(rows.values())
    df["symbols"] = df["symbols"].map(lambda s: ", ".join(sorted(s)))
    gross_mv, gross_delta = df["gross_mv"].sum(), df["gross_delta"].sum()
    df["mv_share"] = df["gross_mv"] / gross_mv if gross_mv > 0 else math.nan
    df["delta_share"] = df["gross_delta"] / gross_delta if gross_delta > 0 else math.nan
    df = df.sort_values("gross_delta", ascending=False, kind="stable")
    return df.loc[:, cols].reset_index(drop=True)


def concentration_warnings(allocation: pd.DataFrame, threshold: float) -> list[str]:
    """Sentences for the sectors at or above ``threshold`` of gross delta-dollars or market value.

    Args:
        allocation: :func:`sector_allocation`'s result.
        threshold: share (decimal, 0..1) from which a sector is too concentrated.

    Raises:
        ValueError: ``threshold`` outside (0, 1].
    """
    if not (0 < threshold <= 1):
        raise ValueError(f"threshold must be a share in (0, 1], got {threshold!r}")
    out = []
    for r in allocation.itertuples():
        parts = [f"{share:.0%} of the book's {what}" for share, what in
                 ((r.delta_share, "delta-dollars"), (r.mv_share, "market value"))
                 if isinstance(share, float) and math.isfinite(share) and share >= threshold]
        if parts:
            out.append(f"{r.sector} holds {' and '.join(parts)} (threshold {threshold:.0%}; {r.symbols}).")
    return out


def _window_return(close: pd.Series, end: date, sessions: int) -> tuple[float, date | None]:
    upto = close[close.index <= pd.Timestamp(end)]
    if len(upto) <= sessions:
        return math.nan, None
    return float(upto.iloc[-1] / upto.iloc[-1 - sessions] - 1.0), upto.index[-1].date()


def relative_strength(closes: Mapping[str, pd.Series], spy: pd.Series, day: date,
                      windows: Mapping[str, int] = RS_WINDOWS) -> pd.DataFrame:
    """Return over each window minus SPY's over the same sessions, per symbol, as of ``day``.

    A symbol whose bars end before ``day`` is measured as of its last session (``as_of``), SPY
    over the same dates, and marked ``stale``: its numbers are that day's, not ``day``'s.

    Args:
        closes: symbol → daily closes (DatetimeIndex, USD per share).
        spy: SPY's daily closes (the benchmark).
        day: the last session counted (bars after it are ignored).
        windows: label → sessions.

    Returns:
        One row per symbol: ``symbol``, ``as_of`` (its last session on or before ``day``, None
        without one), ``stale`` (``as_of`` is before SPY's last session on or before ``day``),
        then per window ``ret_<w>`` (decimal) and ``rs_<w>`` (ret − SPY's ret, decimal); NaN where
        either series does not cover the window.
    """
    spy = spy.dropna()
    spy_upto = spy[spy.index <= pd.Timestamp(day)]
    spy_day = spy_upto.index[-1].date() if len(spy_upto) else None
    rows = []
    for symbol, close in closes.items():
        close = close.dropna()
        upto = close[close.index <= pd.Timestamp(day)]
        as_of = upto.index[-1].date() if len(upto) else None
        row: dict[str, object] = {"symbol": symbol, "as_of": as_of,
                                  "stale": bool(as_of is not None and spy_day is not None and as_of < spy_day)}
        for label, n in windows.items():
            ret = spy_ret = math.nan
            if as_of is not None:
                ret, _ = _window_return(close, as_of, n)
                spy_ret, _ = _window_return(spy, as_of, n)
            row[f"ret_{label}"] = ret
            row[f"rs_{label}"] = ret - spy_ret
        rows.append(row)
    cols = ["symbol", "as_of", "stale", *(f"{p}_{w}" for w in windows for p in ("ret", "rs"))]
    return pd.DataFrame(rows, columns=cols)
