"""GICS sector of a symbol, from the bundled S&P 500 constituents list (no Qt, no network).

Source: ``resources/data/reference/datahub_sp500_constituents_gics_2026-08.csv`` (datasets/s-and-p-500-companies,
ODC-PDDL-1.0; see ``resources/data/LICENSES.md``). Today's membership (2026-08-08), not point in time.
The file is read once, lazily, under a lock; callers on the GUI thread should have it loaded first
(``constituents()`` on an executor), later lookups are dictionary reads.

Symbols are matched as the list spells them (``BRK.B``) and with ``-``/``/`` for ``.`` (Yahoo's
``BRK-B``). Index funds and indices (SPY, SPX, VIX, QQQ …) have no GICS sector: ``None``.
"""

from __future__ import annotations

import csv
import threading
from dataclasses import dataclass
from pathlib import Path

from magnus_desktop.services.paths import DATA_RESOURCES_DIR

__all__ = ["GICS_SECTORS", "SP500_FILE", "Constituent", "SectorDataError", "constituents", "sector_of",
           "sp500_symbols"]

SP500_FILE = DATA_RESOURCES_DIR / "reference" / "datahub_sp500_constituents_gics_2026-08.csv"
#: the 11 GICS sectors (2023 structure), as spelled in the list
GICS_SECTORS: tuple[str, ...] = (
    "Communication Services", "Consumer Discretionary", "Consumer Staples", "Energy", "Financials",
    "Health Care", "Industrials", "Information Technology", "Materials", "Real Estate", "Utilities")

_lock = threading.Lock()
_cache: dict[Path, dict[str, Constituent]] = {}


class SectorDataError(RuntimeError):
    """The constituents file is missing or not the expected layout (the message names the file)."""


@dataclass(frozen=True, slots=True)
class Constituent:
    """One S&P 500 member: ``symbol`` (as listed, e.g. ``BRK.B``), ``name``, GICS ``sector`` and
    ``sub_industry``."""

    symbol: str
    name: str
    sector: str
    sub_industry: str


def _key(symbol: str) -> str:
    return symbol.strip().upper().rpartition(":")[2].replace("-", ".").replace("/", ".")


def _read(path: Path) -> dict[str, Constituent]:
    try:
        with path.open(newline="", encoding="utf-8-sig") as fh:
            rows = list(csv.DictReader(fh))
    except OSError as exc:
        raise SectorDataError(f"{path}: S&P 500 constituents file not readable ({exc})") from exc
    needed = {"Symbol", "Security", "GICS Sector", "GICS Sub-Industry"}
    if not rows or not needed <= set(rows[0]):
        raise SectorDataError(f"{path}: not an S&P 500 constituents file (needs columns {', '.join(sorted(needed))})")
    out: dict[str, Constituent] = {}
    for row in rows:
        sym = (row["Symbol"] or "").strip().upper()
        if sym:
            out[_key(sym)] = Constituent(sym, row["Security"].strip(), row["GICS Sector"].strip(),
                                         row["GICS Sub-Industry"].strip())
    return out


def constituents(path: Path = SP500_FILE) -> dict[str, Constituent]:
    """All members keyed by normalised symbol (``BRK.B``); read once per path.

    Raises:
        SectorDataError: file missing or wrong layout.
    """
    with _lock:
        if path not in _cache:
            _cache[path] = _read(path)
        return _cache[path]


def sector_of(symbol: str, path: Path = SP500_FILE) -> str | None:
    """GICS sector of ``symbol`` (``"AAPL"`` → ``"Information Technology"``); None when it is not an
    S&P 500 member (ETFs and indices included).

    Raises:
        SectorDataError: the bundled file is missing or malformed.
    """
    member = constituents(path).get(_key(symbol))
    return member.sector if member is not None else None


def sp500_symbols(path: Path = SP500_FILE) -> list[str]:
    """The members' symbols as listed (``BRK.B``), in file order."""
    return [c.symbol for c in constituents(path).values()]
