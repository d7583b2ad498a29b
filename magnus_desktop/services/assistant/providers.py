"""The tool providers: each service's ``assistant_tools.register(registry, ctx)``.

A new service adds its tools by writing its own ``assistant_tools`` module and one line here;
the router, grammar, dock and ``ask`` command need no change.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from magnus_desktop.services.alerts import assistant_tools as alerts_tools
from magnus_desktop.services.history import assistant_tools as history_tools
from magnus_desktop.services.kalshi import assistant_tools as kalshi_tools
from magnus_desktop.services.market import assistant_tools as market_tools
from magnus_desktop.services.orders import assistant_tools as orders_tools
from magnus_desktop.services.portfolio import assistant_tools as portfolio_tools
from magnus_desktop.services.predictor import assistant_tools as predictor_tools
from magnus_desktop.services.watchlists import assistant_tools as watchlists_tools

if TYPE_CHECKING:
    from magnus_desktop.services.assistant.tools import ToolRegistry
    from magnus_desktop.services.context import AppContext

PROVIDERS: tuple[Callable[[ToolRegistry, AppContext], None], ...] = (
    market_tools.register, portfolio_tools.register, orders_tools.register, watchlists_tools.register,
    history_tools.register, alerts_tools.register, predictor_tools.register, kalshi_tools.register)
