"""The intent router: deterministic patterns first, the model only as a constrained, checked fallback.

:func:`parse_question` reads the entities of a question (dates through ``dateparser``, strikes,
rights, symbols, quantities, target delta); :func:`route` maps the common intents to a tool call
without the model. When nothing matches, the caller asks the model for a tool choice constrained by
:meth:`ToolRegistry.choice_schema` and checks it with :func:`check_model_choice` before it runs (a
small model picks a wrong tool most of the time: a choice the question does not support is refused).

No I/O: dates are resolved against :class:`RouterContext` (the replay day, recorded expiries).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import Any

from magnus_desktop.services.assistant.numbers import find_numbers
from magnus_desktop.services.assistant.tools import ToolRegistry

_MONTH = (r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sep(?:t(?:ember)?)?|"
          r"oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)")
_DATE_PATTERNS = (
    re.compile(r"\b\d{4}-\d{1,2}-\d{1,2}\b"),
    re.compile(r"\b\d{1,2}/\d{1,2}/\d{4}\b"),
    re.compile(rf"\b{_MONTH}\.?\s+\d{{1,2}}(?:st|nd|rd|th)?(?:,?\s+\d{{4}})?\b", re.I),
    re.compile(rf"\b\d{{1,2}}(?:st|nd|rd|th)?\s+(?:of\s+)?{_MONTH}\.?(?:,?\s+\d{{4}})?\b", re.I),
)
_EXPIRY_CUE = re.compile(r"(expir\w*|exp\.?|expiry|maturing|due)\s*(on\s+|of\s+|date\s+)?$", re.I)
_QUOTE_CUE = re.compile(r"\b(on|as of|at|dated)\s*$", re.I)
_RIGHT = re.compile(r"\b(puts?|calls?)\b|\b\d{3,5}\s?([pc])\b", re.I)
_STRIKE = (re.compile(r"\b(\d{1,2},\d{3}|\d{3,5})(?:\.0+)?\s*(?:-|\s)?(?:strike\s*)?(?:spxw?\s*)?(?:puts?|calls?|[pc]\b)", re.I),
           re.compile(r"\bstrike\s*(?:of\s*|at\s*|=\s*)?(\d{1,2},\d{3}|\d{3,5})", re.I),
           re.compile(r"\b(\d{1,2},\d{3}|\d{3,5})[- ]strike", re.I))
_QTY = re.compile(r"\b(?:buy|sell|write|short)\s+(\d{1,4}|an?|one|two|three|five|ten)\b", re.I)
_DELTA = re.compile(r"\b(0?\.\d+|\d{1,2})\s*[- ]?\s*(?:delta|Δ)\b", re.I)
_WORD_NUM = {"a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "five": 5, "ten": 10}
_ALIASES = {"s&p 500": "SPX", "s&p500": "SPX", "s&p": "SPX", "sp500": "SPX", "the index": "SPX", "spx": "SPX",
            "spxw": "SPX", "spy": "SPY", "vix": "VIX", "apple": "AAPL", "aapl": "AAPL", "google": "GOOG",
            "goog": "GOOG", "alphabet": "GOOG"}
#: upper-case words that are not tickers
_NOT_TICKERS = frozenset("""I A IV OI P C PNL P&L ETF USD DTE BSM OK AM PM UTC EOD ITM OTM ATM BP PM
    ET EST VAR ES RSI IB OCC CSP CC ROI APR TLDR Q1 Q2 Q3 Q4 USA US NYSE CBOE SPXW GTC DAY MKT LMT FAQ
    YTD MTD IS WHAT THE MY HOW WHY WHO""".split())
_CONCEPT_Q = re.compile(r"^\s*(?:please\s+)?(?:explain|define|describe|what(?:'s| is| are| does| do)|how (?:does|do|is)|"
                        r"tell me about|meaning of|why (?:does|do|is))\b", re.I)
_ACCOUNT_WORDS = re.compile(r"\b(my|mine|i|portfolio|account|book|we|our|net)\b", re.I)


@dataclass(frozen=True, slots=True)
class RouterContext:
    """What the router needs to resolve a question: the replay day, its calendar, expiries, symbols."""

    day: date
    days: tuple[date, ...]
    expiries: Callable[[date], list[date]]
    known_symbols: frozenset[str]


@dataclass(frozen=True, slots=True)
class Entities:
    """What a question names. Dates ISO; ``quote_day`` None = not said (the replay day applies)."""

    quote_day: date | None = None
    expiry: date | None = None
    dates: tuple[date, ...] = ()
    strike: float | None = None
    right: str | None = None
    symbol: str | None = None
    unknown_symbol: str | None = None
    qty: int | None = None
    delta: float | None = None
    months_ahead: int | None = None
    numbers: tuple[float, ...] = ()


@dataclass(frozen=True, slots=True)
class Route:
    """A tool call the router chose: ``tool`` with ``arguments``; ``by`` "rules" or "model"."""

    tool: str
    arguments: Mapping[str, Any]
    intent: str
    by: str = "rules"
    notes: tuple[str, ...] = field(default_factory=tuple)


@lru_cache(maxsize=512)
def _dateparse(text: str, base: date) -> date | None:
    import dateparser  # a second to import: only when a date in words is met

    parsed = dateparser.parse(text, languages=["en"], settings={
        "RELATIVE_BASE": datetime(base.year, base.month, base.day), "DATE_ORDER": "MDY",
        "PREFER_DAY_OF_MONTH": "first", "RETURN_AS_TIMEZONE_AWARE": False})
    return None if parsed is None else parsed.date()


def warm_up() -> None:
    """Import ``dateparser`` and parse once (about a second; call it on a worker thread at start)."""
    _dateparse("Feb 5, 2018", date(2018, 1, 2))


def _find_dates(text: str, base: date) -> list[tuple[int, int, date]]:
    spans: list[tuple[int, int, date]] = []
    for pattern in _DATE_PATTERNS:
        for m in pattern.finditer(text):
            if any(s <= m.start() < e for s, e, _ in spans):
                continue
            raw = m.group(0)
            if pattern is _DATE_PATTERNS[0]:
                try:
                    y, mo, d = (int(x) for x in raw.split("-"))
                    found: date | None = date(y, mo, d)
                except ValueError:
                    found = None
            else:
                found = _dateparse(raw, base)
            if found is not None:
                spans.append((m.start(), m.end(), found))
    lowered = text.lower()
    for word, delta in (("yesterday", -1), ("today", 0)):
        for m in re.finditer(rf"\b{word}\b", lowered):
            spans.append((m.start(), m.end(), base + timedelta(days=delta)))
    return sorted(spans)


def _strip_spans(text: str, spans: list[tuple[int, int, date]]) -> str:
    out = list(text)
    for s, e, _ in spans:
        out[s:e] = " " * (e - s)
    return "".join(out)


def _symbol(text: str, known: frozenset[str]) -> tuple[str | None, str | None]:
    lowered = text.lower()
    for alias, sym in sorted(_ALIASES.items(), key=lambda kv: -len(kv[0])):
        if re.search(rf"(?<![\w&]){re.escape(alias)}(?![\w&])", lowered):
            return sym, None
    for m in re.finditer(r"(?<![\w&])\$?([A-Z]{1,5}(?:\.[A-Z])?)(?![\w&])", text):
        word = m.group(1)
        if word in known:
            return word, None
        if word not in _NOT_TICKERS and (len(word) >= 2 or m.group(0).startswith("$")):
            return None, word
    return None, None


def parse_question(question: str, rc: RouterContext) -> Entities:
    """The entities of ``question`` (see :class:`Entities`)."""
    spans = _find_dates(question, rc.day)
    quote_day = expiry = None
    unlabeled: list[date] = []
    for s, e, d in spans:
        before = question[max(0, s - 22):s]
        after = question[e:e + 14].lower()
        if _EXPIRY_CUE.search(before) or re.match(r"\s*(expir|exp\b|expiry|options?\b)", after):
            expiry = expiry or d
        elif re.match(r"\s*\d{3,5}\s*(puts?|calls?|[pc]\b|strike)", question[e:e + 20], re.I):
            expiry = expiry or d
        elif _QUOTE_CUE.search(before):
            quote_day = quote_day or d
        else:
            unlabeled.append(d)
    if quote_day is None and expiry is None and len(unlabeled) >= 2:
        quote_day, expiry = min(unlabeled[:2]), max(unlabeled[:2])
    else:
        for d in unlabeled:
            if quote_day is None:
                quote_day = d
            elif expiry is None:
                expiry = d
    rest = _strip_spans(question, spans)
    qty = None
    mq = _QTY.search(rest)
    if mq:
        raw = mq.group(1).lower()
        qty = _WORD_NUM.get(raw) or (int(raw) if raw.isdigit() else None)
        rest = rest[:mq.start(1)] + " " * len(mq.group(1)) + rest[mq.end(1):]  # a quantity is not a strike
    strike = None
    for pattern in _STRIKE:
        m = pattern.search(rest)
        if m:
            strike = float(m.group(1).replace(",", ""))
            break
    right = None
    m = _RIGHT.search(rest)
    if m:
        word = (m.group(1) or m.group(2) or "").lower()
        right = "P" if word.startswith("p") else "C"
    symbol, unknown = _symbol(rest, rc.known_symbols)
    delta = None
    md = _DELTA.search(rest)
    if md:
        value = float(md.group(1))
        delta = value / 100.0 if value >= 1 else value
    months = None
    lowered = rest.lower()
    if re.search(r"\bnext month\b", lowered):
        months = 1
    elif re.search(r"\bthis month\b", lowered):
        months = 0
    elif m2 := re.search(r"\bin (two|2|three|3) months\b", lowered):
        months = 2 if m2.group(1) in ("two", "2") else 3
    nums = tuple(n.value for n in find_numbers(question))
    return Entities(quote_day, expiry, tuple(d for _, _, d in spans), strike, right, symbol, unknown, qty, delta,
                    months, nums)


def _has(text: str, *patterns: str) -> bool:
    return any(re.search(p, text, re.I) for p in patterns)


def _nearest_expiry(rc: RouterContext, day: date) -> date | None:
    later = [e for e in rc.expiries(day) if e > day]
    return later[0] if later else None


def _with_date(args: dict[str, Any], e: Entities) -> dict[str, Any]:
    if e.quote_day is not None:
        args["date"] = e.quote_day.isoformat()
    return args


def route(question: str, rc: RouterContext) -> Route | None:
    """The tool call for ``question`` by the deterministic rules, or None (then the model chooses)."""
    e = parse_question(question, rc)
    q = question.lower()
    day = e.quote_day or rc.day
    sym = e.symbol or ("SPX" if e.unknown_symbol is None else e.unknown_symbol)
    if e.right and _has(q, r"\b(sell|buy|write|short)\s+(a|an|one|\d+)\b", r"\bopen (an? |the )?(order )?ticket\b",
                        r"\b(sell|buy|write)\s+(me\s+)?(some\s+)?(puts?|calls?)\b"):
        action = "BUY" if _has(q, r"\bbuy\b") and not _has(q, r"\b(sell|write|short)\b") else "SELL"
        args: dict[str, Any] = {"right": e.right, "action": action, "qty": e.qty or 1, "symbol": sym}
        if e.strike is not None:
            args["strike"] = e.strike
        elif e.delta is not None:
            args["delta"] = e.delta
        if e.expiry is not None:
            args["expiry"] = e.expiry.isoformat()
        elif e.months_ahead is not None:
            args["months_ahead"] = e.months_ahead
        return Route("open_order_ticket", args, "action")
    if _has(q, r"open[- ]interest", r"\boi\b") and _has(q, r"larg|most|highest|biggest|max|top|great"):
        args = {"right": e.right or "P", "symbol": sym}
        if e.expiry is not None:
            args["expiry"] = e.expiry.isoformat()
        return Route("largest_open_interest", _with_date(args, e), "largest open interest")
    if e.strike is not None and e.right is not None:
        expiry = e.expiry or _nearest_expiry(rc, day)
        notes = () if e.expiry is not None or expiry is None else (f"no expiry named: the nearest, {expiry.isoformat()}",)
        args = {"symbol": sym, "strike": e.strike, "right": e.right,
                "expiry": (expiry or day).isoformat()}
        intent = "option iv" if _has(q, r"\biv\b", r"implied vol", r"\bvol(atility)?\b") else "option quote"
        return Route("get_option_quote", _with_date(args, e), intent, notes=notes)
    concept = _CONCEPT_Q.search(q) is not None and not _ACCOUNT_WORDS.search(q) and e.strike is None \
        and not e.dates and e.symbol is None and e.unknown_symbol is None
    if concept or _has(q, r"^\s*(explain|define)\b", r"\bwhat does .+ (mean|measure)\b"):
        topic = re.sub(r"^\s*(please\s+)?(explain|define|describe|tell me about|what(?:'s| is| are| does| do)|"
                       r"how (does|do|is)|meaning of|why (does|do|is))\s+(an?\s+|the\s+)?", "", question,
                       flags=re.I).strip(" ?.!")
        topic = re.sub(r"\s+(measure|mean|do|work|represent|tell (me|us))$", "", topic, flags=re.I).strip()
        return Route("explain", {"topic": topic[:200] or question[:200]}, "explain")
    account = _ACCOUNT_WORDS.search(q) is not None
    if _has(q, r"buying power", r"\bhow much (cash|money)\b", r"\bcash (do i|available|left)\b", r"\bcan i afford\b",
            r"\bcollateral\b"):
        return Route("get_buying_power", _with_date({}, e), "buying power")
    if _has(q, r"\b(net|portfolio|total|my|account)\b.*\b(delta|gamma|theta|vega|greeks?)\b",
            r"\b(delta|gamma|theta|vega|greeks?)\b.*\b(portfolio|account|book|positions?|am i|do i|my)\b"):
        return Route("get_greeks", _with_date({}, e), "greeks")
    if account and _has(q, r"p&l", r"\bp/l\b", r"\bpnl\b", r"\bprofit", r"\bloss", r"\b(made|make|lost|lose|up|down)\b",
                        r"\brealized\b", r"\bunrealized\b", r"\bnet liq"):
        return Route("get_pnl", _with_date({}, e), "pnl")
    if _has(q, r"\bpositions?\b", r"\bholdings?\b", r"\bwhat do (i|we) (own|hold|have)\b", r"\bmy book\b",
            r"\bopen trades\b"):
        return Route("get_positions", _with_date({}, e), "positions")
    if _has(q, r"watch ?lists?"):
        return Route("watchlist_quotes", _with_date({}, e), "watchlist")
    if _has(q, r"\baudit\b"):
        return Route("audit_log", {}, "audit")
    if _has(q, r"\borders?\b"):
        return Route("list_orders", {}, "orders")
    if _has(q, r"trade history", r"closed trades", r"wheel cycles?", r"\bhistory\b"):
        return Route("trade_history", {}, "trade history")
    if _has(q, r"\balerts?\b", r"\bwarnings?\b"):
        return Route("list_alerts", {}, "alerts")
    if e.right and _has(q, r"\bscan\b", r"\bscreen\b", r"\bfind\b", r"\bbest\b", r"\bcandidates?\b", r"\bshould i sell\b",
                        r"\bcash[- ]secured\b", r"\bcovered\b", r"\bwhich (puts?|calls?)\b.*\bsell\b"):
        args = {"right": e.right, **({"delta_max": e.delta, "delta_min": max(0.0, e.delta - 0.1)} if e.delta else {})}
        if m := re.search(r"\b(\d{1,3})\s*(?:to|-|–)\s*(\d{1,3})\s*(?:dte|days)\b", q):
            args.update(dte_min=int(m.group(1)), dte_max=int(m.group(2)))
        return Route("scan_options", _with_date(args, e), "scan")
    if (e.symbol or e.unknown_symbol) and _has(q, r"\bprice\b", r"\bclose[ds]?\b", r"\blevel\b", r"\btrad(e|ed|ing)\b",
                                              r"\bwas\b", r"\bquote\b", r"\bvalue\b", r"\bworth\b", r"\bat\b", r"\bsit\b",
                                              r"\bend\b", r"\bfinish"):
        return Route("get_underlying_price", _with_date({"symbol": sym}, e), "underlying price")
    return None


def check_model_choice(question: str, tool: str, arguments: Mapping[str, Any], registry: ToolRegistry,
                       rc: RouterContext) -> str | None:
    """Why the model's choice does not fit the question (None when it does).

    The question must contain one of the tool's cue words; a symbol argument must be named in it, a
    strike must be one of its numbers, a date argument one of its dates, a right its put/call word.
    """
    if tool not in registry:
        return f"{tool!r} is not a tool"
    q = question.lower()
    cues = registry[tool].cues
    if cues and not any(c in q for c in cues):
        return f"the question does not ask for {tool}"
    e = parse_question(question, rc)
    for key, value in arguments.items():
        if key == "symbol" and value not in {e.symbol, e.unknown_symbol}:
            return f"the question does not name {value}"
        if key == "strike" and float(value) not in e.numbers:
            return f"the question does not name the strike {value}"
        if key in ("date", "expiry") and value not in {d.isoformat() for d in e.dates}:
            return f"the question does not name the date {value}"
        if key == "right" and value != e.right:
            return "the question does not say put or call"
    return None
