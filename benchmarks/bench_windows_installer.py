"""Windows installers: size and build time, read from the last ``python installer/build.py --target windows``
(``dist/windows/build-info.json``) and ``installer/smoke_windows.py`` (``smoke-info.json``) run; when this
checkout has none, from the last passed run on this machine (CI's, kept in
``$MAGNUS_WINDOWS_CACHE/last-run``, default ``~/.cache/magnus-windows/last-run``).

The build takes minutes under Wine, so this module reports the recorded figures instead of building;
a missing file gives a NaN row saying which command to run. Budget: installer <= 250 MB (issue 14).
The ratio is the installer's size over the unpacked bundle's (how much NSIS/MSI compression saves).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from benchmarks.common import Result

DIST = Path(__file__).resolve().parent.parent / "dist" / "windows"
LAST_RUN = Path(os.environ.get("MAGNUS_WINDOWS_CACHE", Path.home() / ".cache" / "magnus-windows")) / "last-run"
BUDGET_MB = 250.0
#: the Windows stage of every CI run (scripts/dev.sh test): build + smoke test, warm caches
CI_BUDGET_S = 30 * 60.0


def _folder() -> Path:
    return DIST if (DIST / "build-info.json").exists() else LAST_RUN


def _load(name: str) -> dict | None:
    path = _folder() / name
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else None


def run(quick: bool = False) -> list[Result]:
    info = _load("build-info.json")
    if info is None:
        return [Result("windows.installer", "size", float("nan"), "MB",
                       note="no dist/windows/build-info.json: run python installer/build.py --target windows")]
    bundle_mb = float(info.get("bundle_mb", float("nan")))
    where = "this checkout" if _folder() == DIST else "the last passed run on this machine"
    rows = [Result("windows.bundle", "unpacked size", bundle_mb, "MB", note=f"version {info.get('version')}, {where}")]
    for kind in ("nsis", "msi"):
        size = float(info.get(f"{kind}_mb", float("nan")))
        rows.append(Result(f"windows.installer {kind}", "size", size, "MB", reference="unpacked bundle",
                           ratio=size / bundle_mb if bundle_mb else float("nan"), target=BUDGET_MB,
                           direction="max_value",
                           note="budget 250 MB with every capability"
                           + (f"; {info['nsis_compressor']}" if kind == "nsis" and "nsis_compressor" in info else "")
                           + ("; MSZIP, the only compression wixl's cabinet writer has" if kind == "msi" else "")))
    cached = " (Python + wheels cached)" if info.get("dependencies_cached") else ""
    rows.append(Result("windows.build", "time", float(info.get("total_s", float("nan"))), "s",
                       note=", ".join(f"{k} {v} s" for k, v in info.get("timings_s", {}).items()) + cached))
    for step, seconds in info.get("timings_s", {}).items():
        rows.append(Result(f"windows.build {step}", "time", float(seconds), "s"))
    smoke = _load("smoke-info.json")
    if smoke is not None:
        rows.append(Result("windows.smoke", "time", float(smoke.get("total_s", float("nan"))), "s",
                           note=f"{len(smoke.get('checks', []))} checks passed under Wine"))
        total = float(info.get("total_s", float("nan"))) + float(smoke.get("total_s", float("nan")))
        rows.append(Result("windows.build + smoke (CI stage)", "time", total, "s", target=CI_BUDGET_S,
                           direction="max_value", note="budget 30 min on 2 cores, warm caches"))
        shot = smoke.get("screenshot_n") or smoke.get("screenshot_msi") or {}
        rows.append(Result("windows.screenshot run (Wine)", "time", float(shot.get("seconds", float("nan"))), "s",
                           note="installed MagnusDesktop.exe --screenshot, start to exit"))
    return rows
