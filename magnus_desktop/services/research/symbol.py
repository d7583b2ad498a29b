"""The one shared research symbol: pick a symbol anywhere and every research dock follows (no Qt).

Watchlists, positions, the scanner and the Ctrl+K palette call :meth:`SymbolContext.set`; the research
docks (chart, report, earnings, sectors, options flow, calendar spreads) subscribe to ``changed``.

Events (payloads):
    changed(str, str)   the new symbol (canonical, upper case) and who set it ("watchlist",
                        "positions", "scanner", "palette", "research", "cli", ...)
"""

from __future__ import annotations

import re
from collections.abc import Callable

from psygnal import Signal

from magnus_desktop.services.events import emit_isolated

__all__ = ["DEFAULT_SYMBOL", "InvalidSymbol", "SymbolContext", "canonical_symbol"]

#: what the research docks show before anything is picked (bundled bars exist for it)
DEFAULT_SYMBOL = "SPY"
_TICKER = re.compile(r"^[A-Z0-9][A-Z0-9.\-/^=!]{0,19}$")
#: option roots whose research symbol is the index they settle on
_ROOTS = {"SPXW": "SPX", "^SPX": "SPX", "^GSPC": "SPX", "^VIX": "VIX"}


class InvalidSymbol(ValueError):
    """Not something that looks like a ticker (the message says what was given)."""


def canonical_symbol(symbol: str) -> str:
    """``symbol`` upper case, exchange prefix dropped (``"NASDAQ:aapl"`` → ``"AAPL"``), option roots
    mapped to their index (``"SPXW"`` → ``"SPX"``).

    Raises:
        InvalidSymbol: empty or not ticker-like.
    """
    bare = str(symbol).strip().upper().rpartition(":")[2].strip()
    bare = _ROOTS.get(bare, bare)
    if not _TICKER.match(bare):
        raise InvalidSymbol(f"{symbol!r} is not a ticker symbol")
    return bare


class SymbolContext:
    """The current research symbol, observable. One per ``AppContext`` (``ctx.symbol``)."""

    changed = Signal(str, str)

    def __init__(self, symbol: str = DEFAULT_SYMBOL) -> None:
        self._symbol = canonical_symbol(symbol)
        self._source = "default"

    def current(self) -> str:
        """The current symbol (canonical, upper case)."""
        return self._symbol

    @property
    def source(self) -> str:
        """Who set the current symbol last ("default" before anyone did)."""
        return self._source

    def set(self, symbol: str, source: str = "") -> bool:
        """Make ``symbol`` current; emits ``changed`` when it differs. Returns True if it changed.

        Raises:
            InvalidSymbol: ``symbol`` is not ticker-like (the current symbol is kept).
        """
        new = canonical_symbol(symbol)
        if new == self._symbol:
            return False
        self._symbol, self._source = new, source or "unknown"
        emit_isolated(self.changed, new, self._source)
        return True

    def try_set(self, symbol: str, source: str = "") -> bool:
        """:meth:`set`, but a non-ticker (an option description, an empty cell) is ignored: returns
        False and keeps the current symbol."""
        try:
            return self.set(symbol, source)
        except InvalidSymbol:
            return False

    def subscribe(self, callback: Callable[[str, str], object]) -> Callable[[], None]:
        """Call ``callback(symbol, source)`` on each change; returns a function that unsubscribes."""
        self.changed.connect(callback)

        def unsubscribe() -> None:
            self.changed.disconnect(callback, missing_ok=True)

        return unsubscribe
