"""The tool registry: closed schemas only, arguments validated, the model's strict choice schema."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import jsonschema
import pytest

from magnus_desktop.services.assistant.tools import (
    Tool,
    ToolError,
    ToolRegistry,
    ToolResult,
    closed_schema,
)


async def _echo(**kwargs: Any) -> ToolResult:
    return ToolResult("echo", "card", json.dumps(kwargs), fields=tuple((k, v, "") for k, v in kwargs.items()))


def _registry() -> ToolRegistry:
    reg = ToolRegistry()
    reg.register(Tool("get_price", "price", closed_schema({"symbol": {"type": "string"}}, ("symbol",)), _echo))
    reg.register(Tool("get_positions", "positions", closed_schema(), _echo))
    return reg


def test_open_or_nested_schemas_are_refused() -> None:
    reg = ToolRegistry()
    with pytest.raises(ValueError, match="closed"):
        reg.register(Tool("loose", "d", {"type": "object", "properties": {}}, _echo))
    with pytest.raises(ValueError, match="nested"):
        reg.register(Tool("nested", "d", closed_schema({"args": {"type": "object"}}), _echo))
    with pytest.raises(ValueError, match="no type"):
        reg.register(Tool("untyped", "d", closed_schema({"x": {}}), _echo))
    with pytest.raises(ValueError, match="lower_case"):
        reg.register(Tool("Bad-Name", "d", closed_schema(), _echo))


def test_a_second_tool_of_the_same_name_is_refused() -> None:
    reg = _registry()
    with pytest.raises(ValueError, match="registered already"):
        reg.register(Tool("get_price", "again", closed_schema(), _echo))


def test_calls_are_validated_against_the_schema() -> None:
    reg = _registry()
    assert asyncio.run(reg.call("get_price", {"symbol": "SPX"})).fields == (("symbol", "SPX", ""),)
    for name, args in (("get_price", {}), ("get_price", {"symbol": "SPX", "qty": 100}), ("get_price", {"symbol": 5}),
                       ("place_order", {})):
        with pytest.raises(ToolError):
            asyncio.run(reg.call(name, args))


def test_the_choice_schema_accepts_only_a_registered_tool_with_its_own_arguments() -> None:
    schema = _registry().choice_schema()
    jsonschema.validate({"tool": "get_price", "arguments": {"symbol": "SPY"}}, schema)
    jsonschema.validate({"tool": "get_positions", "arguments": {}}, schema)
    for bad in ({"tool": "get_positions", "arguments": {"symbol": "SPY"}}, {"tool": "buy", "arguments": {}},
                {"tool": "get_price", "arguments": {"symbol": "SPY"}, "note": "x"}, {"tool": "get_price"}):
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate(bad, schema)
    assert all(o["additionalProperties"] is False for o in schema["anyOf"])
