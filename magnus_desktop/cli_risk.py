"""``magnus-desktop risk``: the Risk dock's figures, headless.

Usage::

    magnus-desktop risk [--account demo] [--replay-date YYYY-MM-DD] [--format table|json]

The demo account is its stored fills when the app's database (the top-level ``--db-url``, else
the SQLite file in the user data dir) holds it, opened read-only; otherwise its opening book
(``DEMO_SEED``, filled at each day's recorded bid), as a new install starts. It is marked on the
replay day (default: the last recorded day) with the bundled real data. The trader's own stress
scenarios (the Risk dock's editor, kept in the settings file) are computed next to the built-in
ones; the settings file is only read (a file that cannot be used is named on stderr and skipped).

JSON fields (USD unless named; see ``analytics.risk`` for Greek units)::

    {"account", "as_of", "positions": [{"label", "qty", "mark", "iv", "dte", "flag"}],
     "flagged": [{"position", "note"}], "excluded": [{"position", "reason"}],
     "greeks": {"total": {...}, "by_bucket": {"≤ 7 DTE": {...}, ...}, "by_underlying": {...}},
       each {"positions", "delta_shares", "delta_dollars", "beta_delta_spy", "gamma", "theta", "vega"},
     "betas": {underlying: {"beta", "window"}},
     "var": {"historical"|"delta-gamma"|"monte carlo": {"var_95_1d", "var_99_1d", "es_95_1d", "es_99_1d",
             "var_95_10d", "var_99_10d", "es_95_10d", "es_99_10d", "window"}},
     "scenarios": {"2018-02-05": {"label", "pnl", "margin_change", "source", "worst_position",
                   "kind": "built-in"|"user", "margin_before", "margin_after",
                   "ranked": [{"position", "pnl", "move"}] (worst first)}, ...; user scenarios keyed by their name},
     "replay_2018_02_05": [{"day", "spx", "vix", "model_pnl", "recorded_pnl"}],
     "backtest": {"days", "exceedances_95", "kupiec_95_lr", "kupiec_95_p", "exceedances_99", ...} | null,
     "errors": {part: why}}

Exit codes: 0 = printed; 2 = bad input (unknown account, date outside the replay), one line on stderr.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from datetime import date
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from magnus_desktop.models.domain import Fill
    from magnus_desktop.services.market.recorded import ReplayMarketData
    from magnus_desktop.services.risk.report import RiskReport

EXIT_OK = 0
EXIT_USAGE = 2
PROG = "magnus-desktop risk"


def add_risk_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Register the ``risk`` sub-command on an ``argparse`` subparsers object."""
    from magnus_desktop.cli import _iso_date

    p: argparse.ArgumentParser = subparsers.add_parser(
        "risk", help="Greeks, VaR/ES, stress scenarios and the 5 Feb 2018 replay of an account",
        description="Risk of an account on a replay day: Greeks by DTE bucket and underlying, VaR and "
        "expected shortfall (historical full revaluation, delta-gamma, Monte Carlo), built-in stress "
        "scenarios and the replay of the book through the week of 2018-02-05. Amounts in USD.",
        epilog="Exit codes: 0 = printed; 2 = bad input (one line on stderr).")
    p.add_argument("--account", default="demo", help="account (only 'demo' can be computed headless)")
    p.add_argument("--replay-date", dest="risk_replay_date", type=_iso_date, metavar="YYYY-MM-DD",
                   help="replay day (default: the last recorded day)")
    p.add_argument("--format", choices=("table", "json"), default="table", help="output format (default table)")
    return p


def demo_fills(market: ReplayMarketData, db_url: str | None) -> list[Fill]:
    """The demo account's stored fills (read-only), else its opening book from ``DEMO_SEED``."""
    stored = _stored_fills(db_url)
    return stored if stored else seed_fills(market)


def _stored_fills(db_url: str | None) -> list[Fill]:
    from magnus_desktop.services.paths import app_paths
    from magnus_desktop.services.portfolio.demo import DEMO_ACCOUNT
    from magnus_desktop.services.storage import AccountRepo, Database, StorageError, TradeRepo

    path = app_paths().default_db_file
    if db_url is None and not path.is_file():
        return []
    try:
        db = Database.open(db_url, migrate=False) if db_url else Database.open_read_only(path)
    except StorageError:
        return []
    try:
        account = AccountRepo(db).get_or_create(DEMO_ACCOUNT, "demo", 0.0)
        return TradeRepo(db).fills(account.account_id)
    except StorageError:
        return []
    finally:
        db.close()


def seed_fills(market: ReplayMarketData) -> list[Fill]:
    """``DEMO_SEED`` sold at each trade day's recorded bid, commission from default Settings."""
    from magnus_desktop.models.domain import Fill, OptionContract
    from magnus_desktop.services.portfolio.demo import DEMO_SEED
    from magnus_desktop.services.settings import Settings

    commission = Settings().commission_per_contract
    out = []
    for i, trade in enumerate(DEMO_SEED):
        contract = OptionContract("SPXW", trade.expiry, trade.strike, "P")
        bid = market.option_quote(contract, trade.trade_date).bid
        if math.isfinite(bid):
            out.append(Fill(contract, -trade.qty, bid, commission * trade.qty, trade.trade_date, f"seed-{i}"))
    return out


def build_report(account: str, day: date | None, db_url: str | None) -> RiskReport:
    """The report of ``account`` on ``day`` (None = the last recorded day).

    Raises:
        ValueError: an account other than demo, or a day outside the replay calendar.
    """
    from magnus_desktop.services.market.recorded import ReplayMarketData
    from magnus_desktop.services.paths import app_paths
    from magnus_desktop.services.portfolio.marking import account_summary
    from magnus_desktop.services.risk.positions import to_risk_positions
    from magnus_desktop.services.risk.report import compute_report
    from magnus_desktop.services.risk.scenarios import to_scenarios
    from magnus_desktop.services.settings import SettingsStore

    if account.strip().lower() != "demo":
        raise ValueError(f"account {account!r} cannot be computed headless: a real account's positions come "
                         "from its broker session (open the app's Risk dock); use --account demo")
    market = ReplayMarketData.from_resources()
    days = market.trading_days()
    day = day or days[-1]
    if not days[0] <= day <= days[-1]:
        raise ValueError(f"--replay-date {day.isoformat()} is outside the replay ({days[0]} .. {days[-1]})")
    day = max(d for d in days if d <= day)
    # the trader's rate, dividend yield, demo capital and scenarios, as the Risk dock uses them (read only)
    settings, problem = SettingsStore(app_paths().settings_file).peek()
    if problem is not None:
        print(f"{PROG}: warning: {problem}: built-in scenarios only", file=sys.stderr)
    rate, div = settings.risk_free_rate, settings.dividend_yield
    fills = demo_fills(market, db_url)
    summary = account_summary(fills, day, market, days, starting_cash=settings.demo_starting_cash, rate=rate,
                              div_yield=div)
    positions = to_risk_positions(summary.positions, day, rate, div, market=market, days=days)
    return compute_report("demo", positions, day, market, rate=rate, div_yield=div, fills=fills,
                          user_scenarios=to_scenarios(list(settings.risk_scenarios)))


def run_risk(args: argparse.Namespace) -> int:
    """Print the report described by ``args``; returns the exit code."""
    try:
        report = build_report(args.account, args.risk_replay_date, getattr(args, "db_url", None))
    except ValueError as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    doc = report_document(report)
    text = json.dumps(doc, indent=1, ensure_ascii=False) + "\n" if args.format == "json" else format_table(doc)
    sys.stdout.write(text)
    return EXIT_OK


def _num(x: float) -> float | None:
    return round(float(x), 2) if math.isfinite(x) else None


def _greeks(row: Any) -> dict[str, Any]:
    return {"positions": row.positions, "delta_shares": _num(row.delta_shares), "delta_dollars": _num(row.delta_dollars),
            "beta_delta_spy": _num(row.beta_delta_spy), "gamma": round(row.gamma, 4), "theta": _num(row.theta),
            "vega": _num(row.vega)}


def report_document(r: RiskReport) -> dict[str, Any]:
    """The JSON object described in the module docstring."""
    bt = r.backtest
    return {
        "account": r.account, "as_of": r.as_of.isoformat(),
        "positions": [{"label": p.label, "qty": p.qty, "mark": _num(p.mark), "iv": _num(p.iv * 100) if p.kind ==
                       "option" else None, "dte": p.dte, "flag": p.mark_note} for p in r.positions],
        "flagged": [{"position": a, "note": b} for a, b in r.flagged],
        "excluded": [{"position": a, "reason": b} for a, b in r.excluded],
        "greeks": {"total": _greeks(r.greeks.total), "by_bucket": {g.name: _greeks(g) for g in r.greeks.by_bucket},
                   "by_underlying": {g.name: _greeks(g) for g in r.greeks.by_underlying}},
        "betas": {u: {"beta": _num(b.value), "window": b.window} for u, b in r.betas.items()},
        "var": {v.method: {**{k: _num(x) for k, x in v.figures.items()}, "window": v.window} for v in r.var},
        "scenarios": {s.scenario.name: {"label": s.scenario.label, "pnl": _num(s.pnl),
                                        "margin_change": _num(s.margin_change), "source": s.scenario.source,
                                        "worst_position": s.ranked[0][0] if s.ranked else None,
                                        "kind": "user" if s.scenario.user else "built-in",
                                        "margin_before": _num(s.margin_before), "margin_after": _num(s.margin_after),
                                        "ranked": [{"position": label, "pnl": _num(pnl), "move": how}
                                                   for label, pnl, how in s.ranked]} for s in r.stress},
        "replay_2018_02_05": [{"day": row.path.day.isoformat(), "spx": row.path.spx, "vix": row.path.vix,
                               "model_pnl": _num(row.model_pnl), "recorded_pnl": _num(row.recorded_pnl)}
                              for row in r.replay],
        "backtest": None if bt is None else {
            "days": len(bt.days), "exceedances_95": bt.kupiec_95.exceedances, "kupiec_95_lr": round(bt.kupiec_95.lr, 4),
            "kupiec_95_p": round(bt.kupiec_95.p_value, 4), "exceedances_99": bt.kupiec_99.exceedances,
            "kupiec_99_lr": round(bt.kupiec_99.lr, 4), "kupiec_99_p": round(bt.kupiec_99.p_value, 4)},
        "errors": r.errors,
    }


def _fmt(x: Any) -> str:
    return "—" if x is None else f"{x:,.2f}" if isinstance(x, float) else str(x)


def format_table(doc: dict[str, Any]) -> str:
    """Plain text: positions, Greeks, VaR/ES, scenarios, the replay, the backtest, errors."""
    lines = [f"Risk of account {doc['account']} on {doc['as_of']} (USD)"]
    for f in doc["flagged"]:
        lines.append(f"  FLAG {f['position']}: {f['note']}")
    for e in doc["excluded"]:
        lines.append(f"  NOT VALUED {e['position']}: {e['reason']}")
    lines += ["", "Greeks (delta shares / USD, beta-weighted SPY shares, gamma per point, theta per day, vega per vol pt)"]
    groups = [("total", doc["greeks"]["total"]), *doc["greeks"]["by_bucket"].items(),
              *doc["greeks"]["by_underlying"].items()]
    for name, g in groups:
        lines.append(f"  {name:<12} n={g['positions']:<3} delta {_fmt(g['delta_shares'])} sh  {_fmt(g['delta_dollars'])} $  "
                     f"beta-wtd {_fmt(g['beta_delta_spy'])} SPY  gamma {g['gamma']:.4f}  theta {_fmt(g['theta'])}  "
                     f"vega {_fmt(g['vega'])}")
    lines += ["", "VaR / ES (loss, USD)"]
    for method, v in doc["var"].items():
        figs = "  ".join(f"{k} {_fmt(x)}" for k, x in v.items() if k != "window")
        lines += [f"  {method}: {figs}", f"    window: {v['window']}"]
    lines += ["", "Stress scenarios (P&L, margin change)"]
    for name, s in doc["scenarios"].items():
        lines.append(f"  {name:<11} {_fmt(s['pnl']):>12}  margin {_fmt(s['margin_change']):>12}  {s['label']}; "
                     f"{s['source']}")
        if s["ranked"]:
            worst = s["ranked"][0]
            lines.append(f"  {'':<11} worst position: {worst['position']} {_fmt(worst['pnl'])} ({worst['move']})")
    lines += ["", "Replay of this book through the week of 2018-02-05 (P&L vs today)"]
    for row in doc["replay_2018_02_05"]:
        lines.append(f"  {row['day']}  SPX {row['spx']:.2f}  VIX {row['vix']:.2f}  model {_fmt(row['model_pnl'])}  "
                     f"recorded {_fmt(row['recorded_pnl'])}")
    bt = doc["backtest"]
    if bt:
        lines += ["", f"Backtest of historical 1-day VaR over {bt['days']} replay days: 95 %: {bt['exceedances_95']} "
                  f"exceedances (Kupiec LR {bt['kupiec_95_lr']}, p {bt['kupiec_95_p']}); 99 %: {bt['exceedances_99']} "
                  f"(LR {bt['kupiec_99_lr']}, p {bt['kupiec_99_p']})"]
    for part, why in doc["errors"].items():
        lines.append(f"  {part}: {why}")
    return "\n".join(lines) + "\n"
