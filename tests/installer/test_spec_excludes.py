"""Every module ``installer/magnus_desktop.spec`` leaves out of the bundle is optional for the app: with
those modules made unimportable (as in the frozen build), every ``magnus_desktop`` module still imports.

A frozen build that imports an excluded module dies at start with PyInstaller's "Unhandled exception"
dialog (pyqtgraph imports QtOpenGL unconditionally: found by the Windows smoke test after 8 min of
PyInstaller). This finds the same in seconds.
"""

from __future__ import annotations

import ast
import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

BLOCKED_IMPORT = r'''
import importlib, importlib.abc, pkgutil, sys
EXCLUDED = sys.argv[1].split(",")

class Excluded(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if any(name == e or name.startswith(e + ".") for e in EXCLUDED):
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None

sys.meta_path.insert(0, Excluded())
import magnus_desktop
count = 0
for info in pkgutil.walk_packages(magnus_desktop.__path__, "magnus_desktop."):
    if ".migrations" in info.name or info.name.endswith(".__main__"):  # __main__ runs the CLI
        continue
    importlib.import_module(info.name)
    count += 1
print(count)
'''


def spec_excludes() -> list[str]:
    """The module names of every ``excludes = [...]`` / ``excludes += [...]`` in the spec (all platforms)."""
    text = (ROOT / "installer" / "magnus_desktop.spec").read_text("utf-8")
    names: list[str] = []
    for literal in re.findall(r"excludes\s*\+?=\s*(\[[^\]]*\])", text):
        names += ast.literal_eval(literal)
    return names


def test_spec_excludes_are_parsed() -> None:
    excluded = spec_excludes()
    assert "tkinter" in excluded and "onnxruntime" in excluded  # the base list and the Windows-only one


def test_the_app_imports_without_the_modules_the_bundle_leaves_out() -> None:
    excluded = spec_excludes()
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "PYTHONPATH": str(ROOT)}
    proc = subprocess.run([sys.executable, "-c", BLOCKED_IMPORT, ",".join(excluded)], env=env,
                          capture_output=True, text=True, timeout=600, cwd=ROOT)
    assert proc.returncode == 0, f"an excluded module is needed:\n{proc.stderr[-3000:]}"
    assert int(proc.stdout.split()[-1]) > 200  # every module of the package was imported


def test_the_check_catches_a_needed_module() -> None:
    """The same check with QtOpenGL blocked fails (pyqtgraph's PlotCurveItem needs it)."""
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "PYTHONPATH": str(ROOT)}
    proc = subprocess.run([sys.executable, "-c", BLOCKED_IMPORT, "PySide6.QtOpenGL"], env=env,
                          capture_output=True, text=True, timeout=600, cwd=ROOT)
    assert proc.returncode != 0
    assert "ModuleNotFoundError: No module named 'PySide6.QtOpenGL'" in proc.stderr
