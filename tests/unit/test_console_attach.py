"""The Windows GUI exe's commands print in the console they were typed in (services.desktop.console)."""

from __future__ import annotations

import io
import sys

import pytest

from magnus_desktop.services.desktop.console import ATTACH_PARENT_PROCESS, attach_parent_console


class _Kernel32:
    def __init__(self, attached: bool) -> None:
        self.attached = attached
        self.calls: list[int] = []

    def AttachConsole(self, pid: int) -> int:  # noqa: N802 (the Win32 name)
        self.calls.append(pid)
        return int(self.attached)


def _opener(opened: list[str]):  # type: ignore[no-untyped-def]
    def opener(name: str, mode: str) -> io.StringIO:
        opened.append(f"{name}:{mode}")
        return io.StringIO()
    return opener


def test_handle_less_command_run_writes_to_the_parent_console(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "stdout", None)
    monkeypatch.setattr(sys, "stderr", None)
    kernel32, opened = _Kernel32(attached=True), []
    assert attach_parent_console(["MagnusDesktop.exe", "scan", "--format", "json"], kernel32, _opener(opened))
    assert kernel32.calls == [ATTACH_PARENT_PROCESS] and opened == ["CONOUT$:w"]
    assert sys.stdout is sys.stderr and isinstance(sys.stdout, io.StringIO)
    print("rows")
    assert sys.stdout.getvalue() == "rows\n"


def test_existing_streams_and_gui_starts_are_left_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    kernel32, opened = _Kernel32(attached=True), []
    piped = io.StringIO()
    monkeypatch.setattr(sys, "stdout", piped)
    assert not attach_parent_console(["MagnusDesktop.exe", "scan"], kernel32, _opener(opened))
    monkeypatch.setattr(sys, "stdout", None)
    monkeypatch.setattr(sys, "stderr", None)
    assert not attach_parent_console(["MagnusDesktop.exe"], kernel32, _opener(opened))  # a double-click
    assert kernel32.calls == [] and opened == []


def test_no_parent_console_or_no_conout_keeps_silent(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "stdout", None)
    monkeypatch.setattr(sys, "stderr", None)
    assert not attach_parent_console(["x.exe", "ask", "hi"], _Kernel32(attached=False), _opener([]))

    def refuse(name: str, mode: str) -> io.StringIO:
        raise OSError("no console device")

    assert not attach_parent_console(["x.exe", "ask", "hi"], _Kernel32(attached=True), refuse)
    assert sys.stdout is None and sys.stderr is None
