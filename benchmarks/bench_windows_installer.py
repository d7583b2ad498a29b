"""Windows installers: size and build time, read from the last ``python installer/build.py --target windows``
(``dist/windows/build-info.json``) and ``installer/smoke_windows.py`` (``smoke-info.json``) run.

The build takes minutes under Wine, so this module reports the recorded figures instead of building;
a missing file gives a NaN row saying which command to run. Budget: installer <= 250 MB (issue 14).
The ratio is the installer's size over the unpacked bundle's (how much NSIS/MSI compression saves).
"""

from __future__ import annotations

import json
from pathlib import Path

from benchmarks.common import Result

DIST = Path(__file__).resolve().parent.parent / "dist" / "windows"
BUDGET_MB = 250.0


def _load(name: str) -> dict | None:
    path = DIST / name
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else None


def run(quick: bool = False) -> list[Result]:
    info = _load("build-info.json")
    if info is None:
        return [Result("windows.installer", "size", float("nan"), "MB",
                       note="no dist/windows/build-info.json: run python installer/build.py --target windows")]
    bundle_mb = float(info.get("bundle_mb", float("nan")))
    rows = [Result("windows.bundle", "unpacked size", bundle_mb, "MB", note=f"version {info.get('version')}")]
    for kind in ("nsis", "msi"):
        size = float(info.get(f"{kind}_mb", float("nan")))
        rows.append(Result(f"windows.installer {kind}", "size", size, "MB", reference="unpacked bundle",
                           ratio=size / bundle_mb if bundle_mb else float("nan"), target=BUDGET_MB,
                           direction="max_value", note="budget 250 MB with every capability"))
    rows.append(Result("windows.build", "time", float(info.get("total_s", float("nan"))), "s",
                       note=", ".join(f"{k} {v} s" for k, v in info.get("timings_s", {}).items())))
    smoke = _load("smoke-info.json")
    if smoke is not None:
        rows.append(Result("windows.smoke", "time", float(smoke.get("total_s", float("nan"))), "s",
                           note=f"{len(smoke.get('checks', []))} checks passed under Wine"))
        shot = smoke.get("screenshot_n") or smoke.get("screenshot_msi") or {}
        rows.append(Result("windows.screenshot run (Wine)", "time", float(shot.get("seconds", float("nan"))), "s",
                           note="installed MagnusDesktop.exe --screenshot, start to exit"))
    return rows
