"""The research desk's services: the shared symbol, sectors, earnings dates, bar history and scans."""

from magnus_desktop.services.research.symbol import (
    DEFAULT_SYMBOL,
    InvalidSymbol,
    SymbolContext,
    canonical_symbol,
)

__all__ = ["DEFAULT_SYMBOL", "InvalidSymbol", "SymbolContext", "canonical_symbol"]
