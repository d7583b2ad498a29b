"""The app as a trader runs it: start, use, quit (Ctrl+Q, the File menu, the window's close, SIGTERM),
start again — exit code 0, settings and layout kept, the database closed cleanly every time."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import pytest

from tests.e2e.conftest import XDisplay

FIRST_DAY, SECOND_DAY = "2018-01-02", "2018-01-03"


def _settings(home: Path) -> dict:
    return json.loads((home / "config" / "settings.json").read_text())


def _assert_clean_db(home: Path) -> None:
    db = home / "data" / "magnus.sqlite3"
    assert db.is_file()
    assert not Path(f"{db}-wal").exists(), "WAL file left behind: the engine was not disposed"


def _window(x: XDisplay) -> str:
    wid = x.xdotool("search", "--sync", "--onlyvisible", "--name", "^Magnus Desktop —").splitlines()[0]
    x.xdotool("windowactivate", "--sync", wid)
    x.xdotool("windowfocus", "--sync", wid)
    return wid


def _geometry(x: XDisplay, wid: str) -> tuple[int, int]:
    out = x.xdotool("getwindowgeometry", wid)
    w, h = re.search(r"Geometry: (\d+)x(\d+)", out).groups()  # type: ignore[union-attr]
    return int(w), int(h)


def _wait_for(condition, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.1)


def test_use_quit_with_ctrl_q_then_window_close_under_xvfb(xdisplay: XDisplay, start_app, tmp_path: Path) -> None:
    home = tmp_path / "home"
    app = start_app(home, xdisplay.env())
    app.wait_ready()
    wid = _window(xdisplay)
    xdotool = xdisplay.xdotool
    xdotool("key", "ctrl+shift+t")  # View → Dark theme off
    xdotool("key", "ctrl+Right")  # one replay day forward
    xdotool("windowsize", "--sync", wid, "1500", "900")
    time.sleep(0.5)
    xdotool("key", "ctrl+q")
    assert app.wait_exit() == 0, app.text()
    assert "Traceback" not in app.text()
    saved = _settings(home)
    assert saved["theme"] == "light"
    assert saved["replay_date"] == SECOND_DAY
    _assert_clean_db(home)
    assert (home / "config" / "settings.json").stat().st_mode & 0o777 == 0o600

    again = start_app(home, xdisplay.env())
    again.wait_ready()
    wid = _window(xdisplay)
    assert _geometry(xdisplay, wid) == (1500, 900), "layout (geometry) not restored"
    xdotool("key", "ctrl+Right")
    time.sleep(0.3)
    xdotool("key", "alt+F4")  # openbox closes the active window: WM_DELETE_WINDOW, as the close button
    assert again.wait_exit() == 0, again.text()
    saved = _settings(home)
    assert saved["theme"] == "light"
    assert saved["replay_date"] == "2018-01-04"
    _assert_clean_db(home)


def test_quit_from_the_file_menu_under_xvfb(xdisplay: XDisplay, start_app, tmp_path: Path) -> None:
    home = tmp_path / "home"
    app = start_app(home, xdisplay.env())
    app.wait_ready()
    _window(xdisplay)
    xdisplay.xdotool("key", "ctrl+Right")
    time.sleep(0.3)
    xdisplay.xdotool("key", "alt+f")  # File menu; Up from the top wraps to its last entry, Quit
    time.sleep(0.5)
    xdisplay.xdotool("key", "Up")
    xdisplay.xdotool("key", "Return")
    assert app.wait_exit() == 0, app.text()
    assert _settings(home)["replay_date"] == SECOND_DAY
    _assert_clean_db(home)


def test_sigterm_quits_gracefully_offscreen_and_overrides_are_not_saved(start_app, tmp_path: Path) -> None:
    home = tmp_path / "home"
    app = start_app(home, {"QT_QPA_PLATFORM": "offscreen"}, "--theme", "light", "--replay-date", "2018-02-06")
    app.wait_ready()
    app.terminate()
    assert app.wait_exit() == 0, app.text()
    saved = _settings(home)
    assert saved["theme"] == "dark", "a --theme override was persisted"
    assert saved["replay_date"] is None, "a --replay-date override was persisted"
    _assert_clean_db(home)


def test_db_url_with_password_is_never_persisted_or_printed(start_app, tmp_path: Path) -> None:
    home = tmp_path / "home"
    secret = "s3cr3t-Pa55"
    url = f"postgresql://trader:{secret}@127.0.0.1:9/magnus?password={secret}"
    app = start_app(home, {"QT_QPA_PLATFORM": "offscreen"}, "--db-url", url)
    app.wait_ready()
    app.terminate()
    assert app.wait_exit() == 0, app.text()
    assert _settings(home)["db_url"] is None
    assert secret not in app.text()
    for path in home.rglob("*"):
        if path.is_file():
            assert secret.encode() not in path.read_bytes(), f"secret found in {path}"


@pytest.mark.parametrize("content", ['{"schema_version":0}', "null", "[1]", '{"scanner": 5}', "{not json"])
def test_a_wrong_shaped_settings_file_is_set_aside_and_the_app_starts(start_app, tmp_path: Path, content: str) -> None:
    home = tmp_path / "home"
    (home / "config").mkdir(parents=True)
    (home / "config" / "settings.json").write_text(content)
    app = start_app(home, {"QT_QPA_PLATFORM": "offscreen"})
    app.wait_ready()
    app.terminate()
    assert app.wait_exit() == 0, app.text()
    aside = list((home / "config").glob("settings.json.corrupt-*"))
    assert len(aside) == 1 and aside[0].read_text() == content
    assert _settings(home)["schema_version"] >= 1
