"""The nine monitors: pure functions over the current state (no I/O, no clock, no Qt).

Each takes a :class:`MonitorInput` (positions as marked, prices, scanner rows, IV history, ...)
and the :class:`~magnus_desktop.services.settings.AlertSettings`, and returns
:class:`~magnus_desktop.models.alerts.AlertCandidate` values whose ``facts`` are the numbers that
triggered them (with units). :func:`run_monitors` runs the enabled ones, each isolated: one that
raises is reported in ``failures`` and the others still run.

Priorities: expiration HIGH at dte ≤ ``expiration_high_dte``, CRITICAL at ≤ ``expiration_critical_dte``
(expiry day included); profit target HIGH; assignment risk HIGH (CRITICAL when ITM with ≤ 1 day
left); portfolio delta MEDIUM (HIGH beyond twice the band); earnings MEDIUM (HIGH within 7 days);
watchlist opportunity LOW; unusual IV MEDIUM; Kalshi mispricing MEDIUM; risk limits HIGH (CRITICAL at
``RISK_CRITICAL_RATIO`` times the limit or more).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date

from magnus_desktop.models.alerts import AlertCandidate, Fact, Priority
from magnus_desktop.models.domain import OptionContract, PositionSnapshot
from magnus_desktop.services.settings import AlertSettings, RiskLimitSettings

log = logging.getLogger(__name__)

#: roots whose options are European and cash-settled (no early assignment)
CASH_SETTLED_ROOTS = frozenset({"SPX", "SPXW", "NDX", "RUT", "XSP", "VIX"})
#: days of common daily returns needed before a beta to SPY is used
BETA_MIN_DAYS = 20
EARNINGS_SOON_DAYS = 7
#: a risk limit exceeded by this factor or more raises CRITICAL instead of HIGH
RISK_CRITICAL_RATIO = 1.5


@dataclass(frozen=True, slots=True)
class KalshiQuote:
    """One Kalshi market as the mispricing monitor needs it (the hook Kalshi plugs into).

    Attributes:
        ticker: Kalshi market ticker. model_prob: our model's probability of YES, a decimal (0-1).
        yes_ask_usd: price to buy one YES contract, USD (a contract pays 1 USD).
        fee_usd: the taker fee of buying one contract at that price, USD.
    """

    ticker: str
    title: str
    model_prob: float
    yes_ask_usd: float
    fee_usd: float


@dataclass(frozen=True, slots=True)
class RiskLimitInput:
    """What the risk-limits monitor reads besides the positions.

    Attributes:
        limits: the limits of Settings → Risk (None = that limit is off).
        scenario: the max-loss limit's scenario name; scenario_label: what it is.
        scenario_pnl: the book's P&L in that scenario by full revaluation, USD (NaN = not known).
        source: where ``scenario_pnl`` comes from (the risk report of a day, or computed for the alerts).
    """

    limits: RiskLimitSettings
    scenario: str = ""
    scenario_label: str = ""
    scenario_pnl: float = math.nan
    source: str = ""


@dataclass(frozen=True, slots=True)
class MonitorInput:
    """The state every monitor reads.

    Attributes:
        day: the trading day (the replay day in replay). positions: the account's marked positions.
        prices: last price per underlying symbol (normalised: "SPX", "SPY"), USD per share.
        betas: beta of each underlying to SPY from daily returns, with the number of returns used;
            missing = not enough common history.
        spy_price: SPY's last price, USD per share (NaN when unknown).
        iv_history: per symbol, (day, iv decimal) oldest first, ending at ``day``; with its source label.
        scan_best: per watchlist symbol, the best scanner score today (decimal) and the row behind it.
        prev_scan_best: the same for the previous run (what "crosses" compares with).
        earnings: per symbol, the next earnings date; None = no earnings source at all.
        ex_dividend: per symbol, the next ex-dividend date; None = no dividend source at all.
        kalshi: markets from the Kalshi hook; None = Kalshi not connected.
        risk: the risk limits and the book's P&L in the max-loss scenario; None = not known.
    """

    day: date
    positions: tuple[PositionSnapshot, ...] = ()
    prices: Mapping[str, float] = field(default_factory=dict)
    betas: Mapping[str, tuple[float, int]] = field(default_factory=dict)
    spy_price: float = math.nan
    iv_history: Mapping[str, tuple[str, tuple[tuple[date, float], ...]]] = field(default_factory=dict)
    scan_best: Mapping[str, tuple[float, Mapping[str, object]]] = field(default_factory=dict)
    prev_scan_best: Mapping[str, float] = field(default_factory=dict)
    earnings: Mapping[str, date] | None = None
    ex_dividend: Mapping[str, date] | None = None
    kalshi: Sequence[KalshiQuote] | None = None
    risk: RiskLimitInput | None = None


Monitor = Callable[[MonitorInput, AlertSettings], list[AlertCandidate]]


def base_symbol(underlying: str) -> str:
    """``"SPXW"`` → ``"SPX"`` (the index the options are on); others unchanged, upper case."""
    text = underlying.strip().upper()
    return "SPX" if text == "SPXW" else text


def _options(inp: MonitorInput) -> list[tuple[OptionContract, PositionSnapshot]]:
    return [(p.contract, p) for p in inp.positions if isinstance(p.contract, OptionContract) and p.qty != 0]


def _position_facts(c: OptionContract, p: PositionSnapshot) -> list[Fact]:
    return [Fact("contract", c.describe()), Fact("qty", float(p.qty), "contracts")]


# ---- 1. expiration ----------------------------------------------------------------------------
def expiration(inp: MonitorInput, cfg: AlertSettings) -> list[AlertCandidate]:
    """Options with dte ≤ ``expiration_high_dte`` (HIGH) or ≤ ``expiration_critical_dte`` / expiring today (CRITICAL)."""
    out = []
    for c, p in _options(inp):
        dte = c.dte(inp.day)
        if dte < 0 or dte > cfg.expiration_high_dte:
            continue
        critical = dte <= cfg.expiration_critical_dte
        when = "today" if dte == 0 else f"in {dte} day{'s' if dte != 1 else ''}"
        facts = [*_position_facts(c, p), Fact("expiry", c.expiry.isoformat()), Fact("dte", float(dte), "days"),
                 Fact("underlying", p.und_price, "USD"), Fact("mark", p.mark, "USD/share")]
        out.append(AlertCandidate("expiration", c.local_symbol, Priority.CRITICAL if critical else Priority.HIGH,
                                  f"{c.describe()} expires {when}", tuple(facts),
                                  ("open_position", "close", "roll")))
    return out


# ---- 2. profit target -------------------------------------------------------------------------
def profit_target(inp: MonitorInput, cfg: AlertSettings) -> list[AlertCandidate]:
    """Short options that captured ≥ ``profit_target_pct`` of their max profit (the opening credit)."""
    out = []
    for c, p in _options(inp):
        captured = p.pct_max_profit
        if p.qty >= 0 or not math.isfinite(captured) or captured < cfg.profit_target_pct or c.dte(inp.day) < 0:
            continue
        credit_usd = p.avg_cost * abs(p.qty) * c.multiplier
        facts = [*_position_facts(c, p), Fact("opening credit", p.avg_cost, "USD/share"),
                 Fact("mark", p.mark, "USD/share"), Fact("captured", round(captured * 100.0, 1), "% of max profit"),
                 Fact("target", round(cfg.profit_target_pct * 100.0, 1), "%"),
                 Fact("profit so far", round(credit_usd * captured, 2), "USD"), Fact("dte", float(c.dte(inp.day)), "days")]
        out.append(AlertCandidate("profit_target", c.local_symbol, Priority.HIGH,
                                  f"{c.describe()}: {captured:.0%} of max profit captured — close?", tuple(facts),
                                  ("close", "open_position", "roll")))
    return out


# ---- 3. assignment risk -----------------------------------------------------------------------
def intrinsic(c: OptionContract, und_price: float) -> float:
    """Intrinsic value, USD per share (NaN without an underlying price)."""
    if not math.isfinite(und_price):
        return math.nan
    return max(c.strike - und_price, 0.0) if c.right == "P" else max(und_price - c.strike, 0.0)


def assignment_risk(inp: MonitorInput, cfg: AlertSettings) -> list[AlertCandidate]:
    """Short options ITM or within ``assignment_distance_pct`` of the strike with extrinsic value
    below ``assignment_max_extrinsic``; short calls ITM with an ex-dividend date before expiry."""
    out = []
    for c, p in _options(inp):
        und, dte = p.und_price, c.dte(inp.day)
        if p.qty >= 0 or dte < 0 or not math.isfinite(und) or und <= 0 or not math.isfinite(p.mark):
            continue
        value = intrinsic(c, und)
        extrinsic = max(p.mark - value, 0.0)
        itm = value > 0
        distance = (und - c.strike) / und if c.right == "P" else (c.strike - und) / und  # > 0 = OTM
        near = itm or distance <= cfg.assignment_distance_pct
        ex_div = inp.ex_dividend.get(base_symbol(c.underlying)) if inp.ex_dividend else None
        div_risk = c.right == "C" and itm and ex_div is not None and inp.day < ex_div <= c.expiry
        if not ((near and extrinsic < cfg.assignment_max_extrinsic) or div_risk):
            continue
        facts = [*_position_facts(c, p), Fact("underlying", und, "USD"), Fact("strike", c.strike, "USD"),
                 Fact("moneyness", "ITM" if itm else "OTM"),
                 Fact("distance to strike", round(distance * 100.0, 2), "% of underlying (negative = ITM)"),
                 Fact("intrinsic", round(value, 2), "USD/share"), Fact("extrinsic", round(extrinsic, 2), "USD/share"),
                 Fact("extrinsic threshold", cfg.assignment_max_extrinsic, "USD/share"), Fact("dte", float(dte), "days")]
        if div_risk and ex_div is not None:
            facts.append(Fact("ex-dividend", ex_div.isoformat()))
        elif c.right == "C" and inp.ex_dividend is None:
            facts.append(Fact("ex-dividend", "no dividend source: not checked"))
        if base_symbol(c.underlying) in CASH_SETTLED_ROOTS:
            facts.append(Fact("style", "European, cash-settled: no early assignment; ITM at expiry settles in cash"))
        priority = Priority.CRITICAL if itm and dte <= 1 else Priority.HIGH
        state = "ITM" if itm else f"{distance:.1%} from the strike"
        out.append(AlertCandidate("assignment", c.local_symbol, priority,
                                  f"{c.describe()} {state}, extrinsic {extrinsic:.2f} USD/share", tuple(facts),
                                  ("roll", "close", "open_position")))
    return out


# ---- 4. portfolio delta -----------------------------------------------------------------------
def spy_delta(inp: MonitorInput) -> tuple[float, list[Fact]]:
    """Net delta in SPY share-equivalents: Σ position delta (shares of its underlying) × beta ×
    underlying price / SPY price. Beta 1.0 is assumed (and said) where history is too short."""
    total, notes = 0.0, []
    spy = inp.spy_price
    for symbol in sorted({base_symbol(p.contract.underlying) for p in inp.positions
                          if isinstance(p.contract, OptionContract)} | {
                          p.contract.symbol for p in inp.positions if not isinstance(p.contract, OptionContract)}):
        rows = [p for p in inp.positions if _symbol_of(p) == symbol]
        shares = sum(p.delta for p in rows)
        price = inp.prices.get(symbol, math.nan)
        beta, n = inp.betas.get(symbol, (math.nan, 0))
        if symbol == "SPY":
            beta, n = 1.0, -1
        if not math.isfinite(beta):
            notes.append(Fact(f"{symbol} beta", f"1.0 assumed (only {n} of {BETA_MIN_DAYS} days of common history)"))
            beta = 1.0
        elif n >= 0:
            notes.append(Fact(f"{symbol} beta to SPY", round(beta, 3), f"({n} daily returns)"))
        notes.append(Fact(f"{symbol} delta", round(shares, 1), f"{symbol} shares"))
        total += shares * beta * price / spy
    return total, notes


def _symbol_of(p: PositionSnapshot) -> str:
    c = p.contract
    return base_symbol(c.underlying) if isinstance(c, OptionContract) else c.symbol.upper()


def portfolio_delta(inp: MonitorInput, cfg: AlertSettings) -> list[AlertCandidate]:
    """Net delta beta-weighted to SPY outside ± ``delta_band_shares`` (MEDIUM; HIGH beyond twice the band)."""
    if not inp.positions or not math.isfinite(inp.spy_price) or inp.spy_price <= 0:
        return []
    net, facts = spy_delta(inp)
    band = cfg.delta_band_shares
    if not math.isfinite(net) or abs(net) <= band:
        return []
    side = "long" if net > 0 else "short"
    priority = Priority.HIGH if abs(net) > 2 * band else Priority.MEDIUM
    facts = [Fact("net delta", round(net, 1), "SPY shares (beta-weighted)"), Fact("band", band, "SPY shares either side"),
             Fact("SPY", inp.spy_price, "USD"), *facts]
    return [AlertCandidate("delta", "portfolio", priority,
                           f"Portfolio is {side} {abs(net):,.0f} SPY-equivalent shares (band ±{band:,.0f})",
                           tuple(facts), ("open_ticket", "open_chart"))]


# ---- 5. earnings ------------------------------------------------------------------------------
def earnings_risk(inp: MonitorInput, cfg: AlertSettings) -> list[AlertCandidate]:
    """An earnings date on or before a position's expiry (from the market data's earnings source)."""
    if inp.earnings is None:
        return []
    out = []
    for c, p in _options(inp):
        when = inp.earnings.get(base_symbol(c.underlying))
        if when is None or not inp.day <= when <= c.expiry:
            continue
        days = (when - inp.day).days
        facts = [*_position_facts(c, p), Fact("earnings", when.isoformat()), Fact("days to earnings", float(days), "days"),
                 Fact("expiry", c.expiry.isoformat())]
        out.append(AlertCandidate("earnings", c.local_symbol,
                                  Priority.HIGH if days <= EARNINGS_SOON_DAYS else Priority.MEDIUM,
                                  f"{base_symbol(c.underlying)} reports on {when} before {c.describe()} expires",
                                  tuple(facts), ("open_position", "close", "roll")))
    return out


# ---- 6. watchlist opportunities ---------------------------------------------------------------
def watchlist_opportunity(inp: MonitorInput, cfg: AlertSettings) -> list[AlertCandidate]:
    """A watchlist symbol whose best scanner score rose to ≥ ``watchlist_min_score`` from below it."""
    out = []
    threshold = cfg.watchlist_min_score
    for symbol, (score, row) in sorted(inp.scan_best.items()):
        before = inp.prev_scan_best.get(symbol, math.nan)
        if not math.isfinite(score) or score < threshold or (math.isfinite(before) and before >= threshold):
            continue
        expiry = row.get("expiry")
        facts = [Fact("score", round(score, 4), "(decimal)"), Fact("threshold", threshold, "(decimal)"),
                 Fact("previous score", before if math.isnan(before) else round(before, 4), "(decimal)"),
                 Fact("contract", f"{row.get('underlying', symbol)} {expiry} {row.get('strike', math.nan):g} {row.get('right', '')}"),
                 Fact("bid", float(row.get("bid", math.nan)), "USD/share"),  # type: ignore[arg-type]
                 Fact("delta", round(float(row.get("delta", math.nan)), 3)),  # type: ignore[arg-type]
                 Fact("annualized return", round(float(row.get("annualized_return", math.nan)) * 100.0, 1), "%")]  # type: ignore[arg-type]
        out.append(AlertCandidate("watchlist", symbol, Priority.LOW,
                                  f"{symbol}: scanner score {score:.3f} crossed {threshold:g}", tuple(facts),
                                  ("open_ticket", "open_chart")))
    return out


# ---- 7. unusual IV ----------------------------------------------------------------------------
def iv_rank(history: Sequence[tuple[date, float]]) -> float:
    """IV rank of the last value within the history, 0-100: (iv − min) / (max − min) × 100; NaN
    with fewer than two values or a flat history."""
    values = [v for _d, v in history if math.isfinite(v)]
    if len(values) < 2:
        return math.nan
    lo, hi = min(values), max(values)
    return math.nan if hi <= lo else (values[-1] - lo) / (hi - lo) * 100.0


def unusual_iv(inp: MonitorInput, cfg: AlertSettings) -> list[AlertCandidate]:
    """IV rank ≥ ``iv_rank_min`` or a day-over-day IV rise ≥ ``iv_jump_points`` vol points."""
    out = []
    for symbol, (source, history) in sorted(inp.iv_history.items()):
        if not history or history[-1][0] != inp.day:
            continue
        rank = iv_rank(history)
        iv_now = history[-1][1]
        jump = (iv_now - history[-2][1]) * 100.0 if len(history) >= 2 else math.nan
        high_rank = math.isfinite(rank) and rank >= cfg.iv_rank_min
        jumped = math.isfinite(jump) and jump >= cfg.iv_jump_points
        if not (high_rank or jumped):
            continue
        facts = [Fact("iv", round(iv_now * 100.0, 2), "% (annualised)"), Fact("iv source", source),
                 Fact("iv rank", round(rank, 1), f"(0-100, over {len(history)} days)"),
                 Fact("day-over-day change", round(jump, 2), "vol points"),
                 Fact("rank threshold", cfg.iv_rank_min), Fact("jump threshold", cfg.iv_jump_points, "vol points")]
        why = " and ".join(w for w, on in ((f"IV rank {rank:.0f}", high_rank), (f"IV +{jump:.1f} vol points", jumped)) if on)
        out.append(AlertCandidate("iv", symbol, Priority.MEDIUM, f"{symbol}: {why}", tuple(facts),
                                  ("open_chart", "open_ticket")))
    return out


# ---- 8. Kalshi (the hook) ---------------------------------------------------------------------
def kalshi_edge(q: KalshiQuote) -> float:
    """Edge of buying YES, USD per 1-USD contract: model probability − ask − fee."""
    return q.model_prob - q.yes_ask_usd - q.fee_usd


def kalshi_mispricing(inp: MonitorInput, cfg: AlertSettings) -> list[AlertCandidate]:
    """Kalshi markets where the model's probability beats the ask by ≥ ``kalshi_min_edge`` after fees.
    Nothing until a Kalshi source fills ``MonitorInput.kalshi``."""
    out = []
    for q in inp.kalshi or ():
        edge = kalshi_edge(q)
        if not math.isfinite(edge) or edge < cfg.kalshi_min_edge:
            continue
        facts = (Fact("model probability", round(q.model_prob * 100.0, 1), "%"), Fact("yes ask", q.yes_ask_usd, "USD"),
                 Fact("fee", q.fee_usd, "USD/contract"), Fact("edge after fees", round(edge, 4), "USD/contract"))
        out.append(AlertCandidate("kalshi", q.ticker, Priority.MEDIUM, f"{q.ticker}: edge {edge:.2f} USD after fees",
                                  facts, ("open_ticket",)))
    return out


# ---- 9. risk limits ----------------------------------------------------------------------------
def short_put_notional(positions: Sequence[PositionSnapshot]) -> float:
    """Σ strike × multiplier × |qty| over short puts, USD (the cash a full assignment would take)."""
    return float(sum(p.contract.strike * p.contract.multiplier * -p.qty for p in positions
                     if isinstance(p.contract, OptionContract) and p.contract.right == "P" and p.qty < 0))


def underlying_notional(inp: MonitorInput) -> dict[str, float]:
    """Gross notional per underlying (normalised symbol), USD: Σ |qty| × multiplier × underlying price
    over its options, plus |shares| × price for stock. A position without any price counts NaN."""
    out: dict[str, float] = {}
    for p in inp.positions:
        if p.qty == 0:
            continue
        c = p.contract
        symbol = _symbol_of(p)
        if isinstance(c, OptionContract):
            price = p.und_price if math.isfinite(p.und_price) else inp.prices.get(symbol, math.nan)
            value = abs(p.qty) * c.multiplier * price
        else:
            price = p.mark if math.isfinite(p.mark) else inp.prices.get(symbol, math.nan)
            value = abs(p.qty) * price
        out[symbol] = out.get(symbol, 0.0) + value
    return out


def _limit_alert(subject: str, title: str, value: float, limit: float, facts: list[Fact]) -> AlertCandidate:
    priority = Priority.CRITICAL if value >= RISK_CRITICAL_RATIO * limit else Priority.HIGH
    facts = [Fact("limit", round(float(limit), 2), "USD"), Fact("current", round(float(value), 2), "USD"),
             Fact("over the limit by", round((value / limit - 1.0) * 100.0, 1), "%"), *facts]
    return AlertCandidate("risk_limits", subject, priority, title, tuple(facts), ("open_position",))


def risk_limits(inp: MonitorInput, cfg: AlertSettings) -> list[AlertCandidate]:
    """The limits of Settings → Risk (``inp.risk``): a HIGH alert per breached limit, CRITICAL at
    ``RISK_CRITICAL_RATIO`` × the limit or more. Subjects: ``max_loss:<scenario>``,
    ``short_put_notional``, ``underlying:<symbol>``. Nothing while every limit is off."""
    if inp.risk is None:
        return []
    lim, out = inp.risk.limits, []
    if lim.max_loss_usd is not None and math.isfinite(inp.risk.scenario_pnl) and -inp.risk.scenario_pnl > lim.max_loss_usd:
        loss, name = -inp.risk.scenario_pnl, inp.risk.scenario
        out.append(_limit_alert(f"max_loss:{name}", f"Loss in scenario {name} {loss:,.0f} USD exceeds the limit "
                                f"{lim.max_loss_usd:,.0f} USD", loss, lim.max_loss_usd,
                                [Fact("scenario", f"{name} — {inp.risk.scenario_label}"),
                                 Fact("scenario P&L", round(inp.risk.scenario_pnl, 2), "USD"),
                                 Fact("computed", inp.risk.source)]))
    if lim.max_short_put_notional_usd is not None:
        notional = short_put_notional(inp.positions)
        if notional > lim.max_short_put_notional_usd:
            count = sum(1 for p in inp.positions if isinstance(p.contract, OptionContract)
                        and p.contract.right == "P" and p.qty < 0)
            out.append(_limit_alert("short_put_notional", f"Short-put notional {notional:,.0f} USD exceeds the limit "
                                    f"{lim.max_short_put_notional_usd:,.0f} USD", notional,
                                    lim.max_short_put_notional_usd,
                                    [Fact("short put positions", float(count)),
                                     Fact("notional", "strike × multiplier × contracts")]))
    if lim.max_underlying_notional_usd is not None:
        for symbol, notional in sorted(underlying_notional(inp).items()):
            if math.isfinite(notional) and notional > lim.max_underlying_notional_usd:
                out.append(_limit_alert(f"underlying:{symbol}", f"{symbol} notional {notional:,.0f} USD exceeds the "
                                        f"per-underlying limit {lim.max_underlying_notional_usd:,.0f} USD", notional,
                                        lim.max_underlying_notional_usd,
                                        [Fact("underlying", symbol),
                                         Fact("notional", "|qty| × multiplier × underlying price")]))
    return out


@dataclass(frozen=True, slots=True)
class MonitorSpec:
    """A monitor: its ``name`` (the settings prefix and the de-duplication key), label, function."""

    name: str
    label: str
    run: Monitor
    settings_prefix: str

    def enabled(self, cfg: AlertSettings) -> bool:
        return bool(getattr(cfg, f"{self.settings_prefix}_enabled"))

    def cadence(self, cfg: AlertSettings) -> str:
        return str(getattr(cfg, f"{self.settings_prefix}_cadence"))


MONITORS: tuple[MonitorSpec, ...] = (
    MonitorSpec("expiration", "Position expiration", expiration, "expiration"),
    MonitorSpec("profit_target", "Profit target", profit_target, "profit_target"),
    MonitorSpec("assignment", "Assignment risk", assignment_risk, "assignment"),
    MonitorSpec("delta", "Portfolio delta", portfolio_delta, "delta"),
    MonitorSpec("earnings", "Earnings risk", earnings_risk, "earnings"),
    MonitorSpec("watchlist", "Watchlist opportunities", watchlist_opportunity, "watchlist"),
    MonitorSpec("iv", "Unusual IV", unusual_iv, "iv"),
    MonitorSpec("kalshi", "Kalshi mispricing", kalshi_mispricing, "kalshi"),
    MonitorSpec("risk_limits", "Risk limits", risk_limits, "risk_limits"),
)
MONITOR_NAMES: tuple[str, ...] = tuple(m.name for m in MONITORS)


@dataclass(frozen=True, slots=True)
class MonitorRun:
    """What one run of the monitors produced: candidates, and (monitor name, message) per failure."""

    candidates: tuple[AlertCandidate, ...]
    failures: tuple[tuple[str, str], ...] = ()


def run_monitors(inp: MonitorInput, cfg: AlertSettings, names: Sequence[str] | None = None,
                 monitors: Sequence[MonitorSpec] = MONITORS) -> MonitorRun:
    """Run the enabled monitors (only ``names`` when given), each isolated from the others."""
    found: list[AlertCandidate] = []
    failures: list[tuple[str, str]] = []
    for spec in monitors:
        if (names is not None and spec.name not in names) or not spec.enabled(cfg):
            continue
        try:
            found.extend(spec.run(inp, cfg))
        except Exception as exc:  # a broken monitor must not stop the others
            log.exception("monitor %s failed on %s", spec.name, inp.day)
            failures.append((spec.name, f"{type(exc).__name__}: {exc}"))
    return MonitorRun(tuple(found), tuple(failures))
