"""Watchlists: the trader's named symbol lists, their replay quotes (``WatchlistService``) and the
TradingView import (``tradingview``)."""

from magnus_desktop.services.watchlists.service import WatchlistService

__all__ = ["WatchlistService"]
