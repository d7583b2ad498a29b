"""PredictorService: train, evaluate and load the model on its own executor (asyncio, no Qt).

Training and evaluation are CPU-bound and run on the ``"predictor"`` executor (one worker, added to
the app's :class:`~magnus_desktop.services.executors.Executors` when missing), so the event loop and
the GUI never wait; ``progress(stage, fraction)`` is called from that worker thread.

The model is the trader's own file (``<data dir>/predictor/model.json``, written by Retrain or
``magnus-desktop predictor train``); until there is one, the model trained by that same command on
the bundled data (``resources/models/predictor.json``, see ``resources/models/README.md``) is used and
labelled "bundled". A missing, unreadable or other-feature-set file leaves ``p_win`` out and the
scanner shows the Black-Scholes ``prob_otm`` only; ``scorer.fallback`` says why.

Events (payloads):
    model_changed(CandidateScorer)   a model was loaded or trained (or failed to load: ``fallback``)
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from psygnal import Signal

from magnus_desktop.services.events import emit_isolated
from magnus_desktop.services.executors import Executors
from magnus_desktop.services.market.recorded import ReplayMarketData
from magnus_desktop.services.paths import DATA_RESOURCES_DIR, app_paths, resource_path
from magnus_desktop.services.predictor.dataset import (
    DEFAULT_SYMBOLS,
    DatasetError,
    LabelRule,
    build_training_set,
)
from magnus_desktop.services.predictor.scoring import CandidateScorer

if TYPE_CHECKING:  # xgboost and scikit-learn load on the predictor's executor when first needed
    from magnus_desktop.services.predictor.model import PredictorModel

__all__ = ["BUNDLED_MODEL", "EXECUTOR", "PredictorService", "default_model_path", "load_model_or_fallback"]

#: The model ``magnus-desktop predictor train`` builds from the bundled data, shipped for a first run.
BUNDLED_MODEL = resource_path("models", "predictor.json")
#: ``magnus-desktop predictor evaluate --day-step 5 --format json`` of the same recipe and data.
BUNDLED_EVALUATION = resource_path("models", "predictor-evaluation.json")

EXECUTOR = "predictor"
log = logging.getLogger(__name__)
Progress = Callable[[str, float], None]


def default_model_path() -> Path:
    """``<user data dir>/predictor/model.json``."""
    return app_paths().data_dir / "predictor" / "model.json"


def load_model_or_fallback(path: Path) -> tuple[PredictorModel | None, str]:
    """The model at ``path``, or None and the reason (callers then show Black-Scholes ``prob_otm``)."""
    from magnus_desktop.services.predictor.model import ModelFileError, PredictorModel

    try:
        return PredictorModel.load(path), ""
    except ModelFileError as exc:
        return None, f"{exc} (falling back to prob_otm)" if "prob_otm" not in str(exc) else str(exc)


class PredictorService:
    """Owns the model file and the scorer; every heavy call runs on the ``"predictor"`` executor.

    Args:
        executors: the app's executors (``"predictor"`` is added when missing).
        model_path: the trader's model file (default :func:`default_model_path`).
        data_dir: recorded-data folder laid out like ``resources/data`` (default: the bundled data).
        market: the recorded data already open (default: read ``data_dir``).
        bundled_model: the model used while ``model_path`` does not exist (None: none).
    """

    model_changed = Signal(object)

    def __init__(self, executors: Executors, model_path: Path | None = None, data_dir: Path | None = None,
                 market: ReplayMarketData | None = None, bundled_model: Path | None = None) -> None:
        if EXECUTOR not in executors:
            executors.add(EXECUTOR)
        self._executors = executors
        self.model_path = model_path or default_model_path()
        self.bundled_model = bundled_model
        self.data_dir = data_dir or DATA_RESOURCES_DIR
        self._market = market if market is not None else ReplayMarketData.from_resources(self.data_dir)
        self.scorer = CandidateScorer(self._market, None, "no model loaded yet")
        #: the file the current model came from (None: no model)
        self.source: Path | None = None
        self._load_task: asyncio.Task[str] | None = None

    async def start(self) -> None:
        """Load the model in the background (the window does not wait for it)."""
        self._load_task = asyncio.get_running_loop().create_task(self.load())

    async def aclose(self) -> None:
        """Stop a load under way (a training run on the executor finishes with the executor)."""
        task, self._load_task = self._load_task, None
        if task is not None and not task.done():
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)

    async def loaded(self) -> None:
        """Wait until the first model load has finished (succeeded or fallen back)."""
        if self._load_task is not None:
            await asyncio.gather(asyncio.shield(self._load_task), return_exceptions=True)

    def card(self) -> dict[str, Any]:
        """The model card of the model in use: ``{"source": "bundled"|"yours"|"none", "path", "version",
        "trained_at", "window", "rows", "label", "symbols", "metrics", "fallback"}`` (what the file
        holds; ``fallback``: why there is no model)."""
        model = self.scorer.model
        if model is None:
            return {"source": "none", "fallback": self.scorer.fallback}
        meta = model.meta
        return {"source": "bundled" if self.bundled else "yours", "path": str(self.source), "version": model.version,
                "trained_at": meta.get("trained_at"), "window": meta.get("window", {}), "rows": meta.get("rows", {}),
                "label": meta.get("label", ""), "symbols": meta.get("symbols", []),
                "metrics": meta.get("metrics", {}).get("calibration_fold", {}), "fallback": ""}

    @property
    def evaluation_path(self) -> Path:
        """Where the trader's last walk-forward evaluation is kept (next to their model file)."""
        return self.model_path.with_name("evaluation.json")

    async def stored_evaluation(self) -> dict[str, Any] | None:
        """The last walk-forward evaluation: the trader's own run, else (with the bundled model) the
        one shipped with it; None when there is none or it cannot be read (read off the loop)."""
        paths = [self.evaluation_path]
        if self.bundled and BUNDLED_EVALUATION.exists():
            paths.append(BUNDLED_EVALUATION)

        def read() -> dict[str, Any] | None:
            import json

            for path in paths:
                try:
                    doc = json.loads(path.read_text(encoding="utf-8"))
                except (OSError, ValueError) as exc:
                    if not isinstance(exc, FileNotFoundError):
                        log.warning("predictor evaluation %s not read: %s", path, exc)
                    continue
                if isinstance(doc, dict) and "overall" in doc:
                    return {**doc, "file": str(path), "shipped": path == BUNDLED_EVALUATION}
            return None

        return await self._executors.run(EXECUTOR, read)

    async def evaluate_and_store(self, *, day_step: int = 5, progress: Progress | None = None) -> dict[str, Any]:
        """Run the walk-forward evaluation (every ``day_step``-th trading day) and keep it next to the
        model file (written atomically). Raises NotEnoughDataError / DatasetError like ``evaluate``."""
        result = await self.evaluate(day_step=day_step, progress=progress)

        def write() -> None:
            import json

            path = self.evaluation_path
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(".json.tmp")
            tmp.write_text(json.dumps({**result, "day_step": day_step}, default=str), encoding="utf-8")
            tmp.replace(path)

        await self._executors.run(EXECUTOR, write)
        return {**result, "day_step": day_step, "file": str(self.evaluation_path), "shipped": False}

    async def import_magic8(self, paths: list[Path]) -> dict[str, Any]:
        """Import Magic8 exports (``services.predictor.magic8``) into ``magic8_signals.jsonl`` beside the
        model file and train per strategy on everything stored (predictor executor).

        Returns:
            ``{"files": [(name, layout, signals, {reason: count})], "added", "total", "strategies"}``.

        Raises:
            Magic8FormatError: a file is unreadable or not a Magic8 export (nothing is stored).
        """
        def run() -> dict[str, Any]:
            from magnus_desktop.services.predictor.magic8 import (
                load_signals,
                read_export,
                store_signals,
                train_by_strategy,
            )

            results = [read_export(p) for p in paths]
            store = self.model_path.with_name("magic8_signals.jsonl")
            added, _known = store_signals(store, [s for r in results for s in r.signals])
            stored = load_signals(store)
            return {"files": [(r.path.name, r.layout, len(r.signals), r.skipped_by_reason()) for r in results],
                    "added": added, "total": len(stored),
                    "strategies": train_by_strategy(stored, self._market, store.parent)}

        return await self._executors.run(EXECUTOR, run)

    async def p_win_of(self, underlying: str, day: date, right: str, strike: float, und_price: float,
                       bid: float, ask: float, dte: int) -> tuple[float | None, str]:
        """``p_win`` of selling one contract on ``day`` at its quote (the ticket): IV solved from the mid
        (Black-Scholes, rate 0 as in training), |delta| at that IV, then the model (predictor executor).

        Returns:
            (calibrated win probability, decimal — None when there is none; the model's name and its
            out-of-sample Brier, or why there is no p_win).
        """
        scorer = self.scorer
        if scorer.model is None:
            return None, f"no p_win: {scorer.fallback}"

        def run() -> float:
            from magnus_desktop.analytics.pricing import iv_and_delta

            iv, delta = iv_and_delta(0.5 * (bid + ask), right, und_price, strike, dte, 0.0)
            if not (iv > 0):
                raise DatasetError(f"no implied volatility from the quote {bid:.2f}/{ask:.2f}")
            delta = abs(delta)
            return float(scorer.p_win_many(underlying, day, [right], [strike], [und_price], [iv], [delta], [dte])[0])

        try:
            p = await self._executors.run(EXECUTOR, run)
        except DatasetError as exc:
            return None, f"no p_win: {exc}"
        brier = scorer.model.oos_brier
        return p, (f"{'bundled model' if self.bundled else 'your model'} {scorer.model.version}"
                   + (f", out-of-sample Brier {brier:.3f}" if brier is not None else ""))

    @property
    def bundled(self) -> bool:
        """The model in use is the shipped one (the trader has not trained their own)."""
        return self.source is not None and self.source == self.bundled_model

    async def load(self) -> str:
        """Load the model file off the loop (the bundled model while the trader has none); returns ""
        or the reason the scorer falls back to prob_otm. Emits ``model_changed``."""
        path = self.model_path
        if not path.exists() and self.bundled_model is not None and self.bundled_model.exists():
            path = self.bundled_model
        model, reason = await self._executors.run(EXECUTOR, load_model_or_fallback, path)
        if reason:
            log.warning("predictor: %s", reason)
        self.source = path if model is not None else None
        self.scorer = CandidateScorer(self._market, model, reason)
        emit_isolated(self.model_changed, self.scorer)
        return reason

    def _train(self, symbols: tuple[str, ...], label: LabelRule, start: date | None, end: date | None,
               day_step: int, progress: Progress | None) -> PredictorModel:
        if progress is not None:
            progress("building the training set", 0.0)
        ts = build_training_set(symbols=symbols, label=label, start=start, end=end, day_step=day_step,
                                market=self._market)
        from magnus_desktop.services.predictor.model import train_model

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
        self.source = self.model_path
        self.scorer = CandidateScorer(self._market, model)
        emit_isolated(self.model_changed, self.scorer)
        return model

    async def evaluate(self, *, symbols: tuple[str, ...] = DEFAULT_SYMBOLS, label: LabelRule | None = None,
                       day_step: int = 5, threshold: float = 0.8,
                       progress: Progress | None = None) -> dict[str, Any]:
        """Walk-forward evaluation (see ``evaluate``; ``threshold``: the p_win filter, as its
        ``DEFAULT_THRESHOLD``), off the loop."""
        def run() -> dict[str, Any]:
            ts = build_training_set(symbols=symbols, label=label, day_step=day_step, market=self._market)
            from magnus_desktop.services.predictor.evaluate import evaluate

            return evaluate(ts, threshold=threshold, progress=progress)

        return await self._executors.run(EXECUTOR, run)
