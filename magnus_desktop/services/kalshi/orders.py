"""Kalshi order figures and audit rows (no I/O): what a ticket costs, risks and may win, the
problems that keep it from being sent, and the audit row of each step."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from datetime import UTC, datetime

from magnus_desktop.analytics.kalshi_fees import KellyStake, buy_cost, kelly_stake
from magnus_desktop.models.audit import AuditEntry
from magnus_desktop.models.kalshi import Balance, KalshiMarket, KalshiOrder, OrderRequest


@dataclass(frozen=True, slots=True)
class KalshiPreview:
    """What a ticket would do (cents unless named USD); ``problems`` non-empty = it cannot be sent.

    ``fee_cents`` is the taker fee (the order crosses the book); a resting (maker) fill may pay less.
    ``edge_usd`` and ``stake`` exist only when a model probability does.
    """

    request: OrderRequest
    cost_cents: int
    fee_cents: int
    max_loss_cents: int
    max_profit_cents: int
    balance_after_cents: int | None
    crosses: bool
    problems: tuple[str, ...] = ()
    model_prob: float | None = None
    edge_usd: float | None = None
    stake: KellyStake | None = None


def preview_order(req: OrderRequest, m: KalshiMarket | None, balance: Balance | None, model_prob: float | None,
                  *, kelly_fraction: float, kelly_cap: float) -> KalshiPreview:
    """A buy ticket's cost, taker fee, max loss and profit, balance after, and its problems.

    Args:
        req: the ticket. m: its market as loaded (None: unknown). balance: the account's last balance
            (None: not read). model_prob: our probability of YES (None: no model).
        kelly_fraction, kelly_cap: the stake sizing of Settings → Kalshi.
    """
    problems: list[str] = []
    if m is None:
        problems.append(f"Unknown market {req.ticker}.")
    elif not m.is_open:
        problems.append(f"The market {req.ticker} is {m.status or 'not open'}: it takes no orders.")
    price_ok = isinstance(req.price_cents, int) and 1 <= req.price_cents <= 99
    count_ok = isinstance(req.count, int) and req.count >= 1
    if not price_ok:
        problems.append(f"The limit price must be whole cents from 1 to 99, not {req.price_cents}.")
    if not count_ok:
        problems.append(f"The number of contracts must be a whole number ≥ 1, not {req.count}.")
    if req.action != "buy":
        problems.append("The ticket buys YES or NO; to exit, buy the other side or cancel a resting order.")
    if not (price_ok and count_ok):
        return KalshiPreview(req, 0, 0, 0, 0, None, False, tuple(problems))
    cost = buy_cost(req.price_cents, req.count)
    ask = None if m is None else (m.yes_ask_cents if req.side == "yes" else m.no_ask_cents)
    crosses = ask is not None and req.price_cents >= ask
    after = balance.balance_cents - cost.max_loss_cents if balance is not None else None
    if balance is not None and after is not None and after < 0:
        problems.append(f"Not enough Kalshi balance: the order needs {cost.max_loss_cents / 100:,.2f} USD, "
                        f"the balance is {balance.balance_cents / 100:,.2f} USD.")
    edge = stake = None
    if model_prob is not None:
        p_side = model_prob if req.side == "yes" else 1.0 - model_prob
        edge = p_side - (cost.cost_cents + cost.fee_cents) / 100.0 / req.count
        if balance is not None:
            stake = kelly_stake(p_side, req.price_cents, balance.balance_cents / 100.0,
                                fraction=kelly_fraction, cap=kelly_cap)
    return KalshiPreview(req, cost.cost_cents, cost.fee_cents, cost.max_loss_cents, cost.max_profit_cents,
                         after, crosses, tuple(problems), model_prob, edge, stake)


def audit_entry(account: str, req: OrderRequest, action: str, result: str, p: KalshiPreview | None, *,
                latency_ms: float | None = None, order: KalshiOrder | None = None) -> AuditEntry:
    """The audit row of one step of a Kalshi order (``limit_price`` USD per contract, ``*_cents``
    cents, amounts USD; ``order_ref`` = the ``client_order_id``)."""
    params = {"symbol": req.ticker, "ticker": req.ticker, "side": req.side, "action": f"{req.action} {req.side}",
              "qty": req.count, "limit_price": req.price_cents / 100, "limit_price_cents": req.price_cents,
              "order_type": "limit", "tif": req.time_in_force, "client_order_id": req.client_order_id,
              "venue": "kalshi"}
    preview: dict[str, object] = {}
    if p is not None:
        preview = {"cost_usd": p.cost_cents / 100, "fee_usd": p.fee_cents / 100, "max_loss_usd": p.max_loss_cents / 100,
                   "max_profit_usd": p.max_profit_cents / 100, "crosses": p.crosses, "problems": list(p.problems),
                   "balance_after_usd": None if p.balance_after_cents is None else p.balance_after_cents / 100,
                   "model_prob": p.model_prob, "edge_usd": p.edge_usd,
                   "stake": None if p.stake is None else asdict(p.stake)}
    return AuditEntry(at=datetime.now(UTC), account=account, action=action,  # type: ignore[arg-type]
                      order_ref=req.client_order_id, params=params, preview=preview, result=result,
                      broker_order_id=order.order_id if order is not None else "", source="kalshi",
                      latency_ms=latency_ms, filled_qty=order.fill_count if order is not None else math.nan,
                      avg_fill_price=order.avg_fill_price_usd if order is not None else math.nan)
