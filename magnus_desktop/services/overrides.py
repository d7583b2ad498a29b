"""Command-line overrides of settings that are used for one session and never persisted.

``magnus-desktop --theme light --replay-date 2018-02-06`` changes what this session shows, but the
settings file keeps the user's own values: when the session saves, every field still holding its
override value is written back with the value it had before. A field the user changed during the
session (e.g. toggled the theme again) is the user's choice and is saved.

``--db-url`` is not a settings field at all: it is handed to the database directly (it may carry a
password), and ``--screenshot`` never saves.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from magnus_desktop.services.settings import Settings


@dataclass
class SessionOverrides:
    """Which fields were overridden, with the override and the persisted value before it."""

    applied: dict[str, Any] = field(default_factory=dict)
    persisted: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def apply(cls, settings: Settings, **overrides: Any) -> SessionOverrides:
        """Set each non-None override on ``settings`` (in place) and remember the value it replaced.

        Raises:
            pydantic.ValidationError: an override outside the field's bounds (settings unchanged).
        """
        result = cls()
        for name, value in overrides.items():
            if value is None:
                continue
            before = getattr(settings, name)
            setattr(settings, name, value)  # validated (validate_assignment)
            result.applied[name] = getattr(settings, name)
            result.persisted[name] = before
        return result

    def for_saving(self, settings: Settings) -> Settings:
        """A copy of ``settings`` to write: fields still at their override value get their
        persisted value back."""
        out = settings.model_copy(deep=True)
        for name, value in self.applied.items():
            if getattr(out, name) == value:
                setattr(out, name, self.persisted[name])
        return out
