"""Single instance with two real processes: a second launch hands its command line to the running
window and exits; a socket left behind by a killed instance does not block the next start."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from magnus_desktop.ui.desktop.single_instance import server_name

OFFSCREEN = {"QT_QPA_PLATFORM": "offscreen"}


def _second_launch(home: Path, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    import os

    env = {k: v for k, v in os.environ.items() if not k.startswith("QT_QPA")}
    env.update(MAGNUS_DESKTOP_HOME=str(home), **OFFSCREEN)
    return subprocess.run([sys.executable, "-m", "magnus_desktop", *args], env=env, capture_output=True,
                          text=True, timeout=timeout)


def _log(home: Path) -> str:
    path = home / "logs" / "magnus-desktop.log"
    return path.read_text(encoding="utf-8", errors="replace") if path.exists() else ""


def _wait_for(predicate, timeout: float = 20.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return False


def test_second_launch_activates_the_first_and_passes_its_command_line(tmp_path: Path, start_app) -> None:
    home = tmp_path / "home"
    first = start_app(home, OFFSCREEN)
    first.wait_ready()
    second = _second_launch(home, "--replay-date", "2018-02-06", "--theme", "light")
    assert second.returncode == 0, second.stdout + second.stderr
    assert "already running" in second.stdout
    assert _log(home).count("Magnus Desktop starting") == 1  # the second one started no app of its own
    assert _wait_for(lambda: "Replay moved to 2018-02-06 (from another launch)" in _log(home)), _log(home)[-3000:]
    assert "Theme set to light" in _log(home)
    bad = _second_launch(home, "--replay-date", "not-a-date")
    assert bad.returncode == 2  # argparse refuses it in the second process already; nothing forwarded
    first.terminate()
    assert first.wait_exit() == 0


def test_other_home_is_another_instance(tmp_path: Path) -> None:
    assert server_name(tmp_path / "a" / "config") != server_name(tmp_path / "b" / "config")


@pytest.mark.skipif(sys.platform == "win32", reason="the stale socket file is a Unix case; named pipes vanish")
def test_stale_socket_after_a_crash_is_replaced(tmp_path: Path, start_app) -> None:
    home = tmp_path / "home"
    first = start_app(home, OFFSCREEN)
    first.wait_ready()
    first.kill()  # SIGKILL: no clean-up, the socket file stays behind
    name = server_name(home / "config")
    stale = [p for p in Path("/tmp").glob(f"{name}*")]
    assert stale, "the killed instance left no socket file (the test would prove nothing)"
    third = start_app(home, OFFSCREEN)
    third.wait_ready()  # it did not forward into the dead socket and exit
    fourth = _second_launch(home)
    assert fourth.returncode == 0 and "already running" in fourth.stdout
    third.terminate()
    assert third.wait_exit() == 0
