"""End-to-end fixtures: the real app as a subprocess, offscreen or on Xvfb with a window manager.

Under Xvfb the app is driven as a person drives it: openbox manages the window (so a window close
is the WM_DELETE_WINDOW a close button sends), and xdotool types the keys.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest


@dataclass
class XDisplay:
    display: str

    def env(self) -> dict[str, str]:
        return {"DISPLAY": self.display, "QT_QPA_PLATFORM": "xcb"}

    def xdotool(self, *args: str, timeout: float = 20.0) -> str:
        out = subprocess.run(["xdotool", *args], env={**os.environ, "DISPLAY": self.display},
                             capture_output=True, text=True, timeout=timeout, check=True)
        return out.stdout.strip()


@pytest.fixture(scope="session")
def xdisplay() -> Iterator[XDisplay]:
    """Xvfb + openbox for this test session (skipped, with the reason, when not installed)."""
    missing = [tool for tool in ("Xvfb", "openbox", "xdotool") if shutil.which(tool) is None]
    if missing:
        pytest.skip(f"needs {', '.join(missing)} (scripts/dev.sh test installs them)")
    read_fd, write_fd = os.pipe()
    xvfb = subprocess.Popen(["Xvfb", "-displayfd", str(write_fd), "-screen", "0", "1920x1080x24", "-nolisten", "tcp"],
                            pass_fds=(write_fd,), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    os.close(write_fd)
    with os.fdopen(read_fd) as pipe:
        number = pipe.readline().strip()
    display = f":{number}"
    wm = subprocess.Popen(["openbox"], env={**os.environ, "DISPLAY": display},
                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(0.5)
    try:
        yield XDisplay(display)
    finally:
        for proc in (wm, xvfb):
            proc.terminate()
            try:
                proc.wait(5)
            except subprocess.TimeoutExpired:
                proc.kill()


class AppProcess:
    """One run of ``python -m magnus_desktop`` with its own MAGNUS_DESKTOP_HOME."""

    def __init__(self, home: Path, extra_env: dict[str, str], *args: str, prefix: tuple[str, ...] = ()) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith("QT_QPA")}
        env.update(MAGNUS_DESKTOP_HOME=str(home), MAGNUS_DESKTOP_PRINT_FIRST_PAINT="1", **extra_env)
        self.output = home.parent / f"{home.name}-run-{time.monotonic_ns()}.out"
        self._out = self.output.open("w")
        self.proc = subprocess.Popen([*prefix, sys.executable, "-m", "magnus_desktop", *args], env=env,
                                     stdout=self._out, stderr=subprocess.STDOUT)

    def text(self) -> str:
        return self.output.read_text(errors="replace")

    def wait_ready(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if "READY" in self.text():
                return
            if self.proc.poll() is not None:
                raise AssertionError(f"app exited {self.proc.returncode} before it was ready:\n{self.text()}")
            time.sleep(0.1)
        raise AssertionError(f"app not ready after {timeout} s:\n{self.text()}")

    def wait_exit(self, timeout: float = 30.0) -> int:
        try:
            code = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            raise AssertionError(f"app did not exit within {timeout} s:\n{self.text()}") from None
        finally:
            self._out.close()
        return code

    def terminate(self) -> None:
        self.proc.send_signal(signal.SIGTERM)

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)


@pytest.fixture
def start_app(tmp_path: Path) -> Iterator:
    """``start_app(home, env, *args)`` → a running AppProcess; all are killed at teardown."""
    started: list[AppProcess] = []

    def start(home: Path, env: dict[str, str] | None = None, *args: str, prefix: tuple[str, ...] = ()) -> AppProcess:
        app = AppProcess(home, env or {}, *args, prefix=prefix)
        started.append(app)
        return app

    yield start
    for app in started:
        app.kill()


#: Run as root but without the capabilities that let root ignore file permissions, so a chmod'ed
#: folder is really read-only for the app (CI runs as root).
NO_DAC_OVERRIDE = ("setpriv", "--inh-caps=-all", "--bounding-set=-dac_override,-dac_read_search")


@pytest.fixture
def unprivileged() -> tuple[str, ...]:
    if shutil.which("setpriv") is None:
        pytest.skip("needs setpriv (util-linux) to drop root's permission override")
    return NO_DAC_OVERRIDE
