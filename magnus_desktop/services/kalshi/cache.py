"""The markets of the last online session, kept in one JSON file in the data folder.

A JSON file rather than a database table: the cache is a disposable snapshot replaced whole after
each online load, read before (and without) the database — it still works when the database is
read-only or the session fell back to a temporary in-memory one — and needs no migration to keep in
step with the other branches' tables. It holds only public market data (no account data, no key).

File: ``<data_dir>/kalshi_markets.jsonl``, JSON Lines: a header ``{"version": 1, "saved_at": ISO-8601
UTC, "base_url"}``, then one ``{"series"|"event"|"market": {...}}`` per line with API-shaped objects
(:mod:`.convert`). One small ``json`` call per line: a worker thread writing or reading thousands of
markets never holds the interpreter lock for long, so the GUI thread keeps running.
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

CACHE_FILE = "kalshi_markets.jsonl"
VERSION = 1


@dataclass(frozen=True, slots=True)
class MarketSnapshot:
    """Series, events and markets as loaded at ``saved_at`` (UTC) from ``base_url``."""

    saved_at: datetime
    base_url: str
    series: tuple[KalshiSeries, ...] = ()
    events: tuple[KalshiEvent, ...] = ()
    markets: tuple[KalshiMarket, ...] = field(default=())


def _series_json(s: KalshiSeries) -> dict[str, object]:
    return {"ticker": s.ticker, "title": s.title, "category": s.category, "tags": list(s.tags),
            "frequency": s.frequency}


def _event_json(e: KalshiEvent) -> dict[str, object]:
    return {"event_ticker": e.event_ticker, "series_ticker": e.series_ticker, "title": e.title,
            "sub_title": e.sub_title, "category": e.category, "mutually_exclusive": e.mutually_exclusive,
            "strike_date": e.strike_date.isoformat() if e.strike_date else None}


def save_snapshot(path: Path, snap: MarketSnapshot) -> None:
    """Write ``snap`` next to ``path`` then move it over (never a half-written cache). Raises OSError."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".part")
    with open(tmp, "w", encoding="utf-8") as fh:
        fh.write(json.dumps({"version": VERSION, "saved_at": snap.saved_at.isoformat(), "base_url": snap.base_url}))
        fh.write("\n")
        for s in snap.series:
            fh.write(json.dumps({"series": _series_json(s)}, separators=(",", ":")) + "\n")
        for e in snap.events:
            fh.write(json.dumps({"event": _event_json(e)}, separators=(",", ":")) + "\n")
        for m in snap.markets:
            fh.write(json.dumps({"market": convert.market_to_json(m)}, separators=(",", ":")) + "\n")
    os.replace(tmp, path)


def load_snapshot(path: Path) -> tuple[MarketSnapshot | None, str]:
    """The cached snapshot and ``""``; or ``(None, why)`` when there is none or it cannot be used
    (the file is then left as it is for the next save to replace)."""
    if not path.is_file():
        return None, "No Kalshi markets are cached yet: they are saved after the first online session."
    try:
        with open(path, encoding="utf-8") as fh:
            head = json.loads(fh.readline())
            if not isinstance(head, dict) or head.get("version") != VERSION:
                return None, f"The Kalshi market cache {path} is of another version; it is replaced when online."
            saved_at = datetime.fromisoformat(head["saved_at"]).astimezone(UTC)
            series: list[KalshiSeries] = []
            events: list[KalshiEvent] = []
            markets: list[KalshiMarket] = []
            for line in fh:
                row = json.loads(line)
                if "market" in row:
                    markets.append(convert.market(row["market"]))
                elif "event" in row:
                    events.append(convert.event(row["event"]))
                elif "series" in row:
                    series.append(convert.series(row["series"]))
        snap = MarketSnapshot(saved_at, str(head.get("base_url", "")), tuple(series), tuple(events), tuple(markets))
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        log.warning("Kalshi cache %s unusable: %s", path, exc)
        return None, f"The Kalshi market cache {path} cannot be read ({type(exc).__name__}); it is replaced when online."
    return snap, ""
