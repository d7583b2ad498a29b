"""``ScannerService``: the wheel scan of the replay day, with its explanation when empty (no Qt).

Scans run on the compute executor. When a scan finds nothing, the service also works out why
(no later expiry in the recorded chain, or which single filter would let rows through: up to six
extra scans), so the UI only shows text.

Events (payloads):
    scan_changed(ScanOutcome)   ranked wheel opportunities at the replay day (every day and rescan)
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field, replace
from datetime import date
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from psygnal import Signal

from magnus_desktop.analytics.scanner import ScanParams, scan
from magnus_desktop.services.events import emit_isolated
from magnus_desktop.services.market.protocols import MarketDataError
from magnus_desktop.services.predictor.dataset import DatasetError
from magnus_desktop.services.predictor.scoring import CandidateScorer
from magnus_desktop.services.scanner.hints import loosen_hints, no_later_expiry
from magnus_desktop.services.settings import Settings

if TYPE_CHECKING:
    from magnus_desktop.services.context import AppContext

log = logging.getLogger(__name__)

#: ``ScanOutcome.quotes`` of a scan of the replay's recorded chain.
RECORDED_QUOTES = "recorded EOD quotes"
#: The option root the scanner reads from a live source (the recorded replay chain is SPXW too).
LIVE_ROOT = "SPXW"


@dataclass(frozen=True, slots=True)
class ScanOutcome:
    """One scan: the day, the parameters, the ranked rows (``analytics.scanner.SCAN_COLUMNS``) and,
    when no row passed, why: ``no_later_expiry`` (no filter can help) or ``hints`` (what to loosen,
    with the count each would let through). ``records``: the rows as table records (one dict per
    row, ``expiry`` a ``date``), converted on the compute executor so the GUI thread does not."""

    day: date
    params: ScanParams
    rows: pd.DataFrame
    hints: tuple[str, ...] = ()
    no_later_expiry: str | None = None
    last_day: date | None = None
    records: tuple[dict[str, Any], ...] = field(default=(), compare=False)
    #: where the chain's quotes came from: "recorded EOD quotes" (the replay) or the live source,
    #: e.g. "ib · as of 2026-12-02 10:31 ET"
    quotes: str = RECORDED_QUOTES
    #: the rows have a ``p_win`` column (the predictor's calibrated win probability, decimal)
    has_p_win: bool = False
    #: which model scored ``p_win`` and its out-of-sample Brier, or why there is no ``p_win``
    p_win_note: str = ""


def scan_records(rows: pd.DataFrame) -> tuple[dict[str, Any], ...]:
    """Scanner rows as table records; ``expiry`` becomes a ``date`` (it sorts and formats as ISO)."""
    records: list[dict[str, Any]] = rows.to_dict("records")
    for r in records:
        r["expiry"] = pd.Timestamp(r["expiry"]).date()
    return tuple(records)


def scan_params_from_settings(settings: Settings) -> ScanParams:
    s = settings.scanner
    return ScanParams(
        right=s.right,
        dte_min=s.dte_min,
        dte_max=s.dte_max,
        delta_min=s.delta_min,
        delta_max=s.delta_max,
        min_open_interest=s.min_open_interest,
        max_spread_pct=s.max_spread_pct,
        min_annualized_return=s.min_annualized_return,
        premium_source=s.premium_source,
        rate=settings.risk_free_rate,
        div_yield=settings.dividend_yield,
        top=None,
    )


class ScannerService:
    """Scans the replay day's recorded chain with the current parameters."""

    scan_changed = Signal(object)

    def __init__(self, ctx: AppContext) -> None:
        self._ctx = ctx
        self.scan_params = scan_params_from_settings(ctx.settings)
        self.last_scan: ScanOutcome | None = None
        self._live_task: asyncio.Task[None] | None = None
        self._rescan_task: asyncio.Task[ScanOutcome] | None = None

    async def start(self) -> None:
        """The first scan comes with the first refresh pass; a new predictor model rescans."""
        self._ctx.predictor.model_changed.connect(self._on_predictor_model_changed)

    def _on_predictor_model_changed(self, _scorer: object) -> None:
        if self._ctx.clock is None or self._ctx.closed or self.last_scan is None:
            return  # the first refresh pass scans with it
        self._rescan_task = asyncio.get_running_loop().create_task(self._publish(self._ctx.day, self.scan_params))

    async def idle(self) -> None:
        """Wait for a rescan a new predictor model started (the window's ``--screenshot``)."""
        if self._rescan_task is not None:
            await asyncio.gather(asyncio.shield(self._rescan_task), return_exceptions=True)

    async def aclose(self) -> None:
        """Stop a live chain scan that is under way."""
        self._ctx.predictor.model_changed.disconnect(self._on_predictor_model_changed, missing_ok=True)
        if self._rescan_task is not None and not self._rescan_task.done():
            self._rescan_task.cancel()
            await asyncio.gather(self._rescan_task, return_exceptions=True)
        task, self._live_task = self._live_task, None
        if task is not None and not task.done():
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)

    def apply_settings(self, settings: Settings) -> None:
        """New rate and dividend yield from Settings (the filters stay as the trader set them)."""
        self.scan_params = replace(self.scan_params, rate=settings.risk_free_rate, div_yield=settings.dividend_yield)

    async def refresh(self, day: date) -> None:
        """Scan the replay day; with a live source, fetch and scan its chain in the background
        (an IB chain takes seconds under pacing: the other panels' refresh does not wait for it).
        Until the first live scan arrives the replay scan is shown, labelled as recorded."""
        if self._ctx.quotes.live_sources():
            if self._live_task is None or self._live_task.done():
                self._live_task = asyncio.get_running_loop().create_task(self._refresh_live(self.scan_params))
            if self.last_scan is not None and self.last_scan.quotes != RECORDED_QUOTES:
                return  # the live scan stays until the next one replaces it
        await self._publish_replay(day, self.scan_params)

    async def _refresh_live(self, params: ScanParams) -> None:
        try:
            outcome = await self._live_scan(params)
        except Exception:  # a failed live scan leaves the shown one; the next pass tries again
            log.exception("the live scan failed")
            return
        if outcome is not None and not self._ctx.closed:
            self.last_scan = outcome
            emit_isolated(self.scan_changed, outcome)

    async def rescan(self, params: ScanParams) -> ScanOutcome:
        """Scan the replay day with ``params`` (they become the current parameters)."""
        self.scan_params = params
        return await self._publish(self._ctx.day, params)

    async def _publish(self, day: date, params: ScanParams) -> ScanOutcome:
        """Scan with ``params`` now: the live chain when a live source has one, else the replay day."""
        outcome = await self._live_scan(params) if self._ctx.quotes.live_sources() else None
        if outcome is None:
            return await self._publish_replay(day, params)
        self.last_scan = outcome
        emit_isolated(self.scan_changed, outcome)
        return outcome

    async def _publish_replay(self, day: date, params: ScanParams) -> ScanOutcome:
        days = self._ctx.days
        outcome = await self._ctx.run_compute(self.scan_day, day, params, days[-1] if days else None)
        self.last_scan = outcome
        emit_isolated(self.scan_changed, outcome)
        return outcome

    async def _live_scan(self, params: ScanParams) -> ScanOutcome | None:
        """Scan the live chain of :data:`LIVE_ROOT` as of today (the broker's snapshot quotes, via
        ``AppContext.quotes``, cached 120 s); None when no live source has the chain (then the
        replay day is scanned, labelled as recorded)."""
        chain_source = self._ctx.quotes.chain()
        try:
            chain = await chain_source.chain(LIVE_ROOT, None)
        except MarketDataError as exc:
            log.info("no live %s chain (%s): scanning the replay day", LIVE_ROOT, exc)
            return None
        source = chain.attrs.get("source", "replay")
        if source == "replay" or "quote_date" not in chain or not len(chain):
            return None  # no live source had the chain: the replay day is scanned instead
        as_of = pd.Timestamp(chain["quote_date"].iloc[0]).date()
        outcome = await self._ctx.run_compute(self._scan_chain, chain, as_of, params)
        return replace(outcome, quotes=f"{source} snapshot quotes")

    def _scan_chain(self, chain: pd.DataFrame, as_of: date, params: ScanParams) -> ScanOutcome:
        rows = scan(chain, params, as_of=as_of)
        hints = () if len(rows) else tuple(loosen_hints(params, chain, as_of))
        rows, has_p_win, note = self._with_p_win(rows, chain, as_of)
        return ScanOutcome(as_of, params, rows, hints, records=scan_records(rows) if len(rows) else (),
                           has_p_win=has_p_win, p_win_note=note)

    def scan_day(self, day: date, params: ScanParams, last_day: date | None = None) -> ScanOutcome:
        """Scan ``day`` (blocking: the compute executor runs it); explain an empty result."""
        chain = self._ctx.market.chain(day)
        rows = scan(chain, params, as_of=day)
        rows, has_p_win, note = self._with_p_win(rows, chain, day)
        if len(rows):
            return ScanOutcome(day, params, rows, last_day=last_day, records=scan_records(rows),
                               has_p_win=has_p_win, p_win_note=note)
        nothing_later = no_later_expiry(chain, day, last_day)
        hints = () if nothing_later is not None else tuple(loosen_hints(params, chain, day))
        return ScanOutcome(day, params, rows, hints, nothing_later, last_day, has_p_win=has_p_win, p_win_note=note)

    def _with_p_win(self, rows: pd.DataFrame, chain: pd.DataFrame, day: date) -> tuple[pd.DataFrame, bool, str]:
        """``rows`` with the predictor's ``p_win`` (see :func:`with_p_win`; blocking: a worker thread)."""
        predictor = self._ctx.predictor
        return with_p_win(predictor.scorer, predictor.bundled, rows, chain, day)


def with_p_win(scorer: CandidateScorer, bundled: bool, rows: pd.DataFrame, chain: pd.DataFrame,
               day: date) -> tuple[pd.DataFrame, bool, str]:
    """Scanner ``rows`` (``SCAN_COLUMNS``) of ``chain`` with a ``p_win`` column scored by ``scorer`` (one
    vectorised booster call per chain root), and the note naming the model and its out-of-sample Brier;
    without a usable model or market features for ``day`` the rows come back unchanged and the note
    says why. Returns ``(rows, has_p_win, note)``."""
    if scorer.model is None:
        return rows, False, f"p_win unavailable: {scorer.fallback}"
    brier = scorer.model.oos_brier
    note = (f"model {scorer.model.version}{' (bundled)' if bundled else ''}"
            + (f" · out-of-sample Brier {brier:.3f}" if brier is not None else ""))
    if not len(rows):
        return rows, True, note
    keys = ["underlying", "expiry", "strike", "right"]
    und = rows[keys].merge(chain[[*keys, "und_price"]].drop_duplicates(keys), on=keys, how="left")["und_price"]
    p_win = np.full(len(rows), np.nan)
    try:
        for root, idx in rows.groupby("underlying").indices.items():
            part = rows.iloc[idx]
            p_win[idx] = scorer.p_win_many(str(root), day, part["right"].to_numpy(), part["strike"].to_numpy(float),
                                           und.to_numpy(float)[idx], part["iv"].to_numpy(float),
                                           np.abs(part["delta"].to_numpy(float)), part["dte"].to_numpy(float))
    except DatasetError as exc:
        return rows, False, f"p_win unavailable on {day}: {exc}"
    return rows.assign(p_win=p_win), True, note
