"""The markets of the last online session, kept in one JSON file in the data folder.

A JSON file rather than a database table: the cache is a disposable snapshot replaced whole after
each online load, read before (and without) the database — it still works when the database is
read-only or the session fell back to a temporary in-memory one — and needs no migration to keep in
step with the other branches' tables. It holds only public market data (no account data, no key).

File: ``<data_dir>/kalshi_markets.json`` = ``{"version": 1, "saved_at": ISO-8601 UTC, "base_url",
"series": [...], "events": [...], "markets": [...]}`` with API-shaped objects (:mod:`.convert`).
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from magnus_desktop.models.kalshi import KalshiEvent, KalshiMarket, KalshiSeries
from magnus_desktop.services.kalshi import convert

log = logging.getLogger(__name__)

CACHE_FILE = "kalshi_markets.json"
VERSION = 1


@dataclass(frozen=True, slots=True)
class MarketSnapshot:
    """Series, events and markets as loaded at ``saved_at`` (UTC) from ``base_url``."""

    saved_at: datetime
    base_url: str
    series: tuple[KalshiSeries, ...] = ()
    events: tuple[KalshiEvent, ...] = ()
    markets: tuple[KalshiMarket, ...] = field(default=())


def save_snapshot(path: Path, snap: MarketSnapshot) -> None:
    """Write ``snap`` next to ``path`` then move it over (never a half-written cache). Raises OSError."""
    doc = {"version": VERSION, "saved_at": snap.saved_at.isoformat(), "base_url": snap.base_url,
           "series": [{"ticker": s.ticker, "title": s.title, "category": s.category, "tags": list(s.tags),
                       "frequency": s.frequency} for s in snap.series],
           "events": [{"event_ticker": e.event_ticker, "series_ticker": e.series_ticker, "title": e.title,
                       "sub_title": e.sub_title, "category": e.category, "mutually_exclusive": e.mutually_exclusive,
                       "strike_date": e.strike_date.isoformat() if e.strike_date else None} for e in snap.events],
           "markets": [convert.market_to_json(m) for m in snap.markets]}
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".part")
    tmp.write_text(json.dumps(doc, separators=(",", ":")), encoding="utf-8")
    os.replace(tmp, path)


def load_snapshot(path: Path) -> tuple[MarketSnapshot | None, str]:
    """The cached snapshot and ``""``; or ``(None, why)`` when there is none or it cannot be used
    (the file is then left as it is for the next save to replace)."""
    if not path.is_file():
        return None, "No Kalshi markets are cached yet: they are saved after the first online session."
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
        if doc.get("version") != VERSION:
            return None, f"The Kalshi market cache {path} is of another version; it is replaced when online."
        saved_at = datetime.fromisoformat(doc["saved_at"]).astimezone(UTC)
        snap = MarketSnapshot(saved_at, str(doc.get("base_url", "")),
                              tuple(convert.series(s) for s in doc.get("series", ())),
                              tuple(convert.event(e) for e in doc.get("events", ())),
                              tuple(convert.market(m) for m in doc.get("markets", ())))
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        log.warning("Kalshi cache %s unusable: %s", path, exc)
        return None, f"The Kalshi market cache {path} cannot be read ({type(exc).__name__}); it is replaced when online."
    return snap, ""
