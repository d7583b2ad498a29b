"""PredictorService: train, evaluate and load the model on its own executor (asyncio, no Qt).

Training and evaluation are CPU-bound and run on the ``"predictor"`` executor (one worker, added to
the app's :class:`~magnus_desktop.services.executors.Executors` when missing), so the event loop and
the GUI never wait; ``progress(stage, fraction)`` is called from that worker thread.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

from magnus_desktop.services.executors import Executors
from magnus_desktop.services.market.recorded import ReplayMarketData
from magnus_desktop.services.paths import DATA_RESOURCES_DIR, app_paths
from magnus_desktop.services.predictor.dataset import DEFAULT_SYMBOLS, LabelRule, build_training_set
from magnus_desktop.services.predictor.evaluate import DEFAULT_THRESHOLD, evaluate
from magnus_desktop.services.predictor.model import ModelFileError, PredictorModel, train_model
from magnus_desktop.services.predictor.scoring import CandidateScorer

__all__ = ["EXECUTOR", "PredictorService", "default_model_path", "load_model_or_fallback"]

EXECUTOR = "predictor"
log = logging.getLogger(__name__)
Progress = Callable[[str, float], None]


def default_model_path() -> Path:
    """``<user data dir>/predictor/model.json``."""
    return app_paths().data_dir / "predictor" / "model.json"


def load_model_or_fallback(path: Path) -> tuple[PredictorModel | None, str]:
    """The model at ``path``, or None and the reason (callers then show Black-Scholes ``prob_otm``)."""
    try:
        return PredictorModel.load(path), ""
    except ModelFileError as exc:
        return None, f"{exc} (falling back to prob_otm)" if "prob_otm" not in str(exc) else str(exc)


class PredictorService:
    """Owns the model file and the scorer; every heavy call runs on the ``"predictor"`` executor.

    Args:
        executors: the app's executors (``"predictor"`` is added when missing).
        model_path: the model file (default :func:`default_model_path`).
        data_dir: recorded-data folder laid out like ``resources/data`` (default: the bundled data).
    """

    def __init__(self, executors: Executors, model_path: Path | None = None, data_dir: Path | None = None) -> None:
        if EXECUTOR not in executors:
            executors.add(EXECUTOR)
        self._executors = executors
        self.model_path = model_path or default_model_path()
        self.data_dir = data_dir or DATA_RESOURCES_DIR
        self._market = ReplayMarketData.from_resources(self.data_dir)
        self.scorer = CandidateScorer(self._market, None, "no model loaded yet")

    async def load(self) -> str:
        """Load the model file off the loop; returns "" or the reason the scorer falls back to prob_otm."""
        model, reason = await self._executors.run(EXECUTOR, load_model_or_fallback, self.model_path)
        if reason:
            log.warning("predictor: %s", reason)
        self.scorer = CandidateScorer(self._market, model, reason)
        return reason

    def _train(self, symbols: tuple[str, ...], label: LabelRule, start: date | None, end: date | None,
               day_step: int, progress: Progress | None) -> PredictorModel:
        if progress is not None:
            progress("building the training set", 0.0)
        ts = build_training_set(symbols=symbols, label=label, start=start, end=end, day_step=day_step,
                                market=self._market)
        model = train_model(ts, progress=progress)
        model.save(self.model_path)
        return model

    async def train(self, *, symbols: tuple[str, ...] = DEFAULT_SYMBOLS, label: LabelRule | None = None,
                    start: date | None = None, end: date | None = None, day_step: int = 1,
                    progress: Progress | None = None) -> PredictorModel:
        """Build the training set, train, save the model file and start scoring with it.

        Raises:
            DatasetError, NotEnoughDataError: bad window/options or too little data (nothing saved).
        """
        model = await self._executors.run(EXECUTOR, self._train, symbols, label or LabelRule(), start, end,
                                          day_step, progress)
        self.scorer = CandidateScorer(self._market, model)
        return model

    async def evaluate(self, *, symbols: tuple[str, ...] = DEFAULT_SYMBOLS, label: LabelRule | None = None,
                       day_step: int = 5, threshold: float = DEFAULT_THRESHOLD,
                       progress: Progress | None = None) -> dict[str, Any]:
        """Walk-forward evaluation (see ``evaluate``), off the loop."""
        def run() -> dict[str, Any]:
            ts = build_training_set(symbols=symbols, label=label, day_step=day_step, market=self._market)
            return evaluate(ts, threshold=threshold, progress=progress)

        return await self._executors.run(EXECUTOR, run)
