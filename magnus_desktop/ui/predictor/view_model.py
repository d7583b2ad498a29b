"""The Predictor dock's view model: the model card, the stored evaluation, and Retrain / Evaluate run
on the predictor's own executor (progress arrives from that thread as queued Qt signals)."""

from __future__ import annotations

import logging
from datetime import date
from typing import Any

import shiboken6
from PySide6.QtCore import QObject, Signal
from qasync import asyncSlot

from magnus_desktop.services.context import AppContext
from magnus_desktop.services.predictor.dataset import DatasetError
from magnus_desktop.ui.bridge import bridge

log = logging.getLogger(__name__)


class PredictorViewModel(QObject):
    card_changed = Signal(object)  # dict: PredictorService.card()
    evaluation_changed = Signal(object)  # dict | None: the walk-forward evaluation
    progress = Signal(str, float)  # (stage, fraction 0..1), from the worker thread (queued)
    busy_changed = Signal(bool)
    message = Signal(str, bool)  # (text, is_error)

    def __init__(self, ctx: AppContext, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._ctx = ctx
        self.busy = False
        bridge(self, [(ctx.predictor.model_changed, self._on_predictor_model_changed)])

    def card(self) -> dict[str, Any]:
        return self._ctx.predictor.card()

    def _on_predictor_model_changed(self, _scorer: object) -> None:
        self.card_changed.emit(self.card())
        self.load_evaluation()

    def _report(self, stage: str, fraction: float) -> None:  # worker thread
        if shiboken6.isValid(self):
            self.progress.emit(stage, fraction)

    def _set_busy(self, busy: bool) -> None:
        self.busy = busy
        if shiboken6.isValid(self):
            self.busy_changed.emit(busy)

    @asyncSlot()
    async def load_evaluation(self) -> None:
        """The stored evaluation (the trader's, else the one shipped with the bundled model)."""
        evaluation = await self._ctx.predictor.stored_evaluation()
        if shiboken6.isValid(self):
            self.evaluation_changed.emit(evaluation)

    @asyncSlot(object, object)
    async def retrain(self, start: date | None, end: date | None) -> None:
        """Build the training set over [start, end] (None = all the bundled history), train, save the
        trader's model and start scoring with it (the scanner rescans)."""
        if self.busy:
            return
        self._set_busy(True)
        try:
            model = await self._ctx.predictor.train(start=start, end=end, progress=self._report)
        except (DatasetError, ValueError) as exc:
            self.message.emit(f"Retraining failed: {exc}", True)
        except Exception as exc:  # a training failure must not take the app down: the old model stays
            log.exception("retraining failed")
            self.message.emit(f"Retraining failed ({type(exc).__name__}): {exc}; the previous model stays.", True)
        else:
            brier = model.oos_brier
            self.message.emit(f"Trained {model.version}" + (f": out-of-sample Brier {brier:.3f}" if brier else "")
                              + ". The scanner and tickets use it now.", False)
        finally:
            self._set_busy(False)

    @asyncSlot()
    async def evaluate(self) -> None:
        """Walk-forward evaluation by year (every 5th trading day), kept next to the model file."""
        if self.busy:
            return
        self._set_busy(True)
        try:
            result = await self._ctx.predictor.evaluate_and_store(progress=self._report)
        except (DatasetError, ValueError) as exc:
            self.message.emit(f"Evaluation failed: {exc}", True)
        except Exception as exc:
            log.exception("evaluation failed")
            self.message.emit(f"Evaluation failed ({type(exc).__name__}): {exc}", True)
        else:
            if shiboken6.isValid(self):
                self.evaluation_changed.emit(result)
                self.message.emit("Evaluation done.", False)
        finally:
            self._set_busy(False)

    @asyncSlot(object)
    async def import_magic8(self, paths: list[str]) -> None:
        """Import Magic8 signal-history exports and train per strategy; the outcome is a ``message``."""
        from pathlib import Path

        from magnus_desktop.services.predictor.magic8 import Magic8FormatError

        if self.busy:
            return
        self._set_busy(True)
        try:
            out = await self._ctx.predictor.import_magic8([Path(p) for p in paths])
        except Magic8FormatError as exc:
            self.message.emit(f"Import refused, nothing stored: {exc}", True)
        except OSError as exc:
            self.message.emit(f"The signals could not be stored: {exc}", True)
        else:
            files = "; ".join(f"{name}: {layout}, {n} signals"
                              + (f" ({', '.join(f'{c} {why}' for why, c in skipped.items())} skipped)" if skipped else "")
                              for name, layout, n, skipped in out["files"])
            models = "; ".join(f"{name}: AUC {r['auc']:.3f}, Brier {r['brier']:.4f} vs majority {r['brier_majority']:.4f}"
                               if r["trained"] else f"{name}: {r['message']}" for name, r in out["strategies"].items())
            self.message.emit(f"{files}. {out['added']} new signals, {out['total']} stored. {models}", False)
        finally:
            self._set_busy(False)
