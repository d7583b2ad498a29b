"""Our Kalshi fills and settlements in the database (blocking; run on the ``"db"`` executor; no Qt).

The Kalshi service stores what it reads from ``/portfolio/fills`` and ``/portfolio/settlements``
(:class:`magnus_desktop.models.orm_kalshi.KalshiFillRow`, ``KalshiSettlementRow``: prices and costs
in integer cents, fees USD, times naive UTC); the Performance service reads them back and turns them
into realized P&L (``analytics.kalshi_pnl``). A fill is stored once per account and ``fill_id``, a
settlement once per account and market, so reading the same pages again adds nothing.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import func, select

from magnus_desktop.analytics.kalshi_pnl import naive_utc
from magnus_desktop.models.kalshi import KalshiFill, KalshiSettlement
from magnus_desktop.models.orm_kalshi import KalshiFillRow, KalshiSettlementRow
from magnus_desktop.services.storage import Database

#: how far before the newest stored record the next read starts (fills of the same second, late
#: reports); what is read twice is recognised by its id and not stored again
OVERLAP_S = 3600
_CHUNK = 500


@dataclass(slots=True)
class KalshiHistory:
    """One account's stored fills (oldest first) and settlements."""

    fills: list[KalshiFill] = field(default_factory=list)
    settlements: list[KalshiSettlement] = field(default_factory=list)


def store_history(db: Database, account: str, fills: Sequence[KalshiFill],
                  settlements: Sequence[KalshiSettlement]) -> tuple[int, int]:
    """Insert the fills and settlements of ``account`` not stored yet; returns (new fills, new settlements).

    Raises:
        StorageError: the database refused the write (nothing of this call is stored).
    """
    with db.session() as s:
        known: set[str] = set()
        ids = list({f.fill_id for f in fills})
        for i in range(0, len(ids), _CHUNK):
            known.update(s.scalars(select(KalshiFillRow.fill_id).where(
                KalshiFillRow.account == account, KalshiFillRow.fill_id.in_(ids[i:i + _CHUNK]))))
        new_fills = 0
        for f in fills:
            if f.fill_id in known or f.created_time is None:
                continue
            known.add(f.fill_id)
            s.add(KalshiFillRow(account=account, fill_id=f.fill_id, order_id=f.order_id, ticker=f.ticker,
                                side=f.side, action=f.action, count=f.count, yes_price_cents=f.yes_price_cents,
                                no_price_cents=f.no_price_cents, is_taker=f.is_taker, fee_usd=f.fee_usd,
                                created_at=naive_utc(f.created_time)))
            new_fills += 1
        settled = set(s.scalars(select(KalshiSettlementRow.ticker).where(KalshiSettlementRow.account == account)))
        new_settlements = 0
        for st in settlements:
            if st.ticker in settled or st.settled_time is None:
                continue
            settled.add(st.ticker)
            s.add(KalshiSettlementRow(account=account, ticker=st.ticker, event_ticker=st.event_ticker,
                                      market_result=st.market_result, yes_count=st.yes_count, no_count=st.no_count,
                                      yes_cost_cents=st.yes_cost_cents, no_cost_cents=st.no_cost_cents,
                                      revenue_cents=st.revenue_cents, value_cents=st.value_cents, fee_usd=st.fee_usd,
                                      settled_at=naive_utc(st.settled_time)))
            new_settlements += 1
    return new_fills, new_settlements


def read_since(db: Database, account: str) -> tuple[int | None, int | None]:
    """``min_ts`` (Unix seconds) for the next read of fills and of settlements: the newest stored
    time minus :data:`OVERLAP_S`; None when nothing is stored (read everything).

    Raises:
        StorageError: the database could not be read.
    """
    with db.session() as s:
        last_fill = s.scalar(select(func.max(KalshiFillRow.created_at)).where(KalshiFillRow.account == account))
        last_settled = s.scalar(select(func.max(KalshiSettlementRow.settled_at))
                                .where(KalshiSettlementRow.account == account))

    def ts(when: datetime | None) -> int | None:
        return None if when is None else int(when.replace(tzinfo=UTC).timestamp()) - OVERLAP_S

    return ts(last_fill), ts(last_settled)


def load_history(db: Database) -> dict[str, KalshiHistory]:
    """Every account's stored fills and settlements (times back as aware UTC).

    Raises:
        StorageError: the database could not be read.
    """
    out: dict[str, KalshiHistory] = defaultdict(KalshiHistory)
    with db.session() as s:
        for r in s.scalars(select(KalshiFillRow).order_by(KalshiFillRow.created_at, KalshiFillRow.id)):
            out[r.account].fills.append(KalshiFill(r.fill_id, r.order_id, r.ticker, r.side, r.action,  # type: ignore[arg-type]
                                                   r.count, r.yes_price_cents, r.no_price_cents, r.is_taker,
                                                   r.fee_usd, r.created_at.replace(tzinfo=UTC)))
        for st in s.scalars(select(KalshiSettlementRow).order_by(KalshiSettlementRow.settled_at)):
            out[st.account].settlements.append(KalshiSettlement(
                st.ticker, st.event_ticker, st.market_result, st.yes_count, st.no_count, st.yes_cost_cents,
                st.no_cost_cents, st.revenue_cents, st.value_cents, st.fee_usd, st.settled_at.replace(tzinfo=UTC)))
    return dict(out)
