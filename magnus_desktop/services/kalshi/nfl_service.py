"""``NflModelService``: the NFL Elo model of a results file the user picked, and its evaluation.

Nothing is bundled: the model exists only after :meth:`NflModelService.load` read a file (spreadspoke,
nflverse ``games.csv`` or plain layout). Reading, the Elo walk and the scores run on the service's own
executor (``"nfl"``), never on the loop. :meth:`probability_for` is the provider other docks (Kalshi)
ask for a game's model probability.

Events (payloads):
    evaluated(Evaluation)   a file was loaded and scored
    failed(str)             the file could not be used (why, one sentence)
"""

from __future__ import annotations

import logging
from datetime import date
from pathlib import Path

from psygnal import Signal

from magnus_desktop.services.events import emit_isolated
from magnus_desktop.services.executors import Executors
from magnus_desktop.services.kalshi.nfl import (
    Evaluation,
    GameIndex,
    Layout,
    ResultsFile,
    ResultsFileError,
    evaluate,
    game_index,
    probability_for,
    read_results,
)

log = logging.getLogger(__name__)

#: the executor files are read and scored on (one thread of its own)
EXECUTOR = "nfl"


def load_and_evaluate(path: str | Path, layout: Layout | None,
                      from_season: int) -> tuple[ResultsFile, Evaluation, GameIndex]:
    """Read and score a file, and index its games for :meth:`NflModelService.probability_for` (blocking;
    runs on the executor).

    Raises:
        ResultsFileError: the file cannot be used (the message says why).
    """
    results = read_results(path, layout)
    evaluation = evaluate(results, from_season=from_season)
    return results, evaluation, game_index(evaluation.predictions)


class NflModelService:
    """The Elo model of the last results file loaded. ``await load(path)``; ``probability_for(...)``."""

    evaluated = Signal(object)
    failed = Signal(str)

    def __init__(self, executors: Executors) -> None:
        self._executors = executors
        if EXECUTOR not in executors:
            executors.add(EXECUTOR)
        self.evaluation: Evaluation | None = None
        self.results: ResultsFile | None = None
        self._index: GameIndex = {}

    async def start(self) -> None:
        """Nothing to start: the model waits for a file."""

    async def aclose(self) -> None:
        """Drop the model (the executor is shut down with the others)."""
        self.evaluation = None
        self.results = None
        self._index = {}

    async def load(self, path: str | Path, layout: Layout | None = None, from_season: int = 2000) -> Evaluation | None:
        """Read, model and score ``path`` off the loop; emits ``evaluated`` or ``failed``.

        The previous model stays in use when the new file cannot be used.
        """
        try:
            results, evaluation, index = await self._executors.run(EXECUTOR, load_and_evaluate, path, layout,
                                                                   from_season)
        except ResultsFileError as exc:
            emit_isolated(self.failed, str(exc))
            return None
        except Exception as exc:  # noqa: BLE001 - a bug reading one file must not take the app down
            log.exception("NFL results file %s could not be evaluated", path)
            emit_isolated(self.failed, f"{path}: could not be evaluated ({type(exc).__name__}: {exc})")
            return None
        self.results, self.evaluation, self._index = results, evaluation, index
        emit_isolated(self.evaluated, evaluation)
        return evaluation

    def probability_for(self, home: str, away: str, day: date) -> float | None:
        """Model probability that ``home`` beats ``away`` on ``day`` (``home`` at home), or None.

        None when no file is loaded, a team is unknown, or the date falls inside the file with no
        such game; see :func:`magnus_desktop.services.kalshi.nfl.probability_for`.
        """
        if self.evaluation is None:
            return None
        return probability_for(self.evaluation.predictions, home, away, day, index=self._index)
