"""PySide6 6.12.0 on CPython 3.11 aborts after ~20,000 void calls (PITFALLS.md): guard the pin."""

from __future__ import annotations

import sys

import PySide6
from PySide6.QtWidgets import QApplication, QLabel


def test_pyside_version_is_pinned_below_612_on_311() -> None:
    major, minor = (int(x) for x in PySide6.__version__.split(".")[:2])
    if sys.version_info < (3, 12):
        assert (major, minor) < (6, 12), f"PySide6 {PySide6.__version__} crashes CPython 3.11; pin <6.12"


def test_twenty_thousand_void_calls_survive(qapp: QApplication) -> None:
    label = QLabel("x")
    label.show()
    for i in range(20_000):
        label.update()
        qapp.processEvents()
        if i % 5000 == 0:
            label.setText(str(i))
    assert label.text() == "15000"
    label.close()
