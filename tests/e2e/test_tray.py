"""The system tray for real: Xvfb with a tray host (``trayer``) started by the test, the app on the
xcb platform. Close-to-tray keeps the app and its monitors running, an urgent alert raised while
hidden becomes a tray notification, clicking it brings the window back on that alert, and the tray
menu's Quit shuts down gracefully (settings saved). Offscreen never has a tray (tests/ui)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT


@pytest.fixture
def tray_display() -> Iterator[str]:
    """A fresh Xvfb display with trayer docked on it (skipped, with the reason, when not installed)."""
    missing = [tool for tool in ("Xvfb", "trayer") if shutil.which(tool) is None]
    if missing:
        pytest.skip(f"needs {', '.join(missing)} (apt-get install xvfb trayer)")
    read_fd, write_fd = os.pipe()
    xvfb = subprocess.Popen(["Xvfb", "-displayfd", str(write_fd), "-screen", "0", "1600x1000x24", "-nolisten", "tcp"],
                            pass_fds=(write_fd,), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    os.close(write_fd)
    with os.fdopen(read_fd) as pipe:
        display = f":{pipe.readline().strip()}"
    env = {k: v for k, v in os.environ.items() if k != "DBUS_SESSION_BUS_ADDRESS"}
    trayer = subprocess.Popen(["trayer", "--edge", "top", "--align", "right", "--widthtype", "request",
                               "--height", "24", "--SetDockType", "true"], env={**env, "DISPLAY": display},
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(0.5)
    try:
        yield display
    finally:
        for proc in (trayer, xvfb):
            proc.terminate()
            try:
                proc.wait(5)
            except subprocess.TimeoutExpired:
                proc.kill()


def test_close_to_tray_notification_click_and_tray_quit(tray_display: str, tmp_path: Path) -> None:
    home = tmp_path / "home"
    config = home / "config"
    config.mkdir(parents=True)
    settings_file = config / "settings.json"
    settings_file.write_text(json.dumps({"schema_version": 4, "alerts": {"close_to_tray": True, "minimize_to_tray": True}}))
    env = {k: v for k, v in os.environ.items() if not k.startswith("QT_QPA") and k != "DBUS_SESSION_BUS_ADDRESS"}
    env.update(DISPLAY=tray_display, QT_QPA_PLATFORM="xcb", MAGNUS_DESKTOP_HOME=str(home), PYTHONPATH=str(REPO_ROOT))
    proc = subprocess.run([sys.executable, "-m", "tests.e2e.tray_driver", "--step-to", "2018-01-29"], cwd=REPO_ROOT,
                          env=env, capture_output=True, text=True, timeout=180)
    lines = [line for line in proc.stdout.splitlines() if line.startswith("RESULT ")]
    assert proc.returncode == 0 and lines, proc.stdout[-3000:] + proc.stderr[-3000:]
    result = json.loads(lines[-1].removeprefix("RESULT "))
    assert result["tray_available_before"] and result["tray_icon"], result
    assert "unread alert" in result["tooltip"]
    assert result["hidden_after_close"] and result["services_running"]
    assert result["notified"] and result["urgent_alerts"] > 0 and result["step_to_notification_s"] < 5.0, result
    assert f"— {result['unread']} unread alerts" in result["tooltip_after"] and result["unread"] >= result["urgent_alerts"]
    title, _message = result["notification"]
    assert "CRITICAL" in title or "critical" in title
    assert result["balloon_shown"] and result["shown_after_click"]
    assert result["selected_id"] == result["clicked_id"] is not None
    assert result["hidden_after_minimize"] and result["shown_after_toggle"]
    assert result["hidden_again"] and result["quit_finished"] and result["context_closed"]
    saved = json.loads(settings_file.read_text())
    assert saved["replay_date"] == "2018-01-29" and saved["alerts"]["close_to_tray"] is True  # Quit saved the settings
