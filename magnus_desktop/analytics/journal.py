"""Decision-journal analytics (pure, no I/O): the numbers of an option at the time, linking
outcomes to entries, the review by tag / setup / ``p_win`` bucket, and learned preferences.

**Outcome linking.** An entry with contract keys is closed when, for every one of its contracts,
the trade history (or the app's fills) has closed lots of that contract opened on or after the
entry's day (same account when the entry names one) and no quantity of the contract is still
open. Its outcome is the realized P&L of those lots (base currency, commissions included), its
close time the last lot's.

**Learned preferences.** From the entries the trader acted on (``action == "sent"``) whose outcome
is a gain: the preferred |delta| range and DTE range are the 25th to 75th percentiles of those
entries' |delta| and DTE (linear interpolation; DTE rounded outwards to whole days); the
preferred underlyings are the most frequent symbols among them. At least
:data:`MIN_PREFERENCE_TRADES` such entries are needed; fewer give no preference, and say how many
there are.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime

import numpy as np

from magnus_desktop.analytics.pricing import bs_greeks, implied_vol
from magnus_desktop.analytics.realized import LotMatch
from magnus_desktop.models.journal import JournalEntry

MIN_PREFERENCE_TRADES = 5
#: p_win buckets of the review: [low, high) in decimals
P_WIN_BUCKETS: tuple[tuple[float, float], ...] = ((0.0, 0.5), (0.5, 0.6), (0.6, 0.7), (0.7, 0.8), (0.8, 0.9),
                                                 (0.9, 1.0000001))
NO_P_WIN = "no p_win"


def option_numbers(right: str, strike: float, expiry: date, day: date, bid: float, ask: float, und_price: float,
                   rate: float, div_yield: float = 0.0) -> dict[str, float]:
    """The numbers of one option at ``day`` for the journal: bid, ask, mid, underlying, dte and, when
    the mid gives an implied volatility, iv (decimal), delta (per share), gamma (per USD), theta
    (USD per share per calendar day) and vega (USD per share per vol point) from our BSM.
    Missing quotes are left out (never 0)."""
    out: dict[str, float] = {"dte": float((expiry - day).days)}
    for name, value in (("bid", bid), ("ask", ask), ("und_price", und_price)):
        if value is not None and math.isfinite(value):
            out[name] = float(value)
    if "bid" in out and "ask" in out and out["ask"] > 0:
        out["mid"] = (out["bid"] + out["ask"]) / 2.0
    t = max((expiry - day).days, 0) / 365.0
    if "mid" in out and "und_price" in out and t > 0 and out["mid"] > 0:
        iv = float(implied_vol(out["mid"], right, out["und_price"], strike, t, rate, div_yield))
        if math.isfinite(iv) and iv > 0:
            g = bs_greeks(right, out["und_price"], strike, t, rate, iv, div_yield)
            out.update(iv=iv, delta=float(g.delta), gamma=float(g.gamma), theta=float(g.theta), vega=float(g.vega))
    return out


@dataclass(frozen=True, slots=True)
class Outcome:
    """A position's result for one entry: realized P&L (base currency) and the last close."""

    entry_id: int
    pnl: float
    closed_at: datetime
    source: str


def link_outcomes(entries: Iterable[JournalEntry], matches: Sequence[LotMatch],
                  open_qty: Mapping[tuple[str, str], float], source: str) -> list[Outcome]:
    """Outcomes of the open entries whose positions are closed (see the module docstring).

    Args:
        entries: journal entries (closed ones and ones without contract keys are skipped).
        matches: closed lots (``LotMatch``) of the history or the app's fills.
        open_qty: signed quantity still open per (account, contract_key).
        source: ``"history"`` or ``"fills"`` (stored with the outcome).
    """
    by_key: dict[str, list[LotMatch]] = defaultdict(list)
    for m in matches:
        by_key[m.contract_key].append(m)
    still_open: dict[str, set[str]] = defaultdict(set)
    for (account, key), qty in open_qty.items():
        if abs(qty) > 1e-9:
            still_open[key].add(account)
    out = []
    for e in entries:
        if e.closed or e.id is None or not e.contract_keys:
            continue
        lots: list[LotMatch] = []
        for key in e.contract_keys:
            mine = [m for m in by_key.get(key, ()) if m.opened_at.date() >= e.trade_date
                    and (not e.account or m.account == e.account)]
            open_accounts = still_open.get(key, set())
            if not mine or (e.account in open_accounts if e.account else bool(open_accounts)):
                lots = []
                break
            lots.extend(mine)
        if lots:
            out.append(Outcome(e.id, sum(m.realized * m.fx_rate_to_base for m in lots),
                               max(m.closed_at for m in lots), source))
    return out


@dataclass(frozen=True, slots=True)
class ReviewRow:
    """Outcome of one group of entries (USD).

    Attributes:
        key: the tag, setup or p_win bucket.
        entries: entries in the group; closed: those with an outcome.
        wins: closed with P&L > 0; win_rate: wins / closed (NaN with none closed).
        total_pnl, avg_pnl: of the closed ones (avg NaN with none closed).
    """

    key: str
    entries: int
    closed: int
    wins: int
    win_rate: float
    total_pnl: float
    avg_pnl: float


def _rows(groups: Mapping[str, list[JournalEntry]]) -> list[ReviewRow]:
    out = []
    for key, es in groups.items():
        closed = [e.outcome_pnl for e in es if e.outcome_pnl is not None]
        wins = sum(1 for p in closed if p > 0)
        out.append(ReviewRow(key, len(es), len(closed), wins, wins / len(closed) if closed else math.nan,
                             float(sum(closed)), float(np.mean(closed)) if closed else math.nan))
    return out


def review_by(entries: Iterable[JournalEntry], keys: Callable[[JournalEntry], Iterable[str]]) -> list[ReviewRow]:
    """One row per key (an entry counts in every key ``keys`` gives it), sorted by key."""
    groups: dict[str, list[JournalEntry]] = defaultdict(list)
    for e in entries:
        for k in keys(e):
            groups[k].append(e)
    return _rows(dict(sorted(groups.items())))


def by_tag(entries: Iterable[JournalEntry]) -> list[ReviewRow]:
    """Review by tag (an untagged entry counts as ``"(no tag)"``)."""
    return review_by(entries, lambda e: e.tags or ("(no tag)",))


def by_setup(entries: Iterable[JournalEntry]) -> list[ReviewRow]:
    """Review by setup (the entry's strategy; ``"(none)"`` when it has none)."""
    return review_by(entries, lambda e: (e.strategy or "(none)",))


def p_win_bucket(p: float | None) -> str:
    """``"70–80 %"`` for 0.74; :data:`NO_P_WIN` for None/NaN."""
    if p is None or not math.isfinite(p):
        return NO_P_WIN
    for low, high in P_WIN_BUCKETS:
        if low <= p < high:
            return f"{low * 100:.0f}–{min(high, 1.0) * 100:.0f} %"
    return NO_P_WIN


def by_p_win(entries: Iterable[JournalEntry]) -> list[ReviewRow]:
    """Review by p_win bucket (buckets in ascending order, "no p_win" last)."""
    rows = review_by(entries, lambda e: (p_win_bucket(e.p_win),))
    return sorted(rows, key=lambda r: (r.key == NO_P_WIN, r.key))


@dataclass(frozen=True, slots=True)
class Preferences:
    """Learned scanner preferences (module docstring).

    Attributes:
        n: winning taken trades they come from; needed: the minimum.
        delta_range: (low, high) |delta| or None; dte_range: (low, high) days or None.
        underlyings: most frequent symbols with their counts.
        entry_ids: the entries they come from.
        reason: why there is no preference (None when there is one).
    """

    n: int
    needed: int
    delta_range: tuple[float, float] | None
    dte_range: tuple[int, int] | None
    underlyings: tuple[tuple[str, int], ...]
    entry_ids: tuple[int, ...]
    reason: str | None = None

    @property
    def ready(self) -> bool:
        return self.reason is None


def derive_preferences(entries: Iterable[JournalEntry], min_trades: int = MIN_PREFERENCE_TRADES,
                       top: int = 5) -> Preferences:
    """Preferred |delta| and DTE ranges and underlyings of the winning taken trades (module docstring)."""
    winners = [e for e in entries if e.action == "sent" and e.outcome_pnl is not None and e.outcome_pnl > 0]
    ids = tuple(e.id for e in winners if e.id is not None)
    if len(winners) < min_trades:
        return Preferences(len(winners), min_trades, None, None, (), ids,
                           f"{len(winners)} winning journaled trade(s) so far; at least {min_trades} are needed "
                           "before preferences are suggested.")
    deltas = np.array([abs(e.delta) for e in winners if e.delta is not None and math.isfinite(e.delta)])
    dtes = np.array([e.dte for e in winners if e.dte is not None])
    delta_range = None
    if len(deltas) >= min_trades:
        low, high = np.percentile(deltas, [25, 75])
        delta_range = (round(float(low), 3), round(float(high), 3))
    dte_range = None
    if len(dtes) >= min_trades:
        low, high = np.percentile(dtes, [25, 75])
        dte_range = (int(math.floor(low)), int(math.ceil(high)))
    counts = Counter(e.symbol for e in winners if e.symbol)
    reason = None
    if delta_range is None and dte_range is None:
        reason = (f"{len(winners)} winning trades, but fewer than {min_trades} of them recorded a delta or a DTE.")
    return Preferences(len(winners), min_trades, delta_range, dte_range, tuple(counts.most_common(top)), ids, reason)
