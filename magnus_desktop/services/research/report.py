"""The per-symbol research report ("comprehensive strategy"): one JSON-ready document (no Qt).

:func:`build_report` gathers, as of one day: the indicators on the last bar on or before it, the active
supply/demand zones, the ATM implied volatility, its IV rank and term structure (where option chains
exist), earnings, the GICS sector, the scanner's best wheel candidates, the held position's Greeks and
the four deterministic analysts (``analytics.analysts``). :func:`to_markdown` renders it for the dock
and the ``research`` command. Every missing input is named in ``missing``; no stale value is shown as
current (``indicators.as_of`` is the bar they belong to, ``bars.stale`` flags an old last bar).

IV rank (0–100) = (ATM IV today − min) / (max − min) × 100 over the chain days available up to the day
(at most 252; the window is reported). ATM IV = mean of the call and put BSM implied vols of the mid
at the strike nearest the underlying, nearest expiry with DTE ≥ 7 (``analytics.pricing.implied_vol``).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import numpy as np
import pandas as pd

from magnus_desktop.analytics import analysts
from magnus_desktop.analytics.indicators import compute_all, last_finite
from magnus_desktop.analytics.pricing import implied_vol
from magnus_desktop.analytics.scanner import ScanParams, scan
from magnus_desktop.analytics.zones import ZoneParams, active_zones, find_zones, zone_distance
from magnus_desktop.models.domain import OptionContract, PositionSnapshot
from magnus_desktop.services.research.earnings import EarningsInfo

__all__ = ["ReportInputs", "atm_iv", "build_report", "detect_splits", "to_markdown"]

#: a last bar older than this many calendar days before the report day is stale
STALE_DAYS = 5
_SPLIT_FACTORS = (2.0, 3.0, 4.0, 5.0, 7.0, 8.0, 10.0, 15.0, 20.0)


@dataclass(frozen=True)
class ReportInputs:
    """What the report is built from (all already fetched; nothing here does I/O).

    ``bars``: daily OHLCV up to ``day`` (``DatetimeIndex``), None when none could be had
    (``bars_error`` says why). ``chains``: canonical chains (``CHAIN_COLUMNS``) per quote day ≤ ``day``
    of the symbol's options, empty when there are none.
    """

    symbol: str
    day: date
    bars: pd.DataFrame | None
    bars_source: str = ""
    bars_error: str = ""
    chains: Mapping[date, pd.DataFrame] = field(default_factory=dict)
    chain_note: str = ""
    earnings: EarningsInfo | None = None
    sector: str | None = None
    sector_note: str = ""
    positions: Sequence[PositionSnapshot] = ()
    zone_params: ZoneParams = field(default_factory=ZoneParams)
    #: zones are searched in the last this many bars (plus the ATR warm-up)
    zone_lookback: int = 250
    scan_params: ScanParams = field(default_factory=ScanParams)
    #: scores scanner rows with the predictor's ``p_win`` (``services.scanner.service.with_p_win`` bound to
    #: a scorer): ``(rows, chain, day) -> (rows, has_p_win, note)``; None = no predictor
    p_win: Callable[[pd.DataFrame, pd.DataFrame, date], tuple[pd.DataFrame, bool, str]] | None = None


def _num(x: Any, nd: int = 4) -> float | None:
    try:
        v = float(x)
    except (TypeError, ValueError):
        return None
    return round(v, nd) if math.isfinite(v) else None


def detect_splits(bars: pd.DataFrame) -> list[str]:
    """Days whose close-to-close ratio looks like an unadjusted split (within 3 % of 1:k or k:1)."""
    c = bars["close"].to_numpy(dtype=np.float64)
    out = []
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = c[1:] / c[:-1]
    for i in np.flatnonzero(np.isfinite(ratio) & ((ratio > 1.4) | (ratio < 1 / 1.4))):
        r = ratio[i] if ratio[i] > 1 else 1 / ratio[i]
        k = next((f for f in _SPLIT_FACTORS if abs(r / f - 1) < 0.03), None)
        if k is not None:
            out.append(f"{bars.index[i + 1].date().isoformat()}: close moved ×{ratio[i]:.3f} — an unadjusted "
                       f"{'1:' if ratio[i] > 1 else ''}{k:g}{'' if ratio[i] > 1 else ':1'} split? Indicators spanning "
                       "that day are not comparable")
    return out


def atm_iv(chain: pd.DataFrame, day: date, rate: float, div_yield: float, min_dte: int = 7) -> dict[date, float]:
    """ATM implied vol per expiry (DTE ≥ ``min_dte``) of one day's chain: mean of call and put IV of the
    mid at the strike nearest the underlying (annualised decimal; NaN where no IV fits)."""
    if chain is None or not len(chain):
        return {}
    df = chain[(chain["bid"] > 0) & (chain["ask"] >= chain["bid"])]
    out: dict[date, float] = {}
    for expiry, group in df.groupby("expiry"):
        exp = pd.Timestamp(expiry).date()
        dte = (exp - day).days
        if dte < min_dte:
            continue
        und = float(group["und_price"].iloc[0])
        strikes = group["strike"].to_numpy(dtype=np.float64)
        k = strikes[np.argmin(np.abs(strikes - und))]
        at = group[group["strike"] == k]
        mids = ((at["bid"] + at["ask"]) / 2).to_numpy(dtype=np.float64)
        ivs = implied_vol(mids, at["right"].to_numpy(), und, k, dte / 365.0, rate, div_yield)
        ivs = np.asarray(ivs, dtype=np.float64)
        out[exp] = float(np.nanmean(ivs)) if np.isfinite(ivs).any() else math.nan
    return dict(sorted(out.items()))


def _iv_section(inp: ReportInputs, missing: list[str]) -> tuple[float | None, dict[str, Any]]:
    p = inp.scan_params
    days = sorted(d for d in inp.chains if d <= inp.day)[-252:]
    if not days:
        missing.append(inp.chain_note or f"No option chain for {inp.symbol}: no IV rank, term structure or wheel candidates.")
        return None, {"atm_iv": None, "days": 0, "term_structure": [], "message": inp.chain_note or "no option chain"}
    history = []
    for d in days:
        ts = atm_iv(inp.chains[d], d, p.rate, p.div_yield)
        first = next((v for v in ts.values() if math.isfinite(v)), math.nan)
        history.append((d, first))
    term = atm_iv(inp.chains[days[-1]], days[-1], p.rate, p.div_yield)
    vals = [v for _d, v in history if math.isfinite(v)]
    now = history[-1][1]
    rank = None
    if len(vals) >= 2 and math.isfinite(now) and max(vals) > min(vals):
        rank = (now - min(vals)) / (max(vals) - min(vals)) * 100.0
    if days[-1] != inp.day:
        missing.append(f"The last option chain is from {days[-1].isoformat()}, not {inp.day.isoformat()}.")
    return _num(rank, 1), {"atm_iv": _num(now), "as_of": days[-1].isoformat(), "days": len(days),
                           "first_day": days[0].isoformat(), "min": _num(min(vals)) if vals else None,
                           "max": _num(max(vals)) if vals else None,
                           "term_structure": [{"expiry": e.isoformat(), "dte": (e - days[-1]).days, "atm_iv": _num(v)}
                                              for e, v in term.items()],
                           "message": "" if rank is not None else "too few chain days for an IV rank"}


def _wheel(inp: ReportInputs) -> list[dict[str, Any]]:
    days = sorted(d for d in inp.chains if d <= inp.day)
    if not days or days[-1] != inp.day:
        return []
    chain = inp.chains[days[-1]]
    rows = scan(chain, inp.scan_params, as_of=days[-1])
    rows = rows[rows["right"] == "P"].head(5) if len(rows) else rows
    keep = ("underlying", "expiry", "dte", "strike", "right", "bid", "iv", "delta", "prob_otm",
            "annualized_return", "score")
    if inp.p_win is not None and len(rows):
        rows, has_p_win, _note = inp.p_win(rows, chain, days[-1])
        if has_p_win:
            keep = (*keep[:9], "p_win", *keep[9:])
    out = []
    for r in rows.to_dict("records"):
        rec = {k: r.get(k) for k in keep}
        rec["expiry"] = pd.Timestamp(rec["expiry"]).date().isoformat()
        out.append({k: (_num(v) if isinstance(v, float | np.floating) else v) for k, v in rec.items()})
    return out


def _position(inp: ReportInputs) -> dict[str, Any] | None:
    held = [p for p in inp.positions if _underlying(p) == inp.symbol]
    if not held:
        return None
    tot = {k: float(np.nansum([getattr(p, k) for p in held])) for k in ("delta", "gamma", "theta", "vega", "market_value",
                                                                       "unrealized_pnl")}
    return {"positions": [p.contract.describe() if isinstance(p.contract, OptionContract) else p.contract.symbol
                          for p in held],
            "qty": [p.qty for p in held], **{k: _num(v, 2) for k, v in tot.items()},
            "units": "delta/gamma shares-equivalent; theta USD per calendar day; vega USD per vol point"}


def _underlying(p: PositionSnapshot) -> str:
    c = p.contract
    sym = c.underlying if isinstance(c, OptionContract) else c.symbol
    sym = sym.upper()
    return "SPX" if sym in ("SPXW", "SPX") else sym


def build_report(inp: ReportInputs) -> dict[str, Any]:
    """The report document (JSON-ready; numbers rounded, NaN → null). See the module docstring."""
    missing: list[str] = []
    doc: dict[str, Any] = {"symbol": inp.symbol, "as_of": inp.day.isoformat(), "sector": inp.sector}
    if inp.sector is None:
        missing.append(inp.sector_note or f"{inp.symbol} has no GICS sector (not in the bundled S&P 500 list).")
    bars = inp.bars
    if bars is not None:
        bars = bars[bars.index <= pd.Timestamp(inp.day)]
    if bars is None or not len(bars):
        why = inp.bars_error or f"No daily bars for {inp.symbol} on or before {inp.day.isoformat()}."
        missing.append(why)
        doc["bars"] = {"source": inp.bars_source, "count": 0, "message": why}
        doc["indicators"] = None
        doc["zones"] = []
        closes = np.array([])
        snap: dict[str, float] = {}
        atr_series = np.array([])
    else:
        last = bars.index[-1].date()
        stale = (inp.day - last).days > STALE_DAYS
        doc["bars"] = {"source": inp.bars_source, "count": int(len(bars)), "first": bars.index[0].date().isoformat(),
                       "last": last.isoformat(), "stale": stale}
        if stale:
            missing.append(f"{inp.symbol}'s bars end on {last.isoformat()}, {(inp.day - last).days} days before "
                           f"{inp.day.isoformat()}: the indicators are as of {last.isoformat()}, not current.")
        missing.extend(detect_splits(bars))
        o, h, lo, c = (bars[k].to_numpy(dtype=np.float64) for k in ("open", "high", "low", "close"))
        values = compute_all(o, h, lo, c)
        snap = {k: last_finite(v) for k, v in values.items()}
        snap["close"] = last_finite(c)
        doc["indicators"] = {"as_of": last.isoformat(), **{k: _num(snap[k]) for k in (
            "close", "rsi_14", "macd", "macd_signal", "macd_hist", "atr_14", "sma_20", "sma_50", "sma_200",
            "ema_20", "ema_50", "ema_200", "bb_upper", "bb_lower")}}
        for k in ("sma_200", "atr_14"):
            if not math.isfinite(snap[k]):
                missing.append(f"{k} cannot be computed from {len(bars)} bars"
                               + (" without high/low prices" if k == "atr_14" else ""))
        cut = max(0, len(c) - inp.zone_lookback - 20)
        zones = find_zones(o[cut:], h[cut:], lo[cut:], c[cut:], inp.zone_params) if math.isfinite(snap["atr_14"]) else []
        doc["zones"] = [_zone_dict(z, bars.iloc[cut:], snap["close"], snap["atr_14"]) for z in active_zones(zones)]
        doc["zones_invalidated"] = sum(1 for z in zones if z.status == "invalidated")
        closes, atr_series = c, values["atr_14"]
    doc["iv_rank"], doc["iv"] = _iv_section(inp, missing)
    earn = inp.earnings
    doc["earnings"] = earn.as_dict(inp.day) if earn is not None else {"status": "no_source", "message": "not looked up"}
    if earn is None or earn.status != "ok":
        missing.append(doc["earnings"]["message"] or "No earnings dates.")
    dte_earn = earn.days_to_next(inp.day) if earn is not None and earn.status == "ok" else None
    doc["wheel_candidates"] = _wheel(inp)
    doc["position"] = _position(inp)
    doc["analysts"] = _analysts(snap, closes, atr_series, doc, dte_earn)
    doc["missing"] = missing
    return doc


def _zone_dict(z: Any, bars: pd.DataFrame, close: float, atr_now: float) -> dict[str, Any]:
    pct, in_atr = zone_distance(z, close, atr_now)
    day = lambda i: bars.index[i].date().isoformat()  # noqa: E731
    return {"kind": z.kind, "low": _num(z.low), "high": _num(z.high), "status": z.status, "tests": z.tests,
            "base_start": day(z.base_start), "base_end": day(z.base_end), "departure": day(z.departure),
            "strength_atr": _num(z.strength, 2), "distance_pct": _num(pct), "distance_atr": _num(in_atr, 2)}


def _analysts(snap: Mapping[str, float], closes: np.ndarray, atr_series: np.ndarray, doc: Mapping[str, Any],
              dte_earn: int | None) -> dict[str, Any]:
    g = lambda k: snap.get(k, math.nan)  # noqa: E731
    trend = analysts.trend_analyst(g("close"), g("sma_50"), g("sma_200"), g("macd"), g("macd_signal"))
    with np.errstate(invalid="ignore", divide="ignore"):
        atr_pct = atr_series / closes if closes.size else np.array([])
    vol = analysts.volatility_analyst(atr_pct, analysts.realized_vol(closes), doc["iv_rank"])
    hi = float(np.nanmax(closes[-252:])) if closes.size else math.nan
    drawdown = 1.0 - g("close") / hi if math.isfinite(hi) and hi > 0 else math.nan
    demand = [z["distance_atr"] for z in doc.get("zones", []) if z["kind"] == "demand" and z["distance_atr"] is not None]
    risk = analysts.risk_analyst(g("rsi_14"), dte_earn, drawdown, min(demand) if demand else None)
    wheel = doc["wheel_candidates"]
    best = max(wheel, key=lambda r: r.get("annualized_return") or -1) if wheel else None
    income = analysts.income_analyst(best["annualized_return"] if best else None, best["dte"] if best else None,
                                     trend.verdict, dte_earn, len(wheel))
    return {v.analyst: v.as_dict() for v in (trend, vol, risk, income)}


def _fmt(v: Any, pct: bool = False) -> str:
    if v is None:
        return "—"
    if pct and isinstance(v, float):
        return f"{v * 100:.2f} %"
    if isinstance(v, float):
        return f"{v:,.2f}" if abs(v) >= 1 or v == 0 else f"{v:.4f}"
    return str(v)


def to_markdown(doc: Mapping[str, Any]) -> str:
    """The report as Markdown (what the dock shows and exports)."""
    lines = [f"# {doc['symbol']} — research report as of {doc['as_of']}", ""]
    bars = doc["bars"]
    lines.append(f"**Sector:** {doc['sector'] or '— (not an S&P 500 member)'}  ")
    lines.append(f"**Bars:** {bars.get('source') or '—'}, {bars.get('count', 0)} daily bars"
                 + (f", {bars['first']} → {bars['last']}" if bars.get("count") else "")
                 + (" — **STALE**" if bars.get("stale") else ""))
    lines += ["", "## Analysts", "", "| analyst | verdict | numbers | why |", "|---|---|---|---|"]
    for name, v in doc["analysts"].items():
        nums = ", ".join(f"{k} {_fmt(x)}" for k, x in v["numbers"].items())
        lines.append(f"| {name} | **{v['verdict']}** | {nums} | {'; '.join(v['reasons'])} |")
    ind = doc["indicators"]
    lines += ["", "## Trend and indicators" + (f" (as of {ind['as_of']})" if ind else ""), ""]
    if ind:
        lines += ["| indicator | value |", "|---|---|"]
        lines += [f"| {k} | {_fmt(v)} |" for k, v in ind.items() if k != "as_of"]
    else:
        lines.append("No indicators: " + bars.get("message", "no bars"))
    lines += ["", "## Supply/demand zones (active)", ""]
    if doc["zones"]:
        lines += ["| kind | low | high | status | tests | base | distance | ATR |", "|---|---|---|---|---|---|---|---|"]
        lines += [f"| {z['kind']} | {_fmt(z['low'])} | {_fmt(z['high'])} | {z['status']} | {z['tests']} | "
                  f"{z['base_start']}…{z['base_end']} | {_fmt(z['distance_pct'], True)} | {_fmt(z['distance_atr'])} |"
                  for z in doc["zones"]]
    else:
        lines.append("No active zone.")
    iv = doc["iv"]
    lines += ["", "## Implied volatility", ""]
    if iv.get("days"):
        lines.append(f"ATM IV {_fmt(iv['atm_iv'], True)} on {iv['as_of']}; IV rank {_fmt(doc['iv_rank'])} over "
                     f"{iv['days']} chain days ({iv['first_day']} → {iv['as_of']}).")
        for t in iv["term_structure"]:
            lines.append(f"- {t['expiry']} ({t['dte']} DTE): ATM IV {_fmt(t['atm_iv'], True)}")
    else:
        lines.append(iv.get("message") or "No option chain.")
    lines += ["", "## Best wheel candidates (cash-secured puts)", ""]
    if doc["wheel_candidates"]:
        lines += ["| expiry | dte | strike | bid | iv | delta | P(OTM) | p_win | ann. return | score |",
                  "|---|---|---|---|---|---|---|---|---|---|"]
        lines += [f"| {r['expiry']} | {r['dte']} | {_fmt(r['strike'])} | {_fmt(r['bid'])} | {_fmt(r['iv'], True)} | "
                  f"{_fmt(r['delta'])} | {_fmt(r['prob_otm'], True)} | {_fmt(r.get('p_win'), True)} | "
                  f"{_fmt(r['annualized_return'], True)} | {_fmt(r['score'])} |"
                  for r in doc["wheel_candidates"]]
    else:
        lines.append("None (no chain on this day, or nothing passes the scanner filters).")
    e = doc["earnings"]
    lines += ["", "## Earnings", ""]
    lines.append(f"Next report {e.get('next') or '—'} ({_fmt(e.get('days_to_next'))} days), last {e.get('last') or '—'}; "
                 f"source {e.get('source') or '—'}." if e.get("status") == "ok" else (e.get("message") or "unknown"))
    lines += ["", "## Position", ""]
    pos = doc["position"]
    lines.append("Not held." if pos is None else
                 f"{', '.join(pos['positions'])}: delta {_fmt(pos['delta'])} sh, gamma {_fmt(pos['gamma'])}, "
                 f"theta {_fmt(pos['theta'])} USD/day, vega {_fmt(pos['vega'])} USD/vol pt, "
                 f"unrealized P&L {_fmt(pos['unrealized_pnl'])} USD")
    if doc["missing"]:
        lines += ["", "## Missing or stale", ""] + [f"- {m}" for m in doc["missing"]]
    return "\n".join(lines) + "\n"
