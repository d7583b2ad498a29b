"""The one place API JSON becomes :mod:`magnus_desktop.models.kalshi` records (and back).

Kalshi has carried prices three ways: legacy integer cents (``yes_bid: 35``), fixed-point dollar
strings (``yes_bid_dollars: "0.3500"``) and, for counts, fixed-point strings (``volume_fp:
"39.00"``). Each reader takes the ``_dollars`` / ``_fp`` field when present and the legacy one
otherwise, so recorded responses of either era convert the same way.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from magnus_desktop.models.kalshi import (
    Balance,
    Candle,
    KalshiEvent,
    KalshiFill,
    KalshiMarket,
    KalshiOrder,
    KalshiPosition,
    KalshiSeries,
    KalshiSettlement,
    OrderBook,
    OrderRequest,
    PublicTrade,
)

Json = Mapping[str, Any]


def dollars_to_cents(value: Any) -> int | None:
    """``"0.3500"`` → 35 (half-up to the cent); None for missing or unparseable values."""
    if value is None or value == "":
        return None
    try:
        d = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None
    if not d.is_finite():
        return None
    return int((d * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def _usd(value: Any) -> float:
    try:
        out = float(value)
    except (TypeError, ValueError):
        return math.nan
    return out if math.isfinite(out) else math.nan


def _nan0(value: Any) -> float:
    out = _usd(value)
    return 0.0 if math.isnan(out) else out


def _price(obj: Json, name: str) -> int | None:
    """A price in cents from ``<name>_dollars`` or legacy ``<name>``; 0 and 100 (no quote) → None."""
    cents = dollars_to_cents(obj.get(f"{name}_dollars"))
    if cents is None:
        legacy = obj.get(name)
        cents = int(legacy) if isinstance(legacy, (int, float)) and not isinstance(legacy, bool) else None
    if cents is None or not 1 <= cents <= 99:
        return None
    return cents


def _count(obj: Json, name: str) -> float:
    value = obj.get(f"{name}_fp", obj.get(name))
    out = _usd(value)
    return 0.0 if math.isnan(out) else out


def parse_time(value: Any) -> datetime | None:
    """ISO-8601 text (``Z`` allowed) or Unix seconds → aware UTC datetime; None when absent/bad."""
    if value is None or value == "":
        return None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return datetime.fromtimestamp(float(value), tz=UTC)
    try:
        out = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None
    return out if out.tzinfo is not None else out.replace(tzinfo=UTC)


def series(obj: Json) -> KalshiSeries:
    tags = obj.get("tags") or ()
    return KalshiSeries(ticker=str(obj["ticker"]), title=str(obj.get("title") or ""),
                        category=str(obj.get("category") or ""), tags=tuple(str(t) for t in tags),
                        frequency=str(obj.get("frequency") or ""))


def event(obj: Json) -> KalshiEvent:
    return KalshiEvent(event_ticker=str(obj["event_ticker"]), series_ticker=str(obj.get("series_ticker") or ""),
                       title=str(obj.get("title") or ""), sub_title=str(obj.get("sub_title") or ""),
                       category=str(obj.get("category") or ""),
                       mutually_exclusive=bool(obj.get("mutually_exclusive")),
                       strike_date=parse_time(obj.get("strike_date")))


def market(obj: Json) -> KalshiMarket:
    liquidity = obj.get("liquidity_dollars")
    liquidity_usd = _usd(liquidity) if liquidity is not None else _usd(obj.get("liquidity")) / 100.0
    return KalshiMarket(
        ticker=str(obj["ticker"]), event_ticker=str(obj.get("event_ticker") or ""),
        title=str(obj.get("title") or ""), subtitle=str(obj.get("subtitle") or ""),
        yes_sub_title=str(obj.get("yes_sub_title") or ""), status=str(obj.get("status") or ""),
        yes_bid_cents=_price(obj, "yes_bid"), yes_ask_cents=_price(obj, "yes_ask"),
        no_bid_cents=_price(obj, "no_bid"), no_ask_cents=_price(obj, "no_ask"),
        last_price_cents=_price(obj, "last_price"), volume=_count(obj, "volume"),
        volume_24h=_count(obj, "volume_24h"), open_interest=_count(obj, "open_interest"),
        liquidity_usd=liquidity_usd, open_time=parse_time(obj.get("open_time")),
        close_time=parse_time(obj.get("close_time")), expiration_time=parse_time(obj.get("expiration_time")),
        result=str(obj.get("result") or ""), rules_primary=str(obj.get("rules_primary") or ""),
        rules_secondary=str(obj.get("rules_secondary") or ""), category=str(obj.get("category") or ""))


def market_to_json(m: KalshiMarket) -> dict[str, Any]:
    """A market as API-shaped JSON (``_dollars`` prices, ``_fp`` counts) for the offline cache;
    :func:`market` reads it back unchanged."""

    def d(cents: int | None) -> str | None:
        return None if cents is None else f"{cents / 100:.4f}"

    def t(x: datetime | None) -> str | None:
        return None if x is None else x.isoformat()

    return {"ticker": m.ticker, "event_ticker": m.event_ticker, "title": m.title, "subtitle": m.subtitle,
            "yes_sub_title": m.yes_sub_title, "status": m.status, "yes_bid_dollars": d(m.yes_bid_cents),
            "yes_ask_dollars": d(m.yes_ask_cents), "no_bid_dollars": d(m.no_bid_cents),
            "no_ask_dollars": d(m.no_ask_cents), "last_price_dollars": d(m.last_price_cents),
            "volume_fp": f"{m.volume:.2f}", "volume_24h_fp": f"{m.volume_24h:.2f}",
            "open_interest_fp": f"{m.open_interest:.2f}",
            "liquidity_dollars": None if math.isnan(m.liquidity_usd) else f"{m.liquidity_usd:.4f}",
            "open_time": t(m.open_time), "close_time": t(m.close_time), "expiration_time": t(m.expiration_time),
            "result": m.result, "rules_primary": m.rules_primary, "rules_secondary": m.rules_secondary,
            "category": m.category}


def _levels(raw: Any, dollars: bool) -> tuple[tuple[int, float], ...]:
    out: list[tuple[int, float]] = []
    for level in raw or ():
        if not isinstance(level, (list, tuple)) or len(level) < 2:
            continue
        price = dollars_to_cents(level[0]) if dollars else (int(level[0]) if isinstance(level[0], (int, float)) else None)
        qty = _usd(level[1])
        if price is not None and 1 <= price <= 99 and qty > 0:
            out.append((price, qty))
    out.sort(key=lambda pq: -pq[0])
    return tuple(out)


def orderbook(ticker: str, obj: Json) -> OrderBook:
    """``GetMarketOrderbookResponse``: ``orderbook_fp`` (dollar strings) or legacy ``orderbook``
    (``yes``/``no`` as ``[cents, count]``, ascending). Bids come back best first."""
    fp = obj.get("orderbook_fp")
    if isinstance(fp, Mapping):
        return OrderBook(ticker, _levels(fp.get("yes_dollars"), True), _levels(fp.get("no_dollars"), True))
    legacy = obj.get("orderbook") if isinstance(obj.get("orderbook"), Mapping) else obj
    return OrderBook(ticker, _levels(legacy.get("yes"), False), _levels(legacy.get("no"), False))


def _ohlc(obj: Any, key: str) -> int | None:
    if not isinstance(obj, Mapping):
        return None
    return _price(obj, key)


def candle(obj: Json) -> Candle:
    price = obj.get("price") or {}
    return Candle(end=parse_time(obj.get("end_period_ts")) or datetime.fromtimestamp(0, tz=UTC),
                  open_cents=_ohlc(price, "open"), high_cents=_ohlc(price, "high"), low_cents=_ohlc(price, "low"),
                  close_cents=_ohlc(price, "close"), yes_bid_close_cents=_ohlc(obj.get("yes_bid"), "close"),
                  yes_ask_close_cents=_ohlc(obj.get("yes_ask"), "close"), volume=_count(obj, "volume"),
                  open_interest=_count(obj, "open_interest"))


def trade(obj: Json) -> PublicTrade:
    return PublicTrade(trade_id=str(obj.get("trade_id") or ""), ticker=str(obj.get("ticker") or ""),
                       yes_price_cents=_price(obj, "yes_price") or 0, count=_count(obj, "count"),
                       taker_side=str(obj.get("taker_side") or ""), created_time=parse_time(obj.get("created_time")))


def balance(obj: Json) -> Balance:
    return Balance(balance_cents=int(obj["balance"]), portfolio_value_cents=int(obj.get("portfolio_value") or 0),
                   updated=parse_time(obj.get("updated_ts")))


def position(obj: Json) -> KalshiPosition:
    return KalshiPosition(ticker=str(obj["ticker"]), position=_count(obj, "position"),
                          market_exposure_usd=_usd(obj.get("market_exposure_dollars")),
                          realized_pnl_usd=_usd(obj.get("realized_pnl_dollars")),
                          fees_paid_usd=_usd(obj.get("fees_paid_dollars")),
                          total_traded_usd=_usd(obj.get("total_traded_dollars")),
                          resting_orders_count=int(obj.get("resting_orders_count") or 0))


def fill(obj: Json) -> KalshiFill:
    return KalshiFill(fill_id=str(obj.get("fill_id") or obj.get("trade_id") or ""), order_id=str(obj.get("order_id") or ""),
                      ticker=str(obj.get("ticker") or obj.get("market_ticker") or ""), side=obj["side"],
                      action=obj["action"], count=_count(obj, "count"),
                      yes_price_cents=_price(obj, "yes_price") or 0, no_price_cents=_price(obj, "no_price") or 0,
                      is_taker=bool(obj.get("is_taker")), fee_usd=_usd(obj.get("fee_cost")),
                      created_time=parse_time(obj.get("created_time") or obj.get("ts")))


_SIDES = ("yes", "no")
_ACTIONS = ("buy", "sell")
_RESULTS = ("yes", "no", "scalar", "void")


class MalformedRecord(ValueError):
    """A fill or settlement the exchange sent without a field we need (the message names it)."""


def checked_fill(obj: Json) -> KalshiFill:
    """A fill for the records (the Performance dock's history): like :func:`fill`, but refused
    when the fill id, ticker, side, action, a positive count, a price in 1..99 cents, a finite fee
    or the time is missing.

    Raises:
        MalformedRecord: what is missing or wrong.
    """
    if not isinstance(obj, Mapping):
        raise MalformedRecord(f"a fill is not an object: {obj!r:.80}")
    if obj.get("side") not in _SIDES or obj.get("action") not in _ACTIONS:
        raise MalformedRecord(f"fill {obj.get('fill_id')!r}: side/action {obj.get('side')!r}/{obj.get('action')!r}")
    f = fill(obj)
    problems = [name for name, bad in (("fill_id", not f.fill_id), ("ticker", not f.ticker),
                                       ("count", not f.count > 0), ("yes_price", not 1 <= f.yes_price_cents <= 99),
                                       ("fee_cost", not math.isfinite(f.fee_usd)),
                                       ("created_time", f.created_time is None)) if bad]
    if problems:
        raise MalformedRecord(f"fill {f.fill_id or '?'} of {f.ticker or '?'}: bad or missing {', '.join(problems)}")
    return f


def settlement(obj: Json) -> KalshiSettlement:
    """``Settlement`` (costs from ``*_total_cost_dollars`` → cents; ``revenue`` and ``value`` are cents).

    Raises:
        MalformedRecord: no ticker, an unknown result, no settled time or a non-finite fee.
    """
    if not isinstance(obj, Mapping):
        raise MalformedRecord(f"a settlement is not an object: {obj!r:.80}")
    ticker, result = str(obj.get("ticker") or ""), obj.get("market_result")
    when = parse_time(obj.get("settled_time"))
    fee = _nan0(obj.get("fee_cost"))
    revenue, value = obj.get("revenue"), obj.get("value")
    if not ticker or result not in _RESULTS or when is None or not isinstance(revenue, (int, float)):
        raise MalformedRecord(f"settlement of {ticker or '?'}: result {result!r}, settled_time "
                              f"{obj.get('settled_time')!r}, revenue {revenue!r}")
    return KalshiSettlement(ticker=ticker, event_ticker=str(obj.get("event_ticker") or ""), market_result=str(result),
                            yes_count=_count(obj, "yes_count"), no_count=_count(obj, "no_count"),
                            yes_cost_cents=dollars_to_cents(obj.get("yes_total_cost_dollars")) or 0,
                            no_cost_cents=dollars_to_cents(obj.get("no_total_cost_dollars")) or 0,
                            revenue_cents=int(revenue),
                            value_cents=int(value) if isinstance(value, (int, float)) and not isinstance(value, bool)
                            else None,
                            fee_usd=fee, settled_time=when)


def order(obj: Json) -> KalshiOrder:
    return KalshiOrder(order_id=str(obj["order_id"]), client_order_id=str(obj.get("client_order_id") or ""),
                       ticker=str(obj["ticker"]), side=obj["side"], action=obj["action"], type=str(obj.get("type") or ""),
                       status=str(obj.get("status") or ""), yes_price_cents=_price(obj, "yes_price"),
                       no_price_cents=_price(obj, "no_price"), initial_count=_count(obj, "initial_count"),
                       fill_count=_count(obj, "fill_count"), remaining_count=_count(obj, "remaining_count"),
                       taker_fees_usd=_usd(obj.get("taker_fees_dollars")), maker_fees_usd=_usd(obj.get("maker_fees_dollars")),
                       fill_cost_usd=_nan0(obj.get("taker_fill_cost_dollars")) + _nan0(obj.get("maker_fill_cost_dollars")),
                       created_time=parse_time(obj.get("created_time")))


def order_request_json(req: OrderRequest) -> dict[str, Any]:
    """``CreateOrderRequest`` body: a limit order, price in the legacy integer cents field of its side."""
    body: dict[str, Any] = {"ticker": req.ticker, "side": req.side, "action": req.action, "count": req.count,
                            "client_order_id": req.client_order_id,
                            "time_in_force": req.time_in_force}
    body["yes_price" if req.side == "yes" else "no_price"] = req.price_cents
    return body
