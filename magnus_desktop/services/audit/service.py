"""``AuditService``: writes an append-only audit row for every order status, and keeps the recent
orders folded from those rows for the Orders dock.

It listens to ``OrderService.order_status`` (``OrderEvent``, keyed by ``order_ref``): ``submitted``
becomes a ``placed`` row, the other states rows of their own name (``filled``, ``partially_filled``,
``cancelled``, ``rejected`` — our own refusals before any broker call included). A trader's cancel
request is a ``cancel_requested`` row (:meth:`record_cancel_request`); a modification of a working order
(``OrderService.order_modified``), accepted or refused, a ``modified`` row with the order as modified. Each row has the ticket's
parameters, the preview figures of the broker's rules at submission, the result, the broker's order
id and the latency from submission to that status (ms, monotonic clock).

Rows are written in order by one worker task, each on the DB executor (``ctx.run_db``), never on
the loop thread. A row that cannot be stored (read-only database) is logged and the trader is told
once; the order itself is never held up by the audit log.

Events (payloads), each emitted with ``emit_isolated``:
    order_changed(OrderLine)   an order's line changed (at once, before its row is stored)
    entry_added(AuditEntry)    a row was stored (with its ``entry_id``)
    opened()                   the log can be read (once, at the end of ``start``)
"""

from __future__ import annotations

import asyncio
import csv
import dataclasses
import json
import logging
import math
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from psygnal import Signal

from magnus_desktop.models.audit import AuditEntry, AuditFilter, OrderLine
from magnus_desktop.models.domain import AccountSummary, ComboTicket, OptionContract, Ticket
from magnus_desktop.models.market import OrderEvent, StockContract
from magnus_desktop.services.events import emit_isolated
from magnus_desktop.services.orders.rules import TicketPreview
from magnus_desktop.services.storage import AuditRepo, StorageError
from magnus_desktop.services.storage.audit import jsonable

if TYPE_CHECKING:
    from magnus_desktop.services.context import AppContext
    from magnus_desktop.services.orders.service import OrderModification

log = logging.getLogger(__name__)

#: broker status → audit action
ACTION_OF_STATE = {"submitted": "placed", "partially_filled": "partially_filled", "filled": "filled",
                   "cancelled": "cancelled", "rejected": "rejected"}
_STATE_OF_ACTION = {v: k for k, v in ACTION_OF_STATE.items()}
_TERMINAL = frozenset({"filled", "cancelled", "rejected"})
#: orders the Orders dock keeps (loaded at start, then live)
RECENT_ORDERS = 200
#: CSV columns of an export (``write_csv``)
CSV_HEADER = ("time_utc", "account", "action", "order_ref", "broker_order_id", "source", "result",
              "filled_qty", "avg_fill_price_usd", "latency_ms", "parameters", "preview")


@dataclass(slots=True)
class _Order:
    """What the service remembers of an order between its statuses."""

    account: str
    ticket: Ticket | None = None
    submitted: float | None = None  # time.monotonic() at "submitted"
    preview: asyncio.Task[dict[str, Any]] | None = None


@dataclass(slots=True)
class _Job:
    entry: AuditEntry
    preview: asyncio.Task[dict[str, Any]] | None = field(default=None)


class AuditService:
    """The order audit log of the app session (no Qt)."""

    order_changed = Signal(object)
    entry_added = Signal(object)
    #: the log can be read: emitted once by :meth:`start` (readers built before it reload on it)
    opened = Signal()

    def __init__(self, ctx: AppContext) -> None:
        self._ctx = ctx
        self._orders: OrderedDict[str, _Order] = OrderedDict()
        self._lines: OrderedDict[str, OrderLine] = OrderedDict()
        self._queue: asyncio.Queue[_Job] | None = None
        self._worker: asyncio.Task[None] | None = None
        self._write_problem_told = False

    # ---- lifecycle --------------------------------------------------------------------------------
    async def start(self) -> None:
        """Load the recent orders from the log (DB thread), start the writer, listen to the orders."""
        await self.reload()
        self._queue = asyncio.Queue()
        self._worker = asyncio.get_running_loop().create_task(self._write_loop())
        self._ctx.orders.order_status.connect(self._on_orders_order_status)
        self._ctx.orders.order_modified.connect(self._on_orders_order_modified)
        emit_isolated(self.opened)

    async def aclose(self) -> None:
        """Stop listening; store every row still queued; stop the writer."""
        self._ctx.orders.order_status.disconnect(self._on_orders_order_status, missing_ok=True)
        self._ctx.orders.order_modified.disconnect(self._on_orders_order_modified, missing_ok=True)
        if self._queue is not None:
            await self._queue.join()
        if self._worker is not None:
            self._worker.cancel()
            await asyncio.gather(self._worker, return_exceptions=True)

    async def reload(self) -> None:
        """The recent orders folded from the stored log (after start, or a database switch)."""
        db = self._ctx.db
        if db is None:
            return
        try:
            entries = await self._ctx.run_db(AuditRepo(db).recent_orders, RECENT_ORDERS)
        except StorageError as exc:
            log.warning("the audit log could not be read: %s", exc)
            return
        lines: OrderedDict[str, OrderLine] = OrderedDict()
        for entry in entries:
            line = fold_order_line(lines.get(entry.order_ref), entry)
            if line is not None:
                lines[entry.order_ref] = line
                lines.move_to_end(entry.order_ref)
        self._lines = lines

    def order_lines(self) -> list[OrderLine]:
        """The recent orders, oldest activity first."""
        return list(self._lines.values())

    @property
    def is_open(self) -> bool:
        """True once :meth:`start` has run (the database is open, or known to be missing)."""
        return self._queue is not None

    async def idle(self) -> None:
        """Wait until every row queued so far is stored (tests, export)."""
        if self._queue is not None:
            await self._queue.join()

    # ---- events -----------------------------------------------------------------------------------
    def _on_orders_order_status(self, event: OrderEvent) -> None:
        now = time.monotonic()
        order = self._orders.get(event.order_ref)
        if order is None:
            order = self._orders[event.order_ref] = _Order(account=self._ctx.session.active.name)
            while len(self._orders) > RECENT_ORDERS:
                self._orders.popitem(last=False)
        if order.ticket is None:
            order.ticket = event.ticket
        preview = None
        if event.state == "submitted" or (event.state == "rejected" and event.preview is not None):
            order.submitted = now
            if order.ticket is not None:  # the account before the fill, read now (the fill comes later)
                task = self._preview(order.ticket, self._ctx.portfolio.last_summary, event.preview)
                preview = order.preview = asyncio.get_running_loop().create_task(task)
            latency = None
        else:
            latency = (now - order.submitted) * 1000.0 if order.submitted is not None else None
        entry = AuditEntry(
            at=event.at if event.at.tzinfo is not None else datetime.now(UTC), account=order.account,
            action=ACTION_OF_STATE[event.state], order_ref=event.order_ref,  # type: ignore[arg-type]
            params=ticket_params(order.ticket), result=_result(event), broker_order_id=event.broker_order_id,
            source=event.source, latency_ms=latency, filled_qty=float(event.filled_qty),
            avg_fill_price=float(event.avg_fill_price))
        if event.state in _TERMINAL:
            self._orders.pop(event.order_ref, None)
        self._show(entry)
        self._enqueue(_Job(entry, preview))

    def _on_orders_order_modified(self, mod: OrderModification) -> None:
        """A ``modified`` row: the order as modified (``params``, with ``modification`` "accepted" or
        "refused"), the rules' preview of it, and what happened (``result``)."""
        order = self._orders.get(mod.order_ref)
        line = self._lines.get(mod.order_ref)
        if order is not None and mod.accepted:
            order.ticket = mod.ticket
        account = order.account if order is not None else line.account if line is not None else \
            self._ctx.session.active.name
        entry = AuditEntry(at=mod.at, account=account, action="modified", order_ref=mod.order_ref,
                           params={**ticket_params(mod.ticket), "modification": "accepted" if mod.accepted else "refused"},
                           preview=jsonable(mod.preview.as_dict()) if mod.preview is not None else {},
                           result=mod.result, broker_order_id=line.broker_order_id if line is not None else "",
                           source=line.source if line is not None else "")
        self._show(entry)
        self._enqueue(_Job(entry))

    async def record_cancel_request(self, order_ref: str, result: str) -> None:
        """A ``cancel_requested`` row for ``order_ref``: ``result`` is what the broker answered."""
        line = self._lines.get(order_ref)
        order = self._orders.get(order_ref)
        account = order.account if order is not None else line.account if line is not None else \
            self._ctx.session.active.name
        entry = AuditEntry(at=datetime.now(UTC), account=account, action="cancel_requested", order_ref=order_ref,
                           params=ticket_params(order.ticket) if order is not None else {}, result=result,
                           broker_order_id=line.broker_order_id if line is not None else "",
                           source=line.source if line is not None else "")
        self._show(entry)
        self._enqueue(_Job(entry))

    def record(self, entry: AuditEntry) -> None:
        """Log a row built elsewhere (an order path outside ``OrderService``, e.g. Kalshi): shown in
        the Orders dock at once (folded by ``order_ref``), stored by the writer in order."""
        self._show(entry)
        self._enqueue(_Job(entry))

    def _show(self, entry: AuditEntry) -> None:
        line = fold_order_line(self._lines.get(entry.order_ref), entry)
        if line is None:
            return
        self._lines[entry.order_ref] = line
        self._lines.move_to_end(entry.order_ref)
        while len(self._lines) > RECENT_ORDERS:
            self._lines.popitem(last=False)
        emit_isolated(self.order_changed, line)

    def _enqueue(self, job: _Job) -> None:
        if self._queue is None:
            log.error("audit row for %s dropped: the audit service is not started", job.entry.order_ref)
            return
        self._queue.put_nowait(job)

    async def _preview(self, ticket: Ticket, summary: AccountSummary | None, given: TicketPreview | None) -> dict[str, Any]:
        """The order rules' preview of ``ticket`` (USD; fields of ``services.orders.rules.TicketPreview``):
        ``given``, the one ``OrderService`` sent it with, or else the broker's own preview against
        ``summary``, the account as marked when it was submitted."""
        if given is None:
            preview = getattr(self._ctx.orders.broker, "preview", None)
            if summary is None or preview is None:
                return {"note": "no preview: the broker has no rule preview or the account is not marked yet"}
            given = await preview(ticket, summary)
        figures = given.as_dict()
        if summary is not None:
            figures["account_as_of"] = summary.as_of
        return figures

    # ---- writing ----------------------------------------------------------------------------------
    async def _write_loop(self) -> None:
        assert self._queue is not None
        while True:
            job = await self._queue.get()
            try:
                await self._write(job)
            except Exception as exc:  # the log must never stop an order; the trader is told once
                log.exception("audit row for %s not stored", job.entry.order_ref)
                if not self._write_problem_told:
                    self._write_problem_told = True
                    self._ctx.report(f"The audit log could not be written ({exc}); orders still work.")
            finally:
                self._queue.task_done()

    async def _write(self, job: _Job) -> None:
        entry = job.entry
        if job.preview is not None:
            try:
                entry = dataclasses.replace(entry, preview=await job.preview)
            except Exception as exc:  # the row is still written, saying why the figures are missing
                log.warning("preview of %s failed: %s", entry.order_ref, exc)
                entry = dataclasses.replace(entry, preview={"error": f"preview failed: {exc}"})
        db = self._ctx.db
        if db is None:
            raise StorageError("no database is open")
        stored = await self._ctx.run_db(AuditRepo(db).append, entry)
        emit_isolated(self.entry_added, stored)

    # ---- queries (DB thread) ----------------------------------------------------------------------
    async def query(self, flt: AuditFilter, limit: int, offset: int) -> tuple[list[AuditEntry], int]:
        """A page of rows matching ``flt`` (newest first) and how many match in all."""
        repo = self._repo()
        return await self._ctx.run_db(_page, repo, flt, limit, offset)

    async def accounts(self) -> list[str]:
        """The accounts that have audit rows."""
        return await self._ctx.run_db(self._repo().accounts)

    async def export_csv(self, path: Path, flt: AuditFilter) -> int:
        """Write every row matching ``flt`` to ``path`` (DB thread); returns the rows written.

        Raises:
            OSError: the file cannot be written. StorageError: the database failed.
        """
        await self.idle()
        return await self._ctx.run_db(write_csv, self._repo(), path, flt)

    def _repo(self) -> AuditRepo:
        if self._ctx.db is None:
            raise StorageError("No database is open.")
        return AuditRepo(self._ctx.db)


def _page(repo: AuditRepo, flt: AuditFilter, limit: int, offset: int) -> tuple[list[AuditEntry], int]:
    return repo.query(flt, limit=limit, offset=offset), repo.count(flt)


def write_csv(repo: AuditRepo, path: Path, flt: AuditFilter) -> int:
    """Write the rows matching ``flt`` (newest first) as CSV (UTF-8, header :data:`CSV_HEADER`);
    JSON columns as compact JSON text, missing numbers as empty cells. Returns the rows written.
    The file is written next to ``path`` first and moved over it when complete."""
    tmp = path.with_name(path.name + ".part")
    n = 0
    with open(tmp, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(CSV_HEADER)
        for e in repo.iter_matching(flt):
            writer.writerow([e.at.isoformat(), e.account, e.action, e.order_ref, e.broker_order_id, e.source,
                             e.result, _cell(e.filled_qty), _cell(e.avg_fill_price), _cell(e.latency_ms),
                             json.dumps(e.params, sort_keys=True), json.dumps(e.preview, sort_keys=True)])
            n += 1
    tmp.replace(path)
    return n


def _cell(x: float | None) -> str | float:
    return "" if x is None or not math.isfinite(x) else x


def ticket_params(ticket: Ticket | None) -> dict[str, Any]:
    """The ticket as sent (prices USD per share, ``limit_price`` None = market; qty in contracts or
    shares; a combo's ``limit_price`` is net, + credit / − debit, and its legs are listed)."""
    if ticket is None:
        return {}
    common = {"qty": ticket.qty, "limit_price": ticket.limit_price, "order_type": ticket.order_type,
              "tif": ticket.tif, "trade_date": ticket.trade_date, "account_id": ticket.account_id}
    if isinstance(ticket, ComboTicket):
        legs = [{**_contract_params(leg.contract), "action": leg.action, "ratio": leg.ratio} for leg in ticket.legs]
        return jsonable({"strategy": ticket.strategy, "symbol": ticket.describe(), "legs": legs, **common})
    return jsonable({**_contract_params(ticket.contract), "action": ticket.action, **common})


def _contract_params(c: OptionContract | StockContract) -> dict[str, Any]:
    if isinstance(c, StockContract):
        return {"symbol": c.symbol, "underlying": c.symbol, "currency": c.currency}
    return {"symbol": c.describe(), "underlying": c.underlying, "expiry": c.expiry, "strike": c.strike,
            "right": c.right, "multiplier": c.multiplier}


def _result(event: OrderEvent) -> str:
    if event.state == "submitted":
        return f"sent to the {event.source} broker"
    if event.state == "filled":
        text = f"filled {event.filled_qty:g} @ {event.avg_fill_price:.2f}"
    elif event.state == "partially_filled":
        text = f"filled {event.filled_qty:g}, {event.remaining_qty:g} remaining, avg {event.avg_fill_price:.2f}"
    else:  # rejected / cancelled: the action says which; the reason is the result
        return event.message or event.state
    return f"{text}: {event.message}" if event.message else text


def fold_order_line(previous: OrderLine | None, entry: AuditEntry) -> OrderLine | None:
    """The order line after ``entry`` (None when ``entry`` is a cancel request of an unknown order)."""
    state = _STATE_OF_ACTION.get(entry.action)
    if previous is None:
        if state is None:
            return None
        p = entry.params
        limit = p.get("limit_price")
        return OrderLine(
            order_ref=entry.order_ref, account=entry.account, description=str(p.get("symbol", "")),
            action=str(p.get("action", "")), qty=float(p.get("qty", math.nan)),
            limit_price=float(limit) if isinstance(limit, (int, float)) else math.nan, state=state,
            filled_qty=_or(entry.filled_qty, 0.0), avg_fill_price=entry.avg_fill_price,
            message=_message(entry), broker_order_id=entry.broker_order_id, placed_at=entry.at,
            updated_at=entry.at, source=entry.source)
    if state is None:  # a cancel request or a modification: the state stays until the broker reports
        p = entry.params
        if entry.action == "modified" and p.get("modification") == "accepted":
            limit = p.get("limit_price")
            return dataclasses.replace(
                previous, qty=float(p.get("qty", previous.qty)), message=entry.result, updated_at=entry.at,
                limit_price=float(limit) if isinstance(limit, (int, float)) else previous.limit_price)
        return dataclasses.replace(previous, message=entry.result, updated_at=entry.at)
    return dataclasses.replace(
        previous, state=state, filled_qty=_or(entry.filled_qty, previous.filled_qty),
        avg_fill_price=_or(entry.avg_fill_price, previous.avg_fill_price), message=_message(entry),
        broker_order_id=entry.broker_order_id or previous.broker_order_id, updated_at=entry.at)


def _message(entry: AuditEntry) -> str:
    return "" if entry.action == "placed" else entry.result


def _or(x: float, default: float) -> float:
    return x if math.isfinite(x) else default
