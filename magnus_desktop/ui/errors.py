"""Uncaught errors on any thread: logged, written as a crash report (``crash-<time>.txt`` in the log
folder), then shown to the trader in a dialog (never a silent exit). Qt's own messages go to the log;
a fatal one writes a crash report before Qt aborts."""

from __future__ import annotations

import logging
import sys
import threading
import traceback
from pathlib import Path
from types import TracebackType

from PySide6.QtCore import QMessageLogContext, QObject, QtMsgType, Signal, qInstallMessageHandler
from PySide6.QtWidgets import QApplication, QMessageBox

from magnus_desktop.services.desktop.crash import write_crash_report
from magnus_desktop.services.redact import mask_secrets

log = logging.getLogger("magnus_desktop.errors")


class _ErrorRelay(QObject):
    """Carries a message from any thread to the GUI thread (queued signal)."""

    raised = Signal(str, str)


_relay: _ErrorRelay | None = None
_crash_dir: Path | None = None
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
    _write_crash(where, details)
    if _relay is not None:
        _relay.raised.emit(mask_secrets(f"{exc_type.__name__}: {exc}"), details)


def _write_crash(where: str, details: str) -> None:
    if _crash_dir is None:
        return
    try:
        path = write_crash_report(_crash_dir, where, details)
    except OSError as exc:
        log.error("could not write a crash report to %s: %s", _crash_dir, exc)
    else:
        log.error("crash report written to %s", path)


def _qt_message(mode: QtMsgType, context: QMessageLogContext, message: str) -> None:
    """Qt's warnings into our log (masked by its handlers); a fatal message also as a crash report."""
    where = f" ({context.file}:{context.line})" if context.file else ""
    if mode == QtMsgType.QtFatalMsg:
        log.critical("Qt fatal%s: %s", where, message)
        _write_crash("Qt fatal message", f"{message}{where}\n")
    elif mode == QtMsgType.QtCriticalMsg:
        log.error("Qt%s: %s", where, message)
    elif mode == QtMsgType.QtWarningMsg:
        log.warning("Qt%s: %s", where, message)
    else:
        log.debug("Qt%s: %s", where, message)


def install_excepthooks(crash_dir: Path | None = None) -> None:
    """Route ``sys.excepthook`` and ``threading.excepthook`` to the log, a crash report in
    ``crash_dir`` (the log folder; None = no report files) and a dialog; Qt's messages to the log."""
    global _relay, _crash_dir
    _crash_dir = crash_dir
    qInstallMessageHandler(_qt_message)
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
