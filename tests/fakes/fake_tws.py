"""A local fake TWS/IB Gateway that speaks the real TWS API socket protocol at server version 178.

ib_async 2.1 runs unmodified against it (protocol notes: /work/shared/reference/tws-protocol-notes.md).
It listens on 127.0.0.1 only, on an ephemeral port by default.

Market data is the bundled real recording ``optopsy_SPXW_2018_monthlies.csv`` (SPXW options quoted on
each trading day of Jan-Feb 2018, with the recorder's IV and Greeks) and the SPY daily bars of
``mplfinance_yahoo_SPY_2008-2018.csv``. The "current" day is ``quote_date`` (default 2018-01-02);
streaming steps each subscribed contract through its recorded days in order (bid, ask, model Greeks).
Theta is sent per calendar day and vega per vol point, as TWS does (the recording has both per year /
per 1.00 vol). Things the recording lacks are marked where they are made up: bid/ask sizes (1 contract),
con_ids (a CRC32 of the OCC symbol, except SPX 416904 and SPY 756733), and the test account's cash.

Controls for tests: ``stop()`` drops every socket, ``start()`` again listens on the same port;
``placed_orders`` / ``place_order_count`` (new orders), ``modifications`` (a placeOrder with a
working order's id); ``mkt_data_requests``; ``reject_client_ids`` (error 326);
``send_error()`` (e.g. 1100/1102); ``historical_pacing_violations`` (error 162);
``msg_rate_limit`` (error 100 when a client sends more messages in one second);
``drop_on_place`` (drop every socket right after a placeOrder arrives); ``fill_orders``.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import struct
import time
import zlib
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

import pandas as pd

log = logging.getLogger(__name__)

SERVER_VERSION = 178
DATA_DIR = Path(__file__).resolve().parents[2] / "resources" / "data"
SPXW_CSV = DATA_DIR / "options_chains" / "optopsy_SPXW_2018_monthlies.csv"
SPY_CSV = DATA_DIR / "ohlcv" / "mplfinance_yahoo_SPY_2008-2018.csv"
SPX_CON_ID = 416904
SPY_CON_ID = 756733

MSG_326 = "Unable to connect as the client id is already in use. Retry with a unique client id."
MSG_162 = "Historical Market Data Service error message:Historical data request pacing violation"
MSG_100 = "Max rate of messages per second has been exceeded:max=50 rec={n} (543)"


def _fmt(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    return str(value)


def frame(*fields: object) -> bytes:
    """One framed message: 4-byte big-endian length + NUL-terminated text fields."""
    payload = b"".join(_fmt(f).encode() + b"\0" for f in fields)
    return struct.pack(">I", len(payload)) + payload


# --------------------------------------------------------------------------------------------- data
@dataclass(slots=True)
class OptionDay:
    """One recorded day of one option (USD per share; iv decimal; theta/day; vega per vol point)."""

    quote_date: date
    und_price: float
    bid: float
    ask: float
    last: float
    volume: float
    open_interest: float
    iv: float
    delta: float
    gamma: float
    theta: float
    vega: float


@dataclass(slots=True)
class FakeOption:
    con_id: int
    symbol: str  # IB symbol of the underlying ("SPX")
    trading_class: str  # "SPXW"
    expiry: str  # YYYYMMDD
    strike: float
    right: str  # "C" / "P"
    local_symbol: str
    days: list[OptionDay]

    def day(self, on: date) -> OptionDay | None:
        return next((d for d in self.days if d.quote_date == on), None)


class Book:
    """The recorded instruments the fake serves, indexed for lookups."""

    def __init__(self, quote_date: date = date(2018, 1, 2)) -> None:
        self.quote_date = quote_date
        df = pd.read_csv(SPXW_CSV, encoding="utf-8-sig")
        df.columns = [c.strip() for c in df.columns]
        df["qd"] = pd.to_datetime(df["quotedate"], format="%m/%d/%Y").dt.date
        df["exp"] = pd.to_datetime(df["expiration"], format="%m/%d/%Y").dt.strftime("%Y%m%d")
        df = df.sort_values(["optionroot", "qd"])
        self.options: dict[int, FakeOption] = {}
        self.by_key: dict[tuple[str, str, float, str], FakeOption] = {}
        for root, g in df.groupby("optionroot", sort=False):
            first = g.iloc[0]
            right = "C" if first["type"] == "call" else "P"
            strike = float(first["strike"])
            expiry = str(first["exp"])
            local = f"SPXW  {expiry[2:]}{right}{round(strike * 1000):08d}"
            days = [
                OptionDay(
                    r.qd, float(r.underlying_last), float(r.bid), float(r.ask), float(r.last),
                    float(r.volume), float(r.openinterest), float(r.impliedvol), float(r.delta),
                    float(r.gamma), float(r.theta) / 365.0, float(r.vega) / 100.0,
                )
                for r in g.itertuples()
            ]
            opt = FakeOption(zlib.crc32(str(root).encode()) & 0x7FFFFFFF, "SPX", "SPXW", expiry,
                             strike, right, local, days)
            self.options[opt.con_id] = opt
            self.by_key[("SPXW", expiry, strike, right)] = opt
        und = df.groupby("qd")["underlying_last"].first()
        self.spx_by_day: dict[date, float] = {d: float(v) for d, v in und.items()}
        spy = pd.read_csv(SPY_CSV, parse_dates=["Date"]).sort_values("Date")
        self.spy_bars = spy

    @property
    def spx_price(self) -> float:
        return self.spx_by_day[self.quote_date]

    def expiries(self) -> list[str]:
        return sorted({o.expiry for o in self.options.values() if o.day(self.quote_date)})

    def strikes(self) -> list[float]:
        return sorted({o.strike for o in self.options.values() if o.day(self.quote_date)})

    def find(self, fields: list[str]) -> list[FakeOption | str]:
        """Resolve 12 request contract fields to options (wildcards allowed) or an underlying name."""
        con_id, symbol, sec_type, expiry, strike, right = fields[:6]
        trading_class = fields[11]
        if con_id and con_id != "0":
            cid = int(con_id)
            if cid == SPX_CON_ID:
                return ["SPX"]
            if cid == SPY_CON_ID:
                return ["SPY"]
            opt = self.options.get(cid)
            return [opt] if opt else []
        if sec_type == "IND" and symbol == "SPX":
            return ["SPX"]
        if sec_type == "STK" and symbol == "SPY":
            return ["SPY"]
        if sec_type != "OPT" or symbol not in ("SPX", "SPXW"):
            return []
        want_strike = float(strike) if strike and float(strike) > 0 else None
        right = {"CALL": "C", "PUT": "P"}.get(right, right)
        out: list[FakeOption | str] = []
        for opt in self.options.values():
            if trading_class and trading_class != opt.trading_class:
                continue
            if expiry and expiry != opt.expiry:
                continue
            if want_strike is not None and abs(want_strike - opt.strike) > 1e-9:
                continue
            if right and right != opt.right:
                continue
            if opt.day(self.quote_date) is None:
                continue
            out.append(opt)
        return out

    def spy_close(self, on: date) -> float:
        rows = self.spy_bars[self.spy_bars["Date"].dt.date <= on]
        return float(rows.iloc[-1]["Close"])


@functools.cache
def default_book() -> Book:
    """The recording parsed once per process (read-only for the server)."""
    return Book()


# ------------------------------------------------------------------------------------------ server
@dataclass
class FakeOrder:
    order_id: int
    perm_id: int
    client_id: int
    con_id: int
    action: str
    qty: float
    order_type: str
    lmt_price: float | None
    order_ref: str
    account: str
    status: str = "PreSubmitted"
    filled: float = 0.0
    avg_price: float = 0.0
    tif: str = ""


@dataclass
class FakeExecution:
    exec_id: str
    order: FakeOrder
    shares: float
    price: float
    at: datetime
    commission: float


@dataclass
class _Client:
    writer: asyncio.StreamWriter
    client_id: int | None = None
    sent_times: deque[float] = field(default_factory=deque)
    subs: dict[int, int] = field(default_factory=dict)  # reqId -> con_id
    step: dict[int, int] = field(default_factory=dict)  # reqId -> stream position


class FakeTWS:
    """The fake server. Create, ``await start()``, point ``IB.connectAsync`` at ``port``."""

    def __init__(self, port: int = 0, account: str = "DU1234567", book: Book | None = None,
                 cash: float = 250_000.0) -> None:
        self.port = port
        self.account = account
        self.book = book or default_book()
        self.cash = cash  # the test account's cash (made up; not a market value)
        self._server: asyncio.Server | None = None
        self._clients: list[_Client] = []
        self._tasks: set[asyncio.Task] = set()
        self._stream_task: asyncio.Task | None = None
        self._next_order_id = 1
        self._next_perm = 900_000_000
        self._next_exec = 1
        # controls / observations
        self.reject_client_ids: set[int] = set()
        self.fill_orders = True
        self.fill_delay = 0.02
        self.drop_on_place = False
        self.stream_rate = 0.0  # ticks per second over all subscriptions (0 = no streaming)
        self.historical_pacing_violations = 0
        self.msg_rate_limit: int | None = None
        self.rate_violations = 0
        self.tick_hook: Callable[[int, float, float], None] | None = None  # (con_id, bid, perf_counter)
        self.ticks_sent = 0
        self.placed_orders: list[FakeOrder] = []
        #: (order_id, new qty, new limit) of each placeOrder that modified a working order
        self.modifications: list[tuple[int, float, float | None]] = []
        self.mkt_data_requests: list[tuple[int | None, int, bool]] = []  # (client_id, con_id, snapshot)
        self.cancelled_mkt_data = 0
        self.historical_requests = 0
        self.connections = 0
        self.orders: dict[int, FakeOrder] = {}
        self.executions: list[FakeExecution] = []
        # positions of the test account: a recorded short SPXW put and SPY shares at the recorded close
        put = self.book.by_key[("SPXW", "20180131", 2600.0, "P")]
        self.positions: list[tuple[FakeOption | str, float, float]] = [
            (put, -2.0, put.day(self.book.quote_date).bid * 100.0),  # IB avgCost: per contract
            ("SPY", 100.0, self.book.spy_close(self.book.quote_date)),
        ]

    # ---------------------------------------------------------------------------- lifecycle
    @property
    def place_order_count(self) -> int:
        return len(self.placed_orders)

    async def start(self) -> None:
        """Listen on 127.0.0.1:``port`` (the same port again after ``stop()``)."""
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", self.port, reuse_address=True)
        self.port = self._server.sockets[0].getsockname()[1]
        self._stream_task = asyncio.create_task(self._stream())

    async def stop(self) -> None:
        """Stop listening and drop every connection (state - orders, executions - survives)."""
        if self._stream_task:
            self._stream_task.cancel()
            self._stream_task = None
        if self._server:
            self._server.close()
        for c in list(self._clients):
            c.writer.transport.abort()
        self._clients.clear()
        for t in list(self._tasks):
            t.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._server:
            await self._server.wait_closed()
            self._server = None

    async def restart(self) -> None:
        await self.stop()
        await self.start()

    def drop_connections(self) -> None:
        """Close every client socket but keep listening."""
        for c in list(self._clients):
            c.writer.transport.abort()

    @property
    def active_subscriptions(self) -> int:
        return sum(len(c.subs) for c in self._clients)

    def send_error(self, code: int, message: str, req_id: int = -1) -> None:
        """Send an error/notice (e.g. 1100 connectivity lost, 1102 restored) to every client."""
        for c in self._clients:
            self._send(c, 4, 2, req_id, code, message, "")

    # ------------------------------------------------------------------------- connection
    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        client = _Client(writer)
        self._clients.append(client)
        self.connections += 1
        try:
            prefix = await reader.readexactly(4)
            if prefix != b"API\0":
                return
            await self._read_msg(reader)  # "v157..178"
            now = datetime.now(UTC).strftime("%Y%m%d %H:%M:%S UTC")
            writer.write(frame(SERVER_VERSION, now))
            while True:
                fields = await self._read_msg(reader)
                if self._over_rate(client):
                    continue
                await self._dispatch(client, fields)
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.CancelledError):
            pass
        finally:
            if client in self._clients:
                self._clients.remove(client)
            with contextlib.suppress(Exception):
                writer.transport.abort()
            self._tasks.discard(task)

    @staticmethod
    async def _read_msg(reader: asyncio.StreamReader) -> list[str]:
        (n,) = struct.unpack(">I", await reader.readexactly(4))
        payload = await reader.readexactly(n)
        return payload.decode(errors="backslashreplace").split("\0")[:-1]

    def _send(self, client: _Client, *fields: object) -> None:
        if not client.writer.is_closing():
            client.writer.write(frame(*fields))

    def _over_rate(self, client: _Client) -> bool:
        if self.msg_rate_limit is None:  # only messages sent while a limit is set count
            client.sent_times.clear()
            return False
        now = time.monotonic()
        q = client.sent_times
        q.append(now)
        while q and now - q[0] > 1.0:
            q.popleft()
        if len(q) > self.msg_rate_limit:
            self.rate_violations += 1
            self._send(client, 4, 2, -1, 100, MSG_100.format(n=len(q)), "")
            return True
        return False

    async def _dispatch(self, c: _Client, f: list[str]) -> None:
        msg = int(f[0])
        handler = {
            71: self._start_api, 61: self._req_positions, 5: self._req_open_orders,
            99: self._req_completed, 6: self._req_account_updates, 76: self._req_account_multi,
            7: self._req_executions, 1: self._req_mkt_data, 2: self._cancel_mkt_data,
            9: self._req_contract_details, 78: self._req_sec_def, 20: self._req_historical,
            3: self._place_order, 4: self._cancel_order, 49: self._req_current_time,
        }.get(msg)
        if handler is not None:
            await handler(c, f)

    async def _start_api(self, c: _Client, f: list[str]) -> None:
        cid = int(f[2])
        in_use = any(o.client_id == cid for o in self._clients if o is not c)
        if cid in self.reject_client_ids or in_use:
            self._send(c, 4, 2, -1, 326, MSG_326, "")
            await c.writer.drain()
            c.writer.transport.abort()
            return
        c.client_id = cid
        self._send(c, 15, 1, self.account)
        self._send(c, 9, 1, self._next_order_id)
        self._send(c, 4, 2, -1, 2104, "Market data farm connection is OK:usfarm", "")

    # ------------------------------------------------------------------------------ sync
    def _contract11(self, inst: FakeOption | str) -> list[object]:
        """conId, symbol, secType, lastTradeDate, strike, right, multiplier, exchange, currency,
        localSymbol, tradingClass (the 11-field contract of openOrder/execDetails)."""
        if isinstance(inst, FakeOption):
            return [inst.con_id, "SPX", "OPT", inst.expiry, inst.strike, inst.right, "100", "SMART", "USD",
                    inst.local_symbol, "SPXW"]
        if inst == "SPX":
            return [SPX_CON_ID, "SPX", "IND", "", 0.0, "", "", "CBOE", "USD", "SPX", "SPX"]
        return [SPY_CON_ID, "SPY", "STK", "", 0.0, "", "", "SMART", "USD", "SPY", "SPY"]

    def _mark(self, inst: FakeOption | str) -> float:
        if isinstance(inst, FakeOption):
            day = inst.day(self.book.quote_date)
            return (day.bid + day.ask) / 2.0 if day else float("nan")
        return self.book.spx_price if inst == "SPX" else self.book.spy_close(self.book.quote_date)

    async def _req_positions(self, c: _Client, f: list[str]) -> None:
        for inst, qty, avg in self.positions:
            k = self._contract11(inst)
            self._send(c, 61, 3, self.account, k[0], k[1], k[2], k[3], k[4], k[5], k[6], k[7], k[8],
                       k[9], k[10], qty, avg)
        self._send(c, 62, 1)

    def _account_values(self) -> list[tuple[str, float]]:
        mv = sum(qty * self._mark(i) * (100 if isinstance(i, FakeOption) else 1) for i, qty, _ in self.positions)
        maint = sum(abs(q) * 0.2 * self.book.spx_price * 100 for i, q, _ in self.positions
                    if isinstance(i, FakeOption) and q < 0)
        nlv = self.cash + mv
        return [("NetLiquidation", nlv), ("TotalCashValue", self.cash), ("BuyingPower", (nlv - maint) * 4),
                ("MaintMarginReq", maint), ("AvailableFunds", nlv - maint)]

    async def _req_account_updates(self, c: _Client, f: list[str]) -> None:
        if f[2] != "1":
            return
        for key, val in self._account_values():
            self._send(c, 6, 2, key, round(val, 2), "USD", self.account)
        for inst, qty, avg in self.positions:
            k = self._contract11(inst)
            mult = 100 if isinstance(inst, FakeOption) else 1
            mark = self._mark(inst)
            self._send(c, 7, 8, k[0], k[1], k[2], k[3], k[4], k[5], k[6], "", k[8], k[9], k[10], qty, mark,
                       qty * mark * mult, avg, qty * mark * mult - qty * avg, 0.0, self.account)
        self._send(c, 8, 1, "09:30")
        self._send(c, 54, 1, self.account)

    async def _req_account_multi(self, c: _Client, f: list[str]) -> None:
        req_id = f[2]
        for key, val in self._account_values():
            self._send(c, 73, 1, req_id, self.account, "", key, round(val, 2), "USD")
        self._send(c, 74, 1, req_id)

    async def _req_open_orders(self, c: _Client, f: list[str]) -> None:
        for o in self.orders.values():
            if o.status in ("PreSubmitted", "Submitted") and o.client_id == c.client_id:
                self._open_order(c, o)
        self._send(c, 53, 1)

    async def _req_completed(self, c: _Client, f: list[str]) -> None:
        self._send(c, 102)

    async def _req_executions(self, c: _Client, f: list[str]) -> None:
        req_id = int(f[2])
        for e in self.executions:
            self._exec_details(c, e, req_id)
        self._send(c, 55, 1, req_id)

    async def _req_current_time(self, c: _Client, f: list[str]) -> None:
        self._send(c, 49, 1, int(time.time()))

    # ----------------------------------------------------------------------- market data
    async def _req_mkt_data(self, c: _Client, f: list[str]) -> None:
        req_id = int(f[2])
        snapshot = f[17] == "1"
        found = self.book.find(f[3:15])
        if len(found) != 1:
            self._send(c, 4, 2, req_id, 200, "No security definition has been found for the request", "")
            return
        inst = found[0]
        con_id = int(self._contract11(inst)[0])
        self.mkt_data_requests.append((c.client_id, con_id, snapshot))
        self._send(c, 58, 1, req_id, 1)
        if isinstance(inst, FakeOption):
            day = inst.day(self.book.quote_date) or inst.days[-1]
            self._option_ticks(c, req_id, inst, day)
        else:
            price = self._mark(inst)
            self._send(c, 1, 6, req_id, 4, price, 0, 0)
            self._send(c, 1, 6, req_id, 9, price, 0, 0)
        if snapshot:
            self._send(c, 57, 1, req_id)
        else:
            c.subs[req_id] = con_id
            c.step[req_id] = 0

    def _option_ticks(self, c: _Client, req_id: int, opt: FakeOption, day: OptionDay, kinds: str = "bag") -> None:
        # sizes are not in the recording: 1 contract per side (a zero size would mean "no quote")
        if "b" in kinds:
            self._send(c, 1, 6, req_id, 1, day.bid, 1, 0)
            if self.tick_hook:
                self.tick_hook(opt.con_id, day.bid, time.perf_counter())
        if "a" in kinds:
            self._send(c, 1, 6, req_id, 2, day.ask, 1, 0)
        if "g" in kinds:
            mid = (day.bid + day.ask) / 2.0
            self._send(c, 21, req_id, 13, 0, day.iv, day.delta, mid, 0.0, day.gamma, day.vega, day.theta,
                       day.und_price)
        if kinds == "bag" and day.last > 0:
            self._send(c, 1, 6, req_id, 4, day.last, 1, 0)
        self.ticks_sent += len(kinds)

    async def _cancel_mkt_data(self, c: _Client, f: list[str]) -> None:
        req_id = int(f[2])
        if c.subs.pop(req_id, None) is not None:
            self.cancelled_mkt_data += 1

    async def _stream(self) -> None:
        """Send ``stream_rate`` ticks/s round-robin over live subscriptions (bid, ask, Greeks in turn)."""
        t0 = time.perf_counter()
        sent = 0
        while True:
            await asyncio.sleep(0.002)
            if self.stream_rate <= 0:
                t0, sent = time.perf_counter(), 0
                continue
            due = int((time.perf_counter() - t0) * self.stream_rate) - sent
            subs = [(c, r, cid) for c in self._clients for r, cid in c.subs.items()]
            if not subs:
                t0, sent = time.perf_counter(), 0
                continue
            i = 0
            while due > 0:
                c, req_id, con_id = subs[(sent + i) % len(subs)]
                opt = self.book.options.get(con_id)
                step = c.step.get(req_id, 0)
                c.step[req_id] = step + 1
                if opt is not None:
                    day = opt.days[(step // 3) % len(opt.days)]
                    self._option_ticks(c, req_id, opt, day, "bag"[step % 3])
                else:
                    self._send(c, 1, 6, req_id, 4, self._mark("SPX" if con_id == SPX_CON_ID else "SPY"), 0, 0)
                    self.ticks_sent += 1
                due -= 1
                i += 1
            sent += i

    async def _req_contract_details(self, c: _Client, f: list[str]) -> None:
        req_id = int(f[2])
        found = self.book.find(f[3:15])
        if not found:
            self._send(c, 4, 2, req_id, 200, "No security definition has been found for the request", "")
            return
        for inst in found:
            k = self._contract11(inst)
            if isinstance(inst, FakeOption):
                und_con, long_name, tz = SPX_CON_ID, "S&P 500 Stock Index", "US/Central"
                exch, prim, mult, under_sym, under_type = "SMART", "", "100", "SPX", "IND"
            elif inst == "SPX":
                und_con, long_name, tz = 0, "S&P 500 Stock Index", "US/Central"
                exch, prim, mult, under_sym, under_type = "CBOE", "", "", "", ""
            else:
                und_con, long_name, tz = 0, "SPDR S&P 500 ETF TRUST", "US/Eastern"
                exch, prim, mult, under_sym, under_type = "SMART", "ARCA", "", "", ""
            self._send(
                c, 10, req_id, k[1], k[2], k[3], k[4], k[5], exch, "USD", k[9], k[10], k[10], k[0], 0.05,
                mult, "LMT,MKT", exch, 1, und_con, long_name, prim, "", "", "", "", tz, "", "", "", "", 0,
                "", under_sym, under_type, "", k[3], "", "1", "1", "1",
            )
        self._send(c, 52, 1, req_id)

    async def _req_sec_def(self, c: _Client, f: list[str]) -> None:
        req_id = int(f[1])
        if f[2] not in ("SPX", "SPXW"):
            self._send(c, 4, 2, req_id, 200, "No security definition has been found for the request", "")
            return
        exps, strikes = self.book.expiries(), self.book.strikes()
        self._send(c, 75, req_id, "SMART", SPX_CON_ID, "SPXW", "100", len(exps), *exps, len(strikes), *strikes)
        self._send(c, 76, req_id)

    async def _req_historical(self, c: _Client, f: list[str]) -> None:
        req_id = int(f[1])
        self.historical_requests += 1
        if self.historical_pacing_violations > 0:
            self.historical_pacing_violations -= 1
            self._send(c, 4, 2, req_id, 162, MSG_162, "")
            return
        symbol, duration = f[3], f[17]
        if symbol != "SPY":
            self._send(c, 4, 2, req_id, 162, "Historical Market Data Service error message:No data", "")
            return
        n_days = int(duration.split()[0]) if duration.endswith("D") else 30
        end = pd.Timestamp(self.book.quote_date)
        bars = self.book.spy_bars[self.book.spy_bars["Date"] <= end].tail(n_days)
        fields: list[object] = [17, req_id, "", "", len(bars)]
        for r in bars.itertuples():
            fields += [r.Date.strftime("%Y%m%d"), r.Open, r.High, r.Low, r.Close, float(r.Volume), r.Close, 0]
        self._send(c, *fields)

    # ---------------------------------------------------------------------------- orders
    def _open_order(self, c: _Client, o: FakeOrder) -> None:
        inst: FakeOption | str = self.book.options.get(o.con_id) or ("SPX" if o.con_id == SPX_CON_ID else "SPY")
        k = self._contract11(inst)
        fields: list[object] = [5, o.order_id, *k]
        fields += [o.action, o.qty, o.order_type, o.lmt_price if o.lmt_price is not None else "", "", "DAY", "",
                   o.account, "O", 0, o.order_ref, o.client_id, o.perm_id, 0, 0, 0, "", "", "", "", ""]
        fields += [""] * 14
        fields += [0, 0, 0, 0, "", 0, 0, 0, 1, 0, 0, "", 0, "", ""]
        fields += [0, 0, "", "", "", 0, ""]
        fields += [0, 0, 0]
        fields += ["", "", ""]
        fields += [""]
        fields += [0, "", "", 0, 0]
        fields += [""]
        fields += [0, 0, o.status, "", "", "", "", "", "", "", "", "", "", "", "", "", "", 0, 0]
        fields += [0]
        fields += ["", "", "", "", "", "", "", "", "", "", "", "", 0, 0, "", 0]
        fields += ["", "", "", "", "", "", "", ""]
        assert len(fields) == 127, len(fields)
        self._send(c, *fields)

    def _order_status(self, c: _Client, o: FakeOrder) -> None:
        self._send(c, 3, o.order_id, o.status, o.filled, o.qty - o.filled, o.avg_price, o.perm_id, 0,
                   o.avg_price, o.client_id, "", 0)

    def _exec_details(self, c: _Client, e: FakeExecution, req_id: int) -> None:
        o = e.order
        inst: FakeOption | str = self.book.options.get(o.con_id) or ("SPX" if o.con_id == SPX_CON_ID else "SPY")
        k = self._contract11(inst)
        side = "BOT" if o.action == "BUY" else "SLD"
        self._send(c, 11, req_id, o.order_id, *k, e.exec_id, e.at.strftime("%Y%m%d %H:%M:%S UTC"),
                   o.account, "CBOE", side, e.shares, e.price, o.perm_id, o.client_id, 0, e.shares, e.price,
                   o.order_ref, "", "", "", 1, 0)
        self._send(c, 59, 1, e.exec_id, e.commission, "USD", "", "", "")

    def _client_of(self, client_id: int) -> _Client | None:
        return next((x for x in self._clients if x.client_id == client_id), None)

    async def _place_order(self, c: _Client, f: list[str]) -> None:
        order_id = int(f[1])
        lmt = float(f[19]) if f[19] else None
        known = self.orders.get(order_id)
        if known is not None and known.status in ("PreSubmitted", "Submitted"):
            # TWS: a placeOrder with the id of a working order modifies it (same id, ref and permId)
            known.qty, known.lmt_price = float(f[17]), lmt
            self.modifications.append((order_id, known.qty, lmt))
            self._open_order(c, known)
            self._order_status(c, known)
            return
        o = FakeOrder(order_id, self._next_perm, c.client_id or 0, int(f[2] or 0), f[16], float(f[17]), f[18],
                      lmt, f[26], f[23] or self.account, tif=f[21])
        self._next_perm += 1
        self._next_order_id = max(self._next_order_id, order_id + 1)
        self.placed_orders.append(o)
        self.orders[order_id] = o
        if self.drop_on_place:
            o.status = "Submitted"
            self.drop_connections()
            return
        o.status = "Submitted"
        self._open_order(c, o)
        self._order_status(c, o)
        if self.fill_orders:
            asyncio.get_running_loop().call_later(self.fill_delay, self._fill, o)

    def _fill(self, o: FakeOrder) -> None:
        if o.status != "Submitted":
            return
        opt = self.book.options.get(o.con_id)
        day = opt.day(self.book.quote_date) if opt else None
        quoted = (day.ask if o.action == "BUY" else day.bid) if day else self._mark("SPY")
        price = o.lmt_price if o.lmt_price is not None else quoted
        o.status, o.filled, o.avg_price = "Filled", o.qty, price
        e = FakeExecution(f"0000e0d5.{self._next_exec:08x}.01.01", o, o.qty, price, datetime.now(UTC),
                          round(0.65 * o.qty, 2))  # IB's published US options rate, USD 0.65/contract
        self._next_exec += 1
        self.executions.append(e)
        c = self._client_of(o.client_id)
        if c is None:
            return
        self._open_order(c, o)
        self._exec_details(c, e, -1)
        self._order_status(c, o)

    async def _cancel_order(self, c: _Client, f: list[str]) -> None:
        o = self.orders.get(int(f[2]))
        if o is None or o.status not in ("PreSubmitted", "Submitted"):
            self._send(c, 4, 2, int(f[2]), 10147, f"OrderId {f[2]} that needs to be cancelled is not found.", "")
            return
        o.status = "Cancelled"
        self._order_status(c, o)
        self._send(c, 4, 2, o.order_id, 202, "Order Canceled - reason:", "")
