"""Uncaught errors on any thread: logged, then shown to the trader in a dialog (never a silent exit)."""

from __future__ import annotations

import logging
import sys
import threading
import traceback
from types import TracebackType

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QApplication, QMessageBox

from magnus_desktop.services.redact import mask_secrets

log = logging.getLogger("magnus_desktop.errors")


class _ErrorRelay(QObject):
    """Carries a message from any thread to the GUI thread (queued signal)."""

    raised = Signal(str, str)


_relay: _ErrorRelay | None = None
_open_boxes: list[QMessageBox] = []


def _show(summary: str, details: str) -> None:
    if QApplication.instance() is None:
        return
    box = QMessageBox(QMessageBox.Icon.Critical, "Magnus Desktop — unexpected error",
                      f"{summary}\n\nThe app keeps running; details are in the log file.")
    box.setDetailedText(details)
    box.setModal(False)
    box.finished.connect(lambda _r, b=box: _open_boxes.remove(b) if b in _open_boxes else None)
    _open_boxes.append(box)
    box.show()


def _report(exc_type: type[BaseException], exc: BaseException, tb: TracebackType | None, where: str) -> None:
    details = mask_secrets("".join(traceback.format_exception(exc_type, exc, tb)))
    log.error("uncaught error in %s\n%s", where, details)
    if _relay is not None:
        _relay.raised.emit(mask_secrets(f"{exc_type.__name__}: {exc}"), details)


def install_excepthooks() -> None:
    """Route ``sys.excepthook`` and ``threading.excepthook`` to the log and a dialog."""
    global _relay
    _relay = _ErrorRelay()
    _relay.raised.connect(_show)

    def hook(exc_type: type[BaseException], exc: BaseException, tb: TracebackType | None) -> None:
        if issubclass(exc_type, KeyboardInterrupt):
            sys.__excepthook__(exc_type, exc, tb)
            return
        _report(exc_type, exc, tb, "main thread")

    def thread_hook(args: threading.ExceptHookArgs) -> None:
        if args.exc_value is not None:
            name = args.thread.name if args.thread else "?"
            _report(args.exc_type, args.exc_value, args.exc_traceback, f"thread {name}")

    sys.excepthook = hook
    threading.excepthook = thread_hook
