"""NFL franchises: every team name or code a results file uses, mapped to one franchise code.

A franchise that moved or was renamed keeps one code (and so one Elo rating) across its names.
Codes are the current nflverse / Pro-Football-Reference-style abbreviations, with ``LAR`` for the
Rams (nflverse writes ``LA``, accepted as an alias).

Sources for the moves and renames (one franchise history per page):
Pro-Football-Reference franchise index, https://www.pro-football-reference.com/teams/ —
Colts ``/teams/clt/`` (Baltimore → Indianapolis, 1984), Patriots ``/teams/nwe/`` (Boston → New England,
1971), Titans ``/teams/oti/`` (Houston Oilers → Tennessee Oilers 1997 → Titans 1999), Raiders
``/teams/rai/`` (Oakland → Los Angeles 1982 → Oakland 1995 → Las Vegas 2020), Chargers ``/teams/sdg/``
(San Diego → Los Angeles, 2017), Cardinals ``/teams/crd/`` (St. Louis → Phoenix 1988 → Arizona 1994),
Rams ``/teams/ram/`` (Los Angeles → St. Louis 1995 → Los Angeles 2016), Washington ``/teams/was/``
(Redskins → Football Team 2020 → Commanders 2022), Browns ``/teams/cle/`` (suspended 1996–1998,
resumed 1999 with their history; the 1996 Baltimore Ravens ``/teams/rav/`` are a new franchise),
Texans ``/teams/htx/`` (expansion 2002; not the Houston Oilers).
"""

from __future__ import annotations

import re

#: code → current full name.
FRANCHISES: dict[str, str] = {
    "ARI": "Arizona Cardinals", "ATL": "Atlanta Falcons", "BAL": "Baltimore Ravens", "BUF": "Buffalo Bills",
    "CAR": "Carolina Panthers", "CHI": "Chicago Bears", "CIN": "Cincinnati Bengals", "CLE": "Cleveland Browns",
    "DAL": "Dallas Cowboys", "DEN": "Denver Broncos", "DET": "Detroit Lions", "GB": "Green Bay Packers",
    "HOU": "Houston Texans", "IND": "Indianapolis Colts", "JAX": "Jacksonville Jaguars",
    "KC": "Kansas City Chiefs", "LAC": "Los Angeles Chargers", "LAR": "Los Angeles Rams",
    "LV": "Las Vegas Raiders", "MIA": "Miami Dolphins", "MIN": "Minnesota Vikings",
    "NE": "New England Patriots", "NO": "New Orleans Saints", "NYG": "New York Giants", "NYJ": "New York Jets",
    "PHI": "Philadelphia Eagles", "PIT": "Pittsburgh Steelers", "SEA": "Seattle Seahawks",
    "SF": "San Francisco 49ers", "TB": "Tampa Bay Buccaneers", "TEN": "Tennessee Titans",
    "WAS": "Washington Commanders",
}

#: Former names of moved or renamed franchises → code (see the module docstring for the sources).
FRANCHISE_MOVES: dict[str, str] = {
    "Baltimore Colts": "IND",            # 1953–1983
    "Boston Patriots": "NE",             # 1960–1970
    "Houston Oilers": "TEN",             # 1960–1996
    "Tennessee Oilers": "TEN",           # 1997–1998
    "Oakland Raiders": "LV",             # 1960–1981, 1995–2019
    "Los Angeles Raiders": "LV",         # 1982–1994
    "San Diego Chargers": "LAC",         # 1961–2016
    "St. Louis Cardinals": "ARI",        # 1960–1987
    "Phoenix Cardinals": "ARI",          # 1988–1993
    "St. Louis Rams": "LAR",             # 1995–2015
    "Washington Redskins": "WAS",        # 1937–2019
    "Washington Football Team": "WAS",   # 2020–2021
}

#: Other codes used by results files → code (nflverse historical codes; spreadspoke favourite ids).
CODE_ALIASES: dict[str, str] = {
    "LA": "LAR", "STL": "LAR", "RAM": "LAR", "SD": "LAC", "SDG": "LAC", "OAK": "LV", "LVR": "LV", "RAI": "LV",
    "ARZ": "ARI", "PHO": "ARI", "BLT": "BAL", "CLV": "CLE", "HST": "HOU", "JAC": "JAX", "KAN": "KC",
    "GNB": "GB", "NWE": "NE", "NOR": "NO", "SFO": "SF", "TAM": "TB", "WSH": "WAS", "NJY": "NYJ",
}

#: Names with the city only, used by some files for unscored rows; only the unambiguous ones.
CITY_ONLY: dict[str, str] = {"Las Vegas": "LV", "Tampa Bay": "TB", "New England": "NE", "Green Bay": "GB",
                             "Kansas City": "KC", "New Orleans": "NO", "San Francisco": "SF"}

#: City names shared by two franchises: a file that uses them cannot be resolved.
AMBIGUOUS: dict[str, str] = {"New York": "New York Giants or New York Jets",
                             "Los Angeles": "Los Angeles Rams or Los Angeles Chargers"}

_BY_NAME: dict[str, str] = {}
for _code, _name in FRANCHISES.items():
    _BY_NAME[_name.casefold()] = _code
    _BY_NAME[_code.casefold()] = _code
    _BY_NAME[_name.rsplit(" ", 1)[-1].casefold()] = _code  # nickname: "Chiefs"
for _table in (FRANCHISE_MOVES, CODE_ALIASES, CITY_ONLY):
    for _alias, _code in _table.items():
        _BY_NAME[_alias.casefold()] = _code
_BY_NAME["football team"] = "WAS"
_BY_NAME["redskins"] = "WAS"

_SPACES = re.compile(r"\s+")


class UnknownTeam(ValueError):
    """A team name or code that maps to no franchise (or to two of them); the message says which."""


def franchise_code(name: str) -> str:
    """The franchise code of a team name, former name, nickname or code (case-insensitive).

    Raises:
        UnknownTeam: the name is empty, ambiguous ("New York") or not a known NFL team.
    """
    cleaned = _SPACES.sub(" ", name).strip()
    if not cleaned:
        raise UnknownTeam("team name is empty")
    code = _BY_NAME.get(cleaned.casefold())
    if code is not None:
        return code
    for city, both in AMBIGUOUS.items():
        if cleaned.casefold() == city.casefold():
            raise UnknownTeam(f"team {cleaned!r} is ambiguous ({both})")
    raise UnknownTeam(f"unknown team {cleaned!r} (not a current or former NFL team name or code)")
