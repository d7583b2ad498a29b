"""The code of an earlier commit, loaded beside today's, so a benchmark can print before/after
measured in the same run (the machine may be loaded: only same-run comparisons mean anything).

``baseline_module("magnus_desktop/analytics/realized.py")`` reads that file as it was at
:data:`BASELINE_REV` (``git show``) and imports it under a private name; the module's own imports
resolve to today's package (the files compared here import only stable helpers). None when git or
the revision is not available (e.g. an sdist): the benchmark then prints the after row only.
"""

from __future__ import annotations

import subprocess
import sys
import types
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
#: The commit the issue-7 speed work started from (``main`` before the ordersperf branch).
BASELINE_REV = "79a861ab7911e1ef70937ef908b62ccac3236f43"


def baseline_module(path: str, rev: str = BASELINE_REV) -> types.ModuleType | None:
    """The module at ``path`` (relative to the repository root) as of ``rev``, or None."""
    try:
        source = subprocess.run(["git", "show", f"{rev}:{path}"], cwd=ROOT, capture_output=True, text=True,
                                check=True, timeout=30).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    name = "_baseline_" + path.removesuffix(".py").replace("/", "_")
    module = types.ModuleType(name)
    module.__file__ = f"{rev[:7]}:{path}"
    sys.modules[name] = module  # dataclasses look their module up while the class body runs
    exec(compile(source, module.__file__, "exec"), module.__dict__)  # noqa: S102 - our own repository's file
    return module


def label(rev: str = BASELINE_REV) -> str:
    return f"before ({rev[:7]})"
