"""``YahooMarket``: delayed quotes, option chains and history from Yahoo Finance through yfinance.

Every yfinance call runs on a dedicated network executor (never on the loop), passes a rate limiter
(aiolimiter, per yfinance call) and is retried with exponential backoff plus jitter (tenacity) on
transient network errors. Outcomes:

- network down, DNS failure, timeouts, HTTP 429 after the retries → ``SourceOffline`` and
  ``state == "offline"`` (``state_changed`` fires on every change);
- Yahoo answers but with nothing usable (empty, not JSON, wrong shape, NaN prices) →
  ``NoData``; a symbol Yahoo does not know → ``UnknownSymbol``. Never a crash, never NaN as a price.

Values carry ``source="yfinance"``, ``delayed=True`` and ``as_of`` from Yahoo's own timestamp
(``regularMarketTime`` of the chart/options payload). Only this module imports yfinance.

yfinance keeps process-wide state (one ``YfData`` singleton holding the HTTP session, cookie and
crumb; a timezone/cookie cache on disk). ``YahooMarket`` sets yfinance to raise instead of logging
(``yf.config.debug.hide_exceptions = False``), turns yfinance's own retry off (we retry with
backoff off the loop instead) and points its disk cache at ``cache_dir`` when given.

Events:
    state_changed(str, str): ``"online"``/``"offline"`` and a human reason.
    error(MarketDataError): a subscribed contract or symbol failed during polling (once until it
        recovers).
"""

from __future__ import annotations

import asyncio
import logging
import math
import socket
from collections.abc import Callable, Sequence
from concurrent.futures import Executor, ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, Literal, TypeVar

import pandas as pd
import yfinance as yf
from aiolimiter import AsyncLimiter
from psygnal import Signal
from tenacity import AsyncRetrying, retry_if_exception, stop_after_attempt, wait_exponential_jitter
from tenacity.wait import wait_base
from yfinance.exceptions import YFPricesMissingError, YFRateLimitError, YFTzMissingError

from magnus_desktop.models.domain import CHAIN_COLUMNS, OptionContract
from magnus_desktop.models.market import DataSource, OptionQuote, PriceQuote
from magnus_desktop.services.market.protocols import (
    BarInterval,
    MarketDataError,
    NoData,
    QuoteListener,
    SourceOffline,
    UnknownSymbol,
)
from magnus_desktop.services.market.replay import NEW_YORK, close_of_day

__all__ = ["YAHOO_SYMBOLS", "YahooMarket", "YahooState"]

log = logging.getLogger(__name__)

YahooState = Literal["online", "offline"]
T = TypeVar("T")
#: Our symbol → Yahoo's (indices carry a caret on Yahoo).
YAHOO_SYMBOLS: dict[str, str] = {"SPX": "^SPX", "SPXW": "^SPX", "VIX": "^VIX", "NDX": "^NDX", "RUT": "^RUT"}
_TRANSIENT_NAMES = frozenset(
    {"ConnectionError", "DNSError", "ConnectTimeout", "ReadTimeout", "Timeout", "TimeoutError", "ProxyError",
     "SSLError", "ChunkedEncodingError", "IncompleteRead", "RemoteDisconnected"}
)
_OCC_TAIL = 15  # YYMMDD + C/P + 8-digit strike after the root of an OCC contract symbol


def _is_transient(exc: BaseException) -> bool:
    """Network trouble worth a retry (curl_cffi/requests connection errors, timeouts, HTTP 429).

    curl_cffi's exceptions all derive from ``OSError`` — including its JSON decode error — so the
    test is by class name along the MRO, and decode/value errors are never transient.
    """
    if isinstance(exc, YFRateLimitError):
        return True
    if isinstance(exc, ValueError):
        return False
    names = {cls.__name__ for cls in type(exc).__mro__}
    return bool(names & _TRANSIENT_NAMES) or isinstance(exc, ConnectionError | TimeoutError | socket.gaierror)


def _finite_positive(value: Any) -> float:
    """``value`` as a float if it is a finite positive number, else ``nan`` (Yahoo sends 0 for none)."""
    try:
        out = float(value)
    except (TypeError, ValueError):
        return math.nan
    return out if math.isfinite(out) and out > 0 else math.nan


def _finite_count(value: Any) -> float:
    try:
        out = float(value)
    except (TypeError, ValueError):
        return math.nan
    return out if math.isfinite(out) and out >= 0 else math.nan


def _utc(ts: Any) -> datetime | None:
    try:
        seconds = float(ts)
    except (TypeError, ValueError):
        return None
    return datetime.fromtimestamp(seconds, tz=UTC) if math.isfinite(seconds) and seconds > 0 else None


class YahooMarket:
    """Yahoo Finance behind the async ``MarketData`` seam (delayed data, ``source="yfinance"``).

    Args:
        executor: the app's network executor; None creates a private 2-thread one (shut down by
            ``aclose``).
        session: an HTTP session for yfinance (curl_cffi or requests); None lets yfinance create
            its own browser-impersonating curl_cffi session. Tests pass one that talks to a local
            server.
        max_rate: yfinance calls allowed per ``rate_period`` seconds (each call is 1–3 HTTP requests).
        attempts: tries per call on transient network errors (1 = no retry).
        retry_wait: tenacity wait strategy between tries (default: exponential 0.5 s .. 8 s + jitter).
        timeout: HTTP timeout per request, seconds.
        poll_interval: seconds between polling rounds of ``subscribe``; 0 disables polling.
        poll_while_offline: keep polling while offline (default False: polling pauses until a
            call succeeds again, e.g. ``probe()``).
        max_expiries: expiries fetched by ``chain`` (one HTTP request each, nearest first).
        cache_dir: where yfinance keeps its timezone/cookie cache (None: yfinance's default).
    """

    source: DataSource = "yfinance"
    state_changed = Signal(str, str)
    error = Signal(object)

    def __init__(
        self,
        *,
        executor: Executor | None = None,
        session: Any = None,
        max_rate: float = 4.0,
        rate_period: float = 1.0,
        attempts: int = 3,
        retry_wait: wait_base | None = None,
        timeout: float = 10.0,
        poll_interval: float = 15.0,
        poll_while_offline: bool = False,
        max_expiries: int = 8,
        cache_dir: str | Path | None = None,
    ) -> None:
        self._own_executor = executor is None
        self._executor = executor or ThreadPoolExecutor(max_workers=2, thread_name_prefix="yfinance")
        self._session = session
        self._limiter = AsyncLimiter(max_rate, rate_period)
        self._attempts = max(1, attempts)
        self._wait = retry_wait if retry_wait is not None else wait_exponential_jitter(multiplier=0.5, max=8.0)
        self._timeout = timeout
        self.poll_interval = poll_interval
        self.poll_while_offline = poll_while_offline
        self._max_expiries = max(1, max_expiries)
        self.state: YahooState = "online"
        self.state_reason = ""
        self.calls_started = 0
        self._online = asyncio.Event()
        self._online.set()
        self._subs: dict[QuoteListener, set[OptionContract | str]] = {}
        self._reported: set[OptionContract | str] = set()
        self._poller: asyncio.Task[None] | None = None
        yf.config.debug.hide_exceptions = False
        yf.config.network.retries = 0
        if cache_dir is not None:
            Path(cache_dir).mkdir(parents=True, exist_ok=True)
            yf.cache.set_cache_location(str(cache_dir))

    # ------------------------------------------------------------------ state
    def _set_state(self, state: YahooState, reason: str = "") -> None:
        self.state_reason = reason
        if state == self.state:
            return
        self.state = state
        if state == "online":
            self._online.set()
        else:
            self._online.clear()
        log.info("yfinance is %s%s", state, f": {reason}" if reason else "")
        try:
            self.state_changed.emit(state, reason)
        except Exception:
            log.exception("a yfinance state_changed subscriber raised")

    async def _call(self, what: str, fn: Callable[..., T], *args: Any, symbol: str = "") -> T:
        """Run ``fn(*args)`` on the network executor: rate-limited, retried, errors translated.

        ``symbol`` names the symbol asked for, for the "unknown symbol" message of an HTTP 404.
        """
        loop = asyncio.get_running_loop()
        try:
            async for attempt in AsyncRetrying(
                stop=stop_after_attempt(self._attempts),
                wait=self._wait,
                retry=retry_if_exception(_is_transient),
                reraise=True,
            ):
                with attempt:
                    async with self._limiter:
                        self.calls_started += 1
                        result = await loop.run_in_executor(self._executor, fn, *args)
        except MarketDataError:
            self._set_state("online")
            raise
        except Exception as exc:
            if _is_transient(exc):
                reason = _offline_reason(exc)
                self._set_state("offline", reason)
                raise SourceOffline(f"Yahoo Finance is unreachable ({reason}); {what} not fetched") from exc
            self._set_state("online")
            if _http_status(exc) == 404:
                raise UnknownSymbol(f"Yahoo Finance does not know {symbol or what!r} (HTTP 404)") from exc
            raise _data_error(what, exc) from exc
        self._set_state("online")
        return result

    def _ticker(self, symbol: str) -> yf.Ticker:
        yahoo = YAHOO_SYMBOLS.get(symbol.strip().upper(), symbol.strip().upper())
        return yf.Ticker(yahoo, session=self._session)

    async def probe(self) -> YahooState:
        """Try one cheap request (SPY's last price) to find out whether Yahoo is reachable again."""
        try:
            await self.underlying_price("SPY")
        except SourceOffline:
            pass
        except MarketDataError:
            self._set_state("online")
        return self.state

    async def aclose(self) -> None:
        """Stop polling and release the private executor (if this object created it)."""
        if self._poller is not None:
            self._poller.cancel()
            await asyncio.gather(self._poller, return_exceptions=True)
            self._poller = None
        if self._own_executor:
            self._executor.shutdown(wait=False, cancel_futures=True)

    # ------------------------------------------------------------ underlyings
    async def underlying_price(self, symbol: str, at: date | datetime | None = None) -> PriceQuote:
        """Yahoo's latest (delayed) price of ``symbol``, or its daily close on ``at``; USD per share.

        ``as_of`` is Yahoo's ``regularMarketTime`` (or the close of the day for ``at``);
        ``bid``/``ask`` are ``nan`` (the chart payload has none); ``volume`` in shares.

        Raises:
            UnknownSymbol, NoData, SourceOffline.
        """
        if at is not None:
            return await self._call(f"{symbol} close", self._close_on_sync, symbol, _day_of(at), symbol=symbol)
        return await self._call(f"{symbol} price", self._price_sync, symbol, symbol=symbol)

    def _price_sync(self, symbol: str) -> PriceQuote:
        ticker = self._ticker(symbol)
        hist = _history(ticker, symbol, period="5d", interval="1d", timeout=self._timeout)
        meta = ticker.get_history_metadata() or {}
        closes = hist["Close"].astype(float) if "Close" in hist else pd.Series(dtype=float)
        last = _finite_positive(meta.get("regularMarketPrice"))
        as_of = _utc(meta.get("regularMarketTime"))
        if math.isnan(last) or as_of is None:
            closes = closes[closes.map(_finite_positive).notna()]
            if closes.empty:
                raise NoData(f"Yahoo sent no usable price for {symbol}")
            last, as_of = float(closes.iloc[-1]), close_of_day(closes.index[-1].date())
        last_day = as_of.astimezone(NEW_YORK).date()
        before = closes[[ts.date() < last_day for ts in closes.index]]
        prev = _finite_positive(before.iloc[-1]) if len(before) else _finite_positive(meta.get("chartPreviousClose"))
        volume = _finite_count(meta.get("regularMarketVolume"))
        return PriceQuote(symbol.strip().upper(), last, math.nan, math.nan, prev, volume, self.source, as_of, delayed=True)

    def _close_on_sync(self, symbol: str, day: date) -> PriceQuote:
        bars = self._bars_sync(symbol, day - timedelta(days=10), day, "1d")
        bars = bars[bars["close"].map(_finite_positive).notna()]
        if bars.empty:
            raise NoData(f"Yahoo has no close for {symbol} on or before {day.isoformat()}")
        close = bars["close"].to_numpy()
        return PriceQuote(
            symbol=symbol.strip().upper(),
            last=float(close[-1]),
            bid=math.nan,
            ask=math.nan,
            prev_close=float(close[-2]) if len(close) > 1 else math.nan,
            volume=_finite_count(bars["volume"].iloc[-1]),
            source=self.source,
            as_of=close_of_day(bars.index[-1].date()),
            delayed=True,
        )

    async def bars(self, symbol: str, start: date, end: date, interval: BarInterval = "1d") -> pd.DataFrame:
        """Unadjusted OHLCV bars from ``start`` to ``end`` inclusive (USD per share, shares).

        Daily bars are indexed by date (``DatetimeIndex`` named ``date``); intraday bars by their
        UTC start time.

        Raises:
            UnknownSymbol, NoData, SourceOffline.
        """
        return await self._call(f"{symbol} {interval} bars", self._bars_sync, symbol, start, end, interval, symbol=symbol)

    async def earnings_dates(self, symbol: str, limit: int = 24) -> list[date]:
        """Yahoo's earnings report dates of ``symbol`` (past and scheduled, up to ``limit``), sorted.

        Raises:
            UnknownSymbol, NoData (Yahoo lists none), SourceOffline.
        """
        return await self._call(f"{symbol} earnings dates", self._earnings_sync, symbol, limit, symbol=symbol)

    def _earnings_sync(self, symbol: str, limit: int) -> list[date]:
        frame = self._ticker(symbol).get_earnings_dates(limit=limit)
        if frame is None or len(frame) == 0:
            raise NoData(f"Yahoo lists no earnings dates for {symbol}")
        days = sorted({pd.Timestamp(ts).date() for ts in frame.index if not pd.isna(ts)})
        if not days:
            raise NoData(f"Yahoo lists no earnings dates for {symbol}")
        return days

    def _bars_sync(self, symbol: str, start: date, end: date, interval: str) -> pd.DataFrame:
        ticker = self._ticker(symbol)
        hist = _history(ticker, symbol, start=start, end=end + timedelta(days=1), interval=interval, timeout=self._timeout)
        missing = [c for c in ("Open", "High", "Low", "Close") if c not in hist.columns]
        if missing:
            raise NoData(f"Yahoo's {symbol} bars lack {', '.join(missing)}")
        out = pd.DataFrame(
            {col.lower(): pd.to_numeric(hist[col], errors="coerce").astype("float64")
             for col in ("Open", "High", "Low", "Close", "Volume") if col in hist.columns}
        )
        if "volume" not in out:
            out["volume"] = math.nan
        index = pd.DatetimeIndex(hist.index)
        if interval == "1d":
            out.index = pd.DatetimeIndex(index.tz_localize(None).normalize() if index.tz else index.normalize(), name="date")
        else:
            out.index = pd.DatetimeIndex(index.tz_convert("UTC") if index.tz else index.tz_localize("UTC"), name="time")
        out = out[out["close"].map(_finite_positive).notna()]
        if out.empty:
            raise NoData(f"Yahoo sent no usable {interval} bars for {symbol} from {start} to {end}")
        return out.loc[:, ["open", "high", "low", "close", "volume"]]

    # ---------------------------------------------------------------- options
    async def chain(self, symbol: str, at: date | datetime | None = None) -> pd.DataFrame:
        """Today's (delayed) option chain of ``symbol``: the nearest ``max_expiries`` expiries.

        Returns ``CHAIN_COLUMNS`` (prices USD per share; ``nan`` where Yahoo sends 0 or nothing;
        ``quote_date`` the New York day of Yahoo's timestamp; ``und_price`` from the payload).

        Raises:
            NoData: a past ``at`` (Yahoo serves current chains only), no listed options, or an
                unusable payload. UnknownSymbol, SourceOffline.
        """
        self._check_today(symbol, at)
        ticker, expiries = await self._call(f"{symbol} expiries", self._expiries_sync, symbol, symbol=symbol)
        frames = []
        for expiry in expiries[: self._max_expiries]:
            what = f"{symbol} {expiry} chain"
            frames.append(await self._call(what, self._expiry_sync, ticker, symbol, expiry, symbol=symbol))
        chain = pd.concat(frames, ignore_index=True)
        if chain.empty:
            raise NoData(f"Yahoo sent an empty option chain for {symbol}")
        return chain

    def _check_today(self, symbol: str, at: date | datetime | None) -> None:
        if at is not None and _day_of(at) < datetime.now(NEW_YORK).date():
            raise NoData(f"Yahoo serves today's option chain only, not {symbol} on {_day_of(at).isoformat()}")

    def _expiries_sync(self, symbol: str) -> tuple[yf.Ticker, list[str]]:
        ticker = self._ticker(symbol)
        expiries = list(ticker.options)
        if not expiries:
            raise NoData(f"Yahoo lists no options for {symbol}")
        return ticker, expiries

    def _expiry_sync(self, ticker: yf.Ticker, symbol: str, expiry: str) -> pd.DataFrame:
        chain = ticker.option_chain(expiry)
        if chain.calls is None or chain.puts is None:
            raise NoData(f"Yahoo sent no {symbol} options expiring {expiry}")
        quote = chain.underlying if isinstance(chain.underlying, dict) else {}
        und = _finite_positive(quote.get("regularMarketPrice"))
        as_of = _utc(quote.get("regularMarketTime")) or datetime.now(UTC)
        return _chain_frame(symbol, expiry, chain.calls, chain.puts, und, as_of)

    async def option_quote(self, contract: OptionContract, at: date | datetime | None = None) -> OptionQuote:
        """Yahoo's (delayed) quote of one option, from its expiry's chain (iv annualised decimal).

        ``as_of`` is the payload's ``regularMarketTime``. Greeks other than ``iv`` are ``nan``.

        Raises:
            NoData: a past ``at``, the expiry or strike is not listed, or the payload is unusable.
            UnknownSymbol, SourceOffline.
        """
        self._check_today(contract.underlying, at)
        what = f"{contract.describe()} quote"
        return await self._call(what, self._option_sync, contract, symbol=contract.underlying)

    def _option_sync(self, contract: OptionContract) -> OptionQuote:
        ticker = self._ticker(contract.underlying)
        expiry = contract.expiry.isoformat()
        listed = list(ticker.options)
        if expiry not in listed:
            raise NoData(f"Yahoo lists no {contract.underlying} options expiring {expiry}")
        chain = ticker.option_chain(expiry)
        table = chain.calls if contract.right == "C" else chain.puts
        if table is None or "strike" not in table:
            raise NoData(f"Yahoo sent no {contract.underlying} options expiring {expiry}")
        rows = table[pd.to_numeric(table["strike"], errors="coerce") == float(contract.strike)]
        if rows.empty:
            raise NoData(f"Yahoo does not list {contract.describe()}")
        row = rows.iloc[0]
        quote = chain.underlying if isinstance(chain.underlying, dict) else {}
        as_of = _utc(quote.get("regularMarketTime")) or datetime.now(UTC)
        iv = _finite_positive(row.get("impliedVolatility"))
        return OptionQuote(
            contract=contract,
            bid=_finite_positive(row.get("bid")),
            ask=_finite_positive(row.get("ask")),
            last=_finite_positive(row.get("lastPrice")),
            volume=_finite_count(row.get("volume")),
            open_interest=_finite_count(row.get("openInterest")),
            und_price=_finite_positive(quote.get("regularMarketPrice")),
            source=self.source,
            as_of=as_of,
            iv=iv,
            delayed=True,
        )

    # ----------------------------------------------------------- subscriptions
    def subscribe(self, contracts: Sequence[OptionContract | str], listener: QuoteListener) -> None:
        """Poll ``contracts`` every ``poll_interval`` seconds and deliver quotes to ``listener``.

        Polling pauses while offline unless ``poll_while_offline``; it needs a running loop.
        """
        self._subs.setdefault(listener, set()).update(contracts)
        if self.poll_interval > 0 and (self._poller is None or self._poller.done()):
            self._poller = asyncio.get_running_loop().create_task(self._poll())

    def unsubscribe(self, contracts: Sequence[OptionContract | str], listener: QuoteListener) -> None:
        """Stop polling ``contracts`` for ``listener``; polling ends when nothing is subscribed."""
        wanted = self._subs.get(listener)
        if wanted is None:
            return
        wanted.difference_update(contracts)
        if not wanted:
            del self._subs[listener]
        if not self._subs and self._poller is not None:
            self._poller.cancel()
            self._poller = None

    async def _poll(self) -> None:
        while self._subs:
            if self.state == "offline" and not self.poll_while_offline:
                await self._online.wait()
            subs = {listener: set(items) for listener, items in self._subs.items()}
            quotes = await self._poll_once(set().union(*subs.values()))
            for listener, items in subs.items():
                batch = [quotes[i] for i in items if i in quotes]
                if batch and listener in self._subs:
                    try:
                        listener(batch)
                    except Exception:
                        log.exception("yfinance quote listener %r raised; the others still run", listener)
            await asyncio.sleep(self.poll_interval)

    async def _poll_once(self, items: set[OptionContract | str]) -> dict[OptionContract | str, OptionQuote | PriceQuote]:
        quotes: dict[OptionContract | str, OptionQuote | PriceQuote] = {}
        for item in items:
            try:
                quotes[item] = (
                    await self.underlying_price(item) if isinstance(item, str) else await self.option_quote(item)
                )
                self._reported.discard(item)
            except SourceOffline:
                break
            except MarketDataError as exc:
                if item not in self._reported:
                    self._reported.add(item)
                    try:
                        self.error.emit(exc)
                    except Exception:
                        log.exception("a yfinance error subscriber raised")
        return quotes


# --------------------------------------------------------------------- helpers
def _day_of(at: date | datetime) -> date:
    if isinstance(at, datetime):
        return at.astimezone(NEW_YORK).date() if at.tzinfo is not None else at.date()
    return at


def _history(ticker: yf.Ticker, symbol: str, **kwargs: Any) -> pd.DataFrame:
    """``Ticker.history`` unadjusted, with yfinance's "no data" exceptions as ours."""
    try:
        hist = ticker.history(auto_adjust=False, **kwargs)
    except YFTzMissingError as exc:
        raise UnknownSymbol(f"Yahoo Finance does not know {symbol!r} (no exchange timezone; delisted or mistyped?)") from exc
    except YFPricesMissingError as exc:
        raise NoData(f"Yahoo Finance has no prices for {symbol}: {exc}") from exc
    if not isinstance(hist, pd.DataFrame) or hist.empty:
        raise NoData(f"Yahoo Finance returned no prices for {symbol}")
    return hist


def _chain_frame(
    symbol: str, expiry: str, calls: pd.DataFrame, puts: pd.DataFrame, und: float, as_of: datetime
) -> pd.DataFrame:
    """yfinance's calls/puts tables → ``CHAIN_COLUMNS`` rows (non-positive prices → ``nan``)."""
    parts = []
    for right, table in (("C", calls), ("P", puts)):
        if table.empty:
            continue
        strikes = pd.to_numeric(table["strike"], errors="coerce").astype("float64")
        roots = table["contractSymbol"].astype(str).map(lambda s: s[:-_OCC_TAIL] if len(s) > _OCC_TAIL else symbol)
        part = pd.DataFrame(
            {
                "underlying": roots.to_numpy(),
                "strike": strikes.to_numpy(),
                "right": right,
                "bid": table["bid"].map(_finite_positive).to_numpy(dtype="float64"),
                "ask": table["ask"].map(_finite_positive).to_numpy(dtype="float64"),
                "last": table["lastPrice"].map(_finite_positive).to_numpy(dtype="float64"),
                "volume": table["volume"].map(_finite_count).to_numpy(dtype="float64"),
                "open_interest": table["openInterest"].map(_finite_count).to_numpy(dtype="float64"),
            }
        )
        parts.append(part[part["strike"].map(_finite_positive).notna()])
    if not parts:
        return pd.DataFrame(columns=list(CHAIN_COLUMNS))
    out = pd.concat(parts, ignore_index=True)
    out["quote_date"] = pd.Timestamp(as_of.astimezone(NEW_YORK).date())
    out["und_price"] = und
    out["expiry"] = pd.Timestamp(expiry)
    out["quote_date"] = out["quote_date"].astype("datetime64[us]")
    out["expiry"] = out["expiry"].astype("datetime64[us]")
    return out.loc[:, list(CHAIN_COLUMNS)]


def _offline_reason(exc: BaseException) -> str:
    if isinstance(exc, YFRateLimitError):
        return "rate-limited by Yahoo (HTTP 429)"
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"{type(exc).__name__}: {text}"[:200] if text else type(exc).__name__


def _http_status(exc: BaseException) -> int | None:
    response = getattr(exc, "response", None)
    status = getattr(response, "status_code", None)
    return status if isinstance(status, int) else None


def _data_error(what: str, exc: BaseException) -> MarketDataError:
    log.warning("yfinance returned unusable data for %s", what, exc_info=exc)
    text = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else type(exc).__name__
    return NoData(f"Yahoo Finance returned unusable data for {what} ({type(exc).__name__}: {text})")
