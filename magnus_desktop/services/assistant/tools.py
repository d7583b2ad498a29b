"""The assistant's tool registry: services register what the assistant may ask them.

A tool is a name, a description, a *closed* JSON schema of its arguments (``type: object``,
every property typed, ``additionalProperties: false``) and an async function returning a
:class:`ToolResult` (typed data the dock renders as a card or a table). A new service adds tools by
calling :meth:`ToolRegistry.register` from its own ``assistant_tools`` module (listed once in
:data:`magnus_desktop.services.assistant.providers.PROVIDERS`); the assistant's router, grammar and
dock pick them up without changes.

No Qt, no model: the registry is plain data and asyncio.
"""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Literal

import jsonschema

ResultKind = Literal["card", "table", "passages", "action", "message"]


class ToolError(Exception):
    """A tool call that cannot run (unknown tool, arguments not matching its schema)."""


class NoDataError(ToolError):
    """The question is about data the app does not have (a date outside the replay, an unknown
    symbol, a contract never quoted). The message starts with "No data for"."""


@dataclass(frozen=True, slots=True)
class Citation:
    """A knowledge-base passage an answer cites: ``source`` (file or note path) and its text."""

    source: str
    title: str
    text: str


@dataclass(frozen=True, slots=True)
class TicketRequest:
    """An order ticket the user asked to open, prefilled (never submitted by the assistant).

    Attributes:
        underlying: option root (``"SPXW"``); expiry; strike (USD); right ``"C"``/``"P"``;
        action ``"SELL"``/``"BUY"``; qty contracts (> 0); note: how the contract was chosen.
    """

    underlying: str
    expiry: date
    strike: float
    right: Literal["C", "P"]
    action: Literal["SELL", "BUY"]
    qty: int
    note: str


@dataclass(frozen=True, slots=True)
class ToolResult:
    """Typed data a tool returns; the dock renders ``fields`` as a card or ``columns``/``rows`` as a table.

    Attributes:
        title: what the data is ("SPX close on 2018-02-05").
        kind: how to render it.
        facts: the answer as one sentence built by code from the data (every figure in it comes from
            ``fields``/``rows``); the model's summary is written around it, never instead of it.
        fields: card rows ``(label, value, unit)``; value a number (NaN = missing), a string or a date.
        columns, rows: a table (values as in ``fields``).
        citations: knowledge passages (``kind == "passages"``).
        ticket: the order ticket to open (``kind == "action"``).
        source: where the data came from ("recorded EOD quotes, optopsy SPXW 2018").
    """

    title: str
    kind: ResultKind
    facts: str
    fields: tuple[tuple[str, Any, str], ...] = ()
    columns: tuple[str, ...] = ()
    rows: tuple[tuple[Any, ...], ...] = ()
    citations: tuple[Citation, ...] = ()
    ticket: TicketRequest | None = None
    source: str = ""

    def values(self) -> Iterator[Any]:
        """Every value of the result (card values, table cells, ticket fields)."""
        for _label, value, _unit in self.fields:
            yield value
        for row in self.rows:
            yield from row
        if self.ticket is not None:
            yield from (self.ticket.expiry, self.ticket.strike, self.ticket.qty)

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict (dates ISO, NaN → null)."""
        out: dict[str, Any] = {"title": self.title, "kind": self.kind, "facts": self.facts, "source": self.source}
        if self.fields:
            out["fields"] = [{"label": label, "value": _json_value(v), "unit": unit} for label, v, unit in self.fields]
        if self.columns:
            out["columns"] = list(self.columns)
            out["rows"] = [[_json_value(v) for v in row] for row in self.rows]
        if self.citations:
            out["citations"] = [{"source": c.source, "title": c.title, "text": c.text} for c in self.citations]
        if self.ticket is not None:
            t = self.ticket
            out["ticket"] = {"underlying": t.underlying, "expiry": t.expiry.isoformat(), "strike": t.strike,
                             "right": t.right, "action": t.action, "qty": t.qty, "note": t.note, "submitted": False}
        return out


def _json_value(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, date | datetime):
        return value.isoformat()
    return value


ToolFn = Callable[..., Awaitable[ToolResult]]


@dataclass(frozen=True, slots=True)
class Tool:
    """One tool: ``parameters`` is a closed JSON schema of the keyword arguments of ``fn``.

    ``cues`` are lower-case words one of which a question must contain for the model's choice of this
    tool to be accepted (the router's validation of the model's pick); ``intent`` groups tools for
    the evaluation's per-intent score.
    """

    name: str
    description: str
    parameters: Mapping[str, Any]
    fn: ToolFn
    cues: tuple[str, ...] = ()
    intent: str = ""
    provider: str = ""


def closed_schema(properties: Mapping[str, Any] | None = None, required: tuple[str, ...] = ()) -> dict[str, Any]:
    """``{"type": "object", "properties": …, "required": […], "additionalProperties": false}``."""
    return {"type": "object", "properties": dict(properties or {}), "required": list(required),
            "additionalProperties": False}


def _check_closed(name: str, schema: Mapping[str, Any]) -> None:
    if schema.get("type") != "object" or schema.get("additionalProperties") is not False:
        raise ValueError(f"tool {name!r}: its argument schema must be a closed object "
                         "(type object, additionalProperties false)")
    for prop, sub in dict(schema.get("properties", {})).items():
        if "type" not in sub and "enum" not in sub:
            raise ValueError(f"tool {name!r}: argument {prop!r} has no type")
        if sub.get("type") == "object":
            raise ValueError(f"tool {name!r}: argument {prop!r} is a nested object; keep arguments flat")
    jsonschema.Draft202012Validator.check_schema(dict(schema))


@dataclass
class ToolRegistry:
    """Tools by name, in registration order."""

    _tools: dict[str, Tool] = field(default_factory=dict)

    def register(self, tool: Tool) -> None:
        """Add ``tool``.

        Raises:
            ValueError: the name is taken, not ``[a-z_]+``, or the schema is not closed and flat.
        """
        if tool.name in self._tools:
            raise ValueError(f"a tool named {tool.name!r} is registered already")
        if not tool.name.replace("_", "").isalpha() or not tool.name.islower():
            raise ValueError(f"tool names are lower_case words, not {tool.name!r}")
        _check_closed(tool.name, tool.parameters)
        self._tools[tool.name] = tool

    def __contains__(self, name: object) -> bool:
        return name in self._tools

    def __getitem__(self, name: str) -> Tool:
        return self._tools[name]

    def __iter__(self) -> Iterator[Tool]:
        return iter(self._tools.values())

    def __len__(self) -> int:
        return len(self._tools)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(self._tools)

    def validate(self, name: str, arguments: Mapping[str, Any]) -> None:
        """Raise :class:`ToolError` unless ``name`` is a tool and ``arguments`` match its schema."""
        if name not in self._tools:
            raise ToolError(f"there is no tool named {name!r}")
        try:
            jsonschema.validate(dict(arguments), dict(self._tools[name].parameters))
        except jsonschema.ValidationError as exc:
            raise ToolError(f"{name}: {exc.message}") from exc

    async def call(self, name: str, arguments: Mapping[str, Any]) -> ToolResult:
        """Validate and run one tool.

        Raises:
            ToolError: unknown tool or bad arguments; NoDataError: the data is not there.
        """
        self.validate(name, arguments)
        return await self._tools[name].fn(**dict(arguments))

    def choice_schema(self) -> dict[str, Any]:
        """The strict schema the model's tool choice must follow: ``anyOf`` one object per tool,
        ``{"tool": <const name>, "arguments": <its closed schema>}``, nothing else allowed."""
        options = [{"type": "object",
                    "properties": {"tool": {"const": t.name}, "arguments": dict(t.parameters)},
                    "required": ["tool", "arguments"], "additionalProperties": False} for t in self]
        return {"anyOf": options}

    def catalogue(self) -> str:
        """One line per tool, ``name(arg, …): description`` (for the model's prompt)."""
        lines = []
        for t in self:
            args = ", ".join(t.parameters.get("properties", {}))
            lines.append(f"- {t.name}({args}): {t.description}")
        return "\n".join(lines)
