"""The post-check: every number in the model's text must be in the tool results (or the question).

The model only phrases; a figure it writes that no tool returned is removed and replaced by
``[?]``, and the answer says how many were removed. Numbers are compared as people write them
(``numbers.matches``: 0.2372 = 23.7 % = 23.72 %; $1,234.50 = 1234.5).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from magnus_desktop.services.assistant.numbers import find_numbers, matches, numbers_of

REMOVED = "[?]"


@dataclass(frozen=True, slots=True)
class CheckedText:
    """The model's text after the check: ``text`` with unknown figures replaced, and what was removed."""

    text: str
    removed: tuple[str, ...]

    @property
    def note(self) -> str:
        """One line for the answer when figures were removed ("" otherwise)."""
        if not self.removed:
            return ""
        return (f"({len(self.removed)} figure(s) written by the model were removed because no tool returned them: "
                f"{', '.join(self.removed)}.)")


def allowed_numbers(values: Iterable[object], question: str = "") -> list[float]:
    """The numbers a summary may state: those of the tool results' values and of the question."""
    return [*numbers_of(values), *(n.value for n in find_numbers(question))]


def check_numbers(text: str, allowed: Iterable[float]) -> CheckedText:
    """Replace each number of ``text`` that matches none of ``allowed`` by ``[?]``."""
    pool = list(allowed)
    out, removed, last = [], [], 0
    for w in find_numbers(text):
        if any(matches(w, v) for v in pool):
            continue
        out.append(text[last:w.start])
        out.append(REMOVED)
        removed.append(w.text.strip())
        last = w.end
    out.append(text[last:])
    return CheckedText("".join(out), tuple(removed))
