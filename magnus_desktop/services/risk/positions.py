"""Account positions -> :class:`RiskPosition` (blocking; compute thread).

A position without a current mark is valued at its last known mark and flagged
(``RiskPosition.mark_note`` says from when): first the marks this session has seen, then, on the
replay, the last recorded quote before the day. With none, it stays unmarked and risk lists it
as excluded; it is never valued at 0.
"""

from __future__ import annotations

import math
from collections.abc import MutableMapping, Sequence
from dataclasses import dataclass
from datetime import date

from magnus_desktop.analytics.pricing import implied_vol
from magnus_desktop.analytics.risk import RiskPosition
from magnus_desktop.models.domain import OptionContract, PositionSnapshot
from magnus_desktop.services.market.recorded import MarketDataError, ReplayMarketData


@dataclass(frozen=True, slots=True)
class KnownMark:
    """A mark seen earlier: USD per share, its underlying price, and when (a date or a time text)."""

    mark: float
    und_price: float
    when: str


def _mid(bid: float, ask: float, last: float) -> float:
    if math.isfinite(bid) and math.isfinite(ask) and ask > 0:
        return (bid + ask) / 2.0
    return last


def recorded_mark_before(market: ReplayMarketData, contract: OptionContract, day: date,
                         days: Sequence[date]) -> KnownMark | None:
    """The last recorded mark (mid, else last) of ``contract`` on a replay day before ``day``."""
    for d in reversed([d for d in days if d < day]):
        try:
            q = market.option_quote(contract, d)
        except MarketDataError:
            return None
        mark = _mid(q.bid, q.ask, q.last)
        if math.isfinite(mark):
            return KnownMark(mark, q.und_price, d.isoformat())
    return None


def to_risk_positions(positions: Sequence[PositionSnapshot], as_of: date, rate: float, div_yield: float, *,
                      market: ReplayMarketData | None = None, days: Sequence[date] = (),
                      known: MutableMapping[object, KnownMark] | None = None) -> list[RiskPosition]:
    """Risk view of marked positions; remembers good marks in ``known`` for later updates."""
    known = {} if known is None else known
    out = []
    for p in positions:
        c = p.contract
        if not isinstance(c, OptionContract):  # stock / ETF
            out.append(_stock(p, known))
            continue
        mark, und, note, iv = p.mark, p.und_price, "", p.iv
        if math.isfinite(mark) and math.isfinite(und):
            known[c] = KnownMark(mark, und, as_of.isoformat())
        else:
            last = known.get(c)
            if last is None and market is not None:
                last = recorded_mark_before(market, c, as_of, days)
            if last is not None:
                mark = last.mark
                und = und if math.isfinite(und) else last.und_price
                note = f"no quote on {as_of.isoformat()}: valued at the last known mark {last.mark:.2f} ({last.when})"
            else:
                note = f"no quote on {as_of.isoformat()} and no earlier mark known"
            iv = float(implied_vol(mark, c.right, und, c.strike, max(c.dte(as_of), 0) / 365.0, rate, div_yield))
        out.append(RiskPosition(c.describe(), c.underlying, "option", c.right, float(c.strike), c.dte(as_of),
                                float(p.qty), c.multiplier, und, iv, mark, note, expiry=c.expiry))
    return out


def _stock(p: PositionSnapshot, known: MutableMapping[object, KnownMark]) -> RiskPosition:
    symbol = str(getattr(p.contract, "symbol", "?"))
    mark, note = p.mark, ""
    if math.isfinite(mark):
        known[p.contract] = KnownMark(mark, mark, "")
    elif p.contract in known:
        mark = known[p.contract].mark
        note = f"no quote now: valued at the last known price {mark:.2f}"
    else:
        note = "no quote and no earlier price known"
    return RiskPosition(symbol, symbol, "stock", "", math.nan, 0, float(p.qty), 1, mark, math.nan, mark, note)


def flagged(positions: Sequence[RiskPosition]) -> list[tuple[str, str]]:
    """(label, note) of every position not marked at a current quote."""
    return [(p.label, p.mark_note) for p in positions if p.mark_note]
