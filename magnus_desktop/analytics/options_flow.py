"""Unusual options activity ("options flow") from end-of-day chains (pure pandas/NumPy, no I/O).

Signals per contract on the day shown (a contract = underlying, expiry, strike, right):

- ``vol_oi`` = volume / open_interest (NaN where open interest is 0); flagged when
  ``vol_oi >= vol_oi_min`` (or volume on zero open interest) and volume >= ``min_volume``;
- ``volume_jump`` = volume / ``avg_volume``, the contract's mean volume over its previous
  ``lookback`` quote days (NaN without a previous day or with a zero average); flagged when
  ``>= jump_min`` (or volume after only quiet days) and volume >= ``min_volume``;
- ``premium`` = volume × mid × multiplier (USD traded at the mid); flagged when ``>= premium_min``;
- ``oi_change`` = open_interest − the contract's open interest on the previous quote day
  (contracts); flagged when ``|oi_change| >= oi_change_min``. End-of-day open interest is the
  clearing house's count from the night before, so the change reported on day D is the
  positioning left by the trades of the previous session (``oi_session``): on the bundled SPXW
  replay |ΔOI(D)| correlates 0.80 with volume(D−1) and 0.25 with volume(D). Offline (recorded
  chains) this is the signal that needs no intraday data.

Per underlying (:func:`flow_context`): call and put volume and their ratio (calls / puts; NaN
with no put volume), premium by side, open-interest change by side, the underlying's price and
change since the previous quote day, and how many contracts were flagged.

Ranking: flagged rows by ``activity_usd`` = max(premium, |oi_change| × mid × multiplier)
descending: the larger of the money traded today and the money of the positions that changed.

Source: the screens are the usual "unusual options activity" definitions (e.g. Cboe Options
Institute, *Options Volume and Open Interest*; vol/OI > 1 and volume vs its own average);
open-interest timing: OCC publishes open interest once a day, before the open, from the previous
day's trades (OCC, *Open Interest* data description).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = ["FLOW_COLUMNS", "FlowThresholds", "FlowError", "flow_context", "options_flow"]

_KEY = ["underlying", "expiry", "strike", "right"]

#: Columns of :func:`options_flow`'s result, in display order.
FLOW_COLUMNS: tuple[str, ...] = (
    "underlying", "expiry", "dte", "strike", "right", "bid", "ask", "mid", "volume", "open_interest",
    "vol_oi", "avg_volume", "volume_jump", "premium", "prev_oi", "oi_change", "oi_change_pct",
    "oi_session", "activity_usd", "reasons",
)


class FlowError(ValueError):
    """The chains cannot be screened (missing columns, no rows for the day, mixed days)."""


@dataclass(frozen=True, slots=True)
class FlowThresholds:
    """Screen thresholds (the Settings → Research values).

    Attributes:
        vol_oi_min: volume / open interest at or above which a contract is flagged (ratio).
        jump_min: volume / own average volume at or above which it is flagged (ratio).
        premium_min: premium traded (volume × mid × multiplier) flagged from, USD.
        oi_change_min: |open-interest change| flagged from, contracts.
        min_volume: the vol/OI and jump screens ignore contracts below this volume (contracts).
        lookback: previous quote days averaged for ``avg_volume`` (days, >= 1).
        multiplier: contract multiplier (shares per contract).
    """

    vol_oi_min: float = 1.0
    jump_min: float = 3.0
    premium_min: float = 1_000_000.0
    oi_change_min: float = 2_000.0
    min_volume: float = 100.0
    lookback: int = 10
    multiplier: int = 100

    def __post_init__(self) -> None:
        for name in ("vol_oi_min", "jump_min", "premium_min", "oi_change_min", "min_volume"):
            value = getattr(self, name)
            if not (isinstance(value, float | int) and math.isfinite(value) and value >= 0):
                raise FlowError(f"{name} must be a finite number >= 0, got {value!r}")
        if self.lookback < 1 or self.multiplier < 1:
            raise FlowError("lookback and multiplier must be >= 1")


def _day_of(chain: pd.DataFrame) -> pd.Timestamp:
    missing = [c for c in (*_KEY, "quote_date", "bid", "ask", "volume", "open_interest", "und_price")
               if c not in chain.columns]
    if missing:
        raise FlowError(f"chain lacks columns: {', '.join(missing)}")
    if chain.empty:
        raise FlowError("the chain has no rows")
    days = pd.to_datetime(chain["quote_date"]).dt.normalize().unique()
    if len(days) != 1:
        raise FlowError(f"one chain per quote day expected, got {len(days)} days in one frame")
    return pd.Timestamp(days[0])


def _keyed(chain: pd.DataFrame) -> tuple[pd.DataFrame, list[tuple[object, ...]]]:
    """The chain with a normalised expiry, first row per contract kept, and each row's contract key
    (plain tuples: a dict lookup per contract is ~50x faster than aligning pandas MultiIndexes)."""
    out = chain.copy()
    out["expiry"] = pd.to_datetime(out["expiry"]).dt.normalize()
    out["strike"] = out["strike"].astype(float)
    out = out.drop_duplicates(_KEY).reset_index(drop=True)
    keys = list(zip(out["underlying"].astype(str).tolist(), out["expiry"].to_numpy("datetime64[ns]").astype("int64").tolist(),
                    out["strike"].tolist(), out["right"].astype(str).tolist(), strict=True))
    return out, keys


def _by_key(frame: pd.DataFrame, keys: list[tuple[object, ...]], column: str, fill: float | None) -> dict[
        tuple[object, ...], float]:
    values = frame[column].astype(float)
    if fill is not None:
        values = values.fillna(fill)
    return dict(zip(keys, values.tolist(), strict=True))


def options_flow(chain: pd.DataFrame, previous: Sequence[pd.DataFrame] = (),
                 thresholds: FlowThresholds | None = None, *, flagged_only: bool = True) -> pd.DataFrame:
    """Screen one day's chain for unusual activity against the contracts' own history.

    Args:
        chain: the day's chain, ``models.domain.CHAIN_COLUMNS`` (one quote date; prices USD per
            share, volume and open interest in contracts).
        previous: earlier chains of the same underlying(s), any order, one quote date each (the
            latest is the "previous quote day"; the last ``lookback`` give ``avg_volume``).
        thresholds: the screen; defaults of :class:`FlowThresholds`.
        flagged_only: keep only contracts with at least one reason (ranked); False keeps all.

    Returns:
        DataFrame with :data:`FLOW_COLUMNS`, ranked by ``activity_usd`` descending: ``dte``
        calendar days; ``mid`` USD per share (NaN without both sides); ``premium``,
        ``activity_usd`` USD; ``prev_oi``/``oi_change`` contracts (NaN for a contract not quoted
        on the previous day); ``oi_change_pct`` decimal of ``prev_oi``; ``oi_session`` the day
        whose trades the change reflects (the previous quote day, NaT without one); ``reasons``
        a "; "-joined list of the screens passed.

    Raises:
        FlowError: missing columns, an empty chain, a frame holding several days, or a previous
            chain dated on/after ``chain``'s day.
    """
    th = thresholds or FlowThresholds()
    day = _day_of(chain)
    prev_days = sorted(((_day_of(p), p) for p in previous), key=lambda x: x[0])
    if prev_days and prev_days[-1][0] >= day:
        raise FlowError(f"previous chains must precede {day.date()}; got {prev_days[-1][0].date()}")
    cur, keys = _keyed(chain)
    vol = cur["volume"].astype(float).fillna(0.0)
    oi = cur["open_interest"].astype(float)
    bid, ask = cur["bid"].astype(float), cur["ask"].astype(float)
    mid = ((bid + ask) / 2.0).where((bid >= 0) & (ask > 0) & (ask >= bid))
    out = cur.loc[:, _KEY].copy()
    out["quote_date"] = day
    out["bid"], out["ask"], out["mid"], out["volume"], out["open_interest"] = bid, ask, mid, vol, oi
    with np.errstate(divide="ignore", invalid="ignore"):
        out["vol_oi"] = (vol / oi).where(oi > 0)
    window = [_keyed(p) for _d, p in prev_days[-th.lookback:]]
    if window:
        vols = [_by_key(w, k, "volume", 0.0) for w, k in window]
        seen = [[v[key] for v in vols if key in v] for key in keys]
        out["avg_volume"] = [sum(x) / len(x) if x else np.nan for x in seen]
        last_oi = _by_key(window[-1][0], window[-1][1], "open_interest", None)
        out["prev_oi"] = [last_oi.get(key, np.nan) for key in keys]
        out["oi_session"] = prev_days[-1][0]
    else:
        out["avg_volume"] = np.nan
        out["prev_oi"] = np.nan
        out["oi_session"] = pd.NaT
    avg = out["avg_volume"]
    out["volume_jump"] = (vol / avg).where(avg > 0)
    out["premium"] = vol * mid * th.multiplier
    out["oi_change"] = oi - out["prev_oi"]
    out["oi_change_pct"] = (out["oi_change"] / out["prev_oi"]).where(out["prev_oi"] > 0)
    out["activity_usd"] = np.fmax(out["premium"].to_numpy(), (out["oi_change"].abs() * mid * th.multiplier).to_numpy())
    out["reasons"] = _reasons(out, th)
    out["dte"] = (out["expiry"] - day).dt.days
    if flagged_only:
        out = out[out["reasons"] != ""]
    out = out.sort_values(["activity_usd", "volume"], ascending=False, na_position="last", kind="stable")
    return out.loc[:, list(FLOW_COLUMNS)].reset_index(drop=True)


def _reasons(out: pd.DataFrame, th: FlowThresholds) -> list[str]:
    vol, oi, avg = out["volume"].to_numpy(), out["open_interest"].to_numpy(), out["avg_volume"].to_numpy()
    with np.errstate(invalid="ignore"):
        active = vol >= max(th.min_volume, 1.0)
        flags = (
            ("vol/OI", active & ((out["vol_oi"].to_numpy() >= th.vol_oi_min) | (oi <= 0))),
            ("volume jump", active & ((out["volume_jump"].to_numpy() >= th.jump_min) | (avg == 0))),
            ("large premium", out["premium"].to_numpy() >= th.premium_min),
            ("OI change", np.abs(out["oi_change"].to_numpy()) >= max(th.oi_change_min, 1.0)),
        )
    names = [name for name, _ in flags]
    rows = np.column_stack([mask for _, mask in flags]) if len(out) else np.zeros((0, len(flags)), dtype=bool)
    return ["; ".join(n for n, on in zip(names, row, strict=True) if on) for row in rows.tolist()]


def flow_context(chain: pd.DataFrame, previous: Sequence[pd.DataFrame] = (),
                 thresholds: FlowThresholds | None = None, *, full: pd.DataFrame | None = None) -> pd.DataFrame:
    """The day's context per underlying: volumes, call/put ratio, premium, OI change, price move.

    Args:
        chain: the day's chain (``CHAIN_COLUMNS``, one quote date).
        previous: earlier chains (the latest gives the previous price and open interest).
        thresholds: the screen, for the count of flagged contracts.
        full: ``options_flow(chain, previous, thresholds, flagged_only=False)`` when the caller has
            it already (computed here otherwise).

    Returns:
        One row per underlying: ``und_price`` (USD), ``und_change`` (decimal vs the previous
        quote day, NaN without one), ``call_volume``/``put_volume`` (contracts),
        ``cp_volume_ratio`` (calls / puts, NaN with no put volume), ``call_premium``/
        ``put_premium`` (USD at the mid), ``call_oi_change``/``put_oi_change`` (contracts, summed
        over the contracts quoted on both days, so an expiry rolling off is not a change; NaN
        when none is), ``flagged`` (contracts passing at least one screen).

    Raises:
        FlowError: as :func:`options_flow`.
    """
    if full is None:
        full = options_flow(chain, previous, thresholds, flagged_only=False)
    prev = max(((_day_of(p), p) for p in previous), key=lambda x: x[0], default=None)
    rows = []
    for und, part in full.groupby("underlying", sort=True):
        calls, puts = part[part["right"] == "C"], part[part["right"] == "P"]
        price = float(chain.loc[chain["underlying"] == und, "und_price"].iloc[0])
        row = {"underlying": und, "und_price": price,
               "call_volume": float(calls["volume"].sum()), "put_volume": float(puts["volume"].sum()),
               "call_premium": float(calls["premium"].sum(min_count=1)),
               "put_premium": float(puts["premium"].sum(min_count=1))}
        row["quote_date"] = _day_of(chain)
        row["cp_volume_ratio"] = row["call_volume"] / row["put_volume"] if row["put_volume"] > 0 else math.nan
        row["call_oi_change"] = float(calls["oi_change"].sum(min_count=1))
        row["put_oi_change"] = float(puts["oi_change"].sum(min_count=1))
        row["und_change"] = math.nan
        if prev is not None:
            pp = prev[1][prev[1]["underlying"] == und]
            if len(pp):
                row["und_change"] = price / float(pp["und_price"].iloc[0]) - 1.0
        row["flagged"] = int((part["reasons"] != "").sum())
        rows.append(row)
    return pd.DataFrame(rows)
