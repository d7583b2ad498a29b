"""Desktop integration inside one process: the single-instance socket, the forwarded command line,
start minimised, the Settings → Desktop tab, crash reports (Python, threads, Qt) and Help → Report a
problem (tested by grep for the secrets)."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import zipfile
from datetime import date
from pathlib import Path

import pytest
from PySide6.QtWidgets import QMainWindow

from magnus_desktop.services.desktop import autostart
from magnus_desktop.services.desktop.appid import APP_USER_MODEL_ID, set_app_user_model_id
from magnus_desktop.services.desktop.crash import write_crash_report
from magnus_desktop.services.desktop.problem_report import build_problem_report
from magnus_desktop.services.settings import Settings
from magnus_desktop.ui.desktop.activation import activate_from_command_line
from magnus_desktop.ui.desktop.single_instance import SingleInstance, server_name

SECRETS = ("hunter2-db-pass", "tok-9f8e7d6c", "RH-PASSWORD-123", "sk-live-abcdef", "MIIEvQIBADANBgkqhkiG9w0BAQEFAASC")


# ---- single instance --------------------------------------------------------------------------
def test_forward_reaches_the_listener_and_malformed_messages_are_refused(qtbot, tmp_path: Path) -> None:
    name = server_name(tmp_path / "cfg")
    first, second = SingleInstance(name), SingleInstance(name)
    assert not second.forward(["--theme", "light"], timeout_ms=200)  # nobody listens yet
    assert first.listen()
    received: list[list[str]] = []
    first.activated.connect(received.append)
    # the second launch is another process (PySide's blocking waits hold the GIL: a thread would stall this loop)
    code = ("from PySide6.QtCore import QCoreApplication; app = QCoreApplication([]); "
            "from magnus_desktop.ui.desktop.single_instance import SingleInstance; "
            f"print(SingleInstance({name!r}).forward(['--replay-date', '2018-02-06']))")
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True, cwd=Path.cwd())
    qtbot.waitUntil(lambda: proc.poll() is not None, timeout=30_000)
    assert proc.stdout.read().strip() == "True"
    assert received == [["--replay-date", "2018-02-06"]]
    bad = ("import socket, sys; s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); "
           "s.sendall(b'not json\\n'); print(s.recv(100).decode().strip())")
    if sys.platform != "win32":
        proc = subprocess.Popen([sys.executable, "-c", bad, f"/tmp/{name}"], stdout=subprocess.PIPE, text=True)
        qtbot.waitUntil(lambda: proc.poll() is not None, timeout=30_000)
        assert proc.stdout.read().strip() == "error" and len(received) == 1
    first.close()


def test_a_stale_socket_file_does_not_block_listening(qtbot, tmp_path: Path) -> None:
    if sys.platform == "win32":
        pytest.skip("named pipes leave no file behind")
    name = server_name(tmp_path / "stale")
    path = Path("/tmp") / name
    stale = socket.socket(socket.AF_UNIX)
    stale.bind(str(path))
    stale.close()  # a file that nobody accepts on: what a killed instance leaves
    assert path.exists()
    instance = SingleInstance(name)
    assert not instance.forward([], timeout_ms=300)
    assert instance.listen()
    instance.close()


class _Window(QMainWindow):
    def __init__(self) -> None:
        super().__init__()
        self.notices: list[str] = []
        self.vm = self
        self.days: list[date] = []
        self.themes: list[str] = []

    def jump(self, day: date) -> None:
        self.days.append(day)

    def set_theme(self, theme: str) -> None:
        self.themes.append(theme)

    def show_notice(self, text: str) -> None:
        self.notices.append(text)


def test_forwarded_command_line_restores_the_window_and_applies_options(qtbot) -> None:
    window = _Window()
    qtbot.addWidget(window)
    window.showMinimized()
    done = activate_from_command_line(window, ["--replay-date", "2018-02-06", "--theme", "dark", "--db-url", "x"])
    assert window.isVisible() and not window.isMinimized()
    assert window.days == [date(2018, 2, 6)] and window.themes == ["dark"]
    assert any("new start only" in d for d in done)
    window.hide()
    done = activate_from_command_line(window, ["--replay-date", "tomorrow"])
    assert window.isVisible() and window.days == [date(2018, 2, 6)]
    assert "not understood" in done[0] and "tomorrow" in done[0]


# ---- start minimised / settings ------------------------------------------------------------------
def test_start_minimised_hides_or_minimises_and_screenshot_always_shows(qtbot, monkeypatch) -> None:
    from PySide6.QtWidgets import QSystemTrayIcon

    from magnus_desktop.app import show_at_start

    settings = Settings()
    assert settings.desktop.start_minimized_to_tray is False and settings.desktop.start_with_windows is False
    window = QMainWindow()
    qtbot.addWidget(window)
    assert show_at_start(window, settings) == "shown" and window.isVisible()
    window.hide()
    settings.desktop.start_minimized_to_tray = True
    monkeypatch.setattr(QSystemTrayIcon, "isSystemTrayAvailable", staticmethod(lambda: True))
    assert show_at_start(window, settings) == "tray" and not window.isVisible()
    assert show_at_start(window, settings, screenshot=True) == "shown" and window.isVisible()
    window.hide()
    monkeypatch.setattr(QSystemTrayIcon, "isSystemTrayAvailable", staticmethod(lambda: False))
    assert show_at_start(window, settings) == "minimized" and window.isMinimized()


def test_settings_desktop_tab_shows_start_with_windows_only_on_windows(qtbot, monkeypatch) -> None:
    from magnus_desktop.ui.settings import dialog as dialog_mod

    for windows in (False, True):
        monkeypatch.setattr(dialog_mod, "autostart_supported", lambda w=windows: w)
        dialog = dialog_mod.SettingsDialog(Settings())
        qtbot.addWidget(dialog)
        tabs = [dialog.tabs.tabText(i) for i in range(dialog.tabs.count())]
        assert "Desktop" in tabs
        paths = set(dialog._bindings)  # noqa: SLF001
        assert ("desktop", "start_minimized_to_tray") in paths
        assert (("desktop", "start_with_windows") in paths) is windows
    dialog.editor("desktop.start_minimized_to_tray").setChecked(True)
    assert dialog.form_settings().desktop.start_minimized_to_tray is True


# ---- start with Windows (the Run key through a winreg stand-in) ---------------------------------
class FakeWinreg:
    HKEY_CURRENT_USER, KEY_READ, KEY_SET_VALUE, REG_SZ = object(), 1, 2, 1

    def __init__(self) -> None:
        self.values: dict[tuple[str, str], str] = {}

    class _Key:
        def __init__(self, path: str) -> None:
            self.path = path

        def __enter__(self):
            return self

        def __exit__(self, *exc) -> None:
            return None

    def OpenKey(self, root, path, reserved, access):  # noqa: N802 (winreg's names)
        assert root is self.HKEY_CURRENT_USER and access == self.KEY_READ
        return self._Key(path)

    def CreateKeyEx(self, root, path, reserved, access):  # noqa: N802
        assert root is self.HKEY_CURRENT_USER and access == self.KEY_SET_VALUE
        return self._Key(path)

    def QueryValueEx(self, key, name):  # noqa: N802
        try:
            return self.values[(key.path, name)], self.REG_SZ
        except KeyError:
            raise FileNotFoundError(name) from None

    def SetValueEx(self, key, name, reserved, kind, value):  # noqa: N802
        assert kind == self.REG_SZ
        self.values[(key.path, name)] = value

    def DeleteValue(self, key, name):  # noqa: N802
        if self.values.pop((key.path, name), None) is None:
            raise FileNotFoundError(name)


def test_autostart_writes_and_removes_the_per_user_run_value() -> None:
    reg = FakeWinreg()
    assert autostart.autostart_command(reg) is None
    autostart.set_autostart(True, r'"C:\Users\me\AppData\Local\Programs\Magnus Desktop\MagnusDesktop.exe"', reg)
    assert reg.values == {(autostart.RUN_KEY, autostart.VALUE_NAME):
                          r'"C:\Users\me\AppData\Local\Programs\Magnus Desktop\MagnusDesktop.exe"'}
    assert autostart.autostart_command(reg).endswith('MagnusDesktop.exe"')
    autostart.set_autostart(False, registry=reg)
    autostart.set_autostart(False, registry=reg)  # idempotent
    assert reg.values == {} and autostart.autostart_command(reg) is None


def test_autostart_command_and_platform_guard() -> None:
    assert autostart.launch_command(r"C:\App\MagnusDesktop.exe", frozen=True) == '"C:\\App\\MagnusDesktop.exe"'
    assert autostart.launch_command("/x/python.exe", frozen=False).endswith('pythonw.exe" -m magnus_desktop')
    if sys.platform != "win32":
        assert not autostart.autostart_supported()
        with pytest.raises(autostart.AutostartError, match="Windows only"):
            autostart.set_autostart(True)


def test_app_user_model_id() -> None:
    calls: list[str] = []

    class Shell32:
        def SetCurrentProcessExplicitAppUserModelID(self, app_id: str) -> int:  # noqa: N802
            calls.append(app_id)
            return 0

    class Failing:
        def SetCurrentProcessExplicitAppUserModelID(self, app_id: str) -> int:  # noqa: N802
            return -2147024809  # E_INVALIDARG

    assert set_app_user_model_id(shell32=Shell32()) and calls == [APP_USER_MODEL_ID]
    assert not set_app_user_model_id(shell32=Failing())
    assert " " not in APP_USER_MODEL_ID and len(APP_USER_MODEL_ID) <= 128
    if sys.platform != "win32":
        assert set_app_user_model_id() is False


# ---- crash reports ---------------------------------------------------------------------------------
CRASHER = r'''
import sys, threading, time
from pathlib import Path
from PySide6.QtCore import qFatal
from PySide6.QtWidgets import QApplication
from magnus_desktop.ui.errors import install_excepthooks
app = QApplication([])
install_excepthooks(Path(sys.argv[1]))
def boom():
    raise RuntimeError("thread failed; db password=hunter2-db-pass")
t = threading.Thread(target=boom, name="worker-x"); t.start(); t.join()
if sys.argv[2] == "fatal":
    qFatal("the GPU went away")
raise ValueError("main failed with postgresql://bob:hunter2-db-pass@db/x")
'''


@pytest.mark.parametrize("ending", ["exception", "fatal"])
def test_uncaught_errors_write_masked_crash_reports(tmp_path: Path, ending: str) -> None:
    logs = tmp_path / "logs"
    proc = subprocess.run([sys.executable, "-c", CRASHER, str(logs), ending], capture_output=True, text=True,
                          timeout=120, env={**__import__("os").environ, "QT_QPA_PLATFORM": "offscreen"})
    reports = sorted(logs.glob("crash-*.txt"))
    texts = [p.read_text(encoding="utf-8") for p in reports]
    assert len(reports) == 2, (proc.stdout, proc.stderr)
    assert "Uncaught error in thread worker-x" in texts[0] and "RuntimeError: thread failed" in texts[0]
    if ending == "fatal":
        assert proc.returncode != 0
        assert "Uncaught error in Qt fatal message" in texts[1]  # (PySide replaces a Python qFatal's text)
    else:
        assert "Uncaught error in main thread" in texts[1] and "ValueError: main failed" in texts[1]
    for text in texts:
        assert "hunter2-db-pass" not in text and "Magnus Desktop" in text


# ---- Help → Report a problem -------------------------------------------------------------------------
def _home_with_secrets(home: Path) -> tuple[Path, Path]:
    cfg, logs = home / "config", home / "logs"
    cfg.mkdir(parents=True)
    logs.mkdir(parents=True)
    settings = Settings().model_dump(mode="json")
    settings["db_url"] = "postgresql://trader:hunter2-db-pass@db.example:5432/magnus"
    settings["accounts"].append({"name": "rh", "kind": "robinhood", "username": "me@example.com",
                                 "password": "RH-PASSWORD-123", "api_key": "sk-live-abcdef"})
    (cfg / "settings.json").write_text(json.dumps(settings), encoding="utf-8")
    (cfg / "settings.json.corrupt-20260101").write_text('{"token": "tok-9f8e7d6c", broken', encoding="utf-8")
    (cfg / "layout.ini").write_text("[General]\nwindowState=@ByteArray(x)\n", encoding="utf-8")
    (logs / "magnus-desktop.log").write_text(
        "INFO connect postgresql://trader:hunter2-db-pass@db/x\nINFO session token=tok-9f8e7d6c ok\n"
        "DEBUG kalshi key -----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END PRIVATE KEY-----\n"
        "INFO robinhood {'password': 'RH-PASSWORD-123'}\n", encoding="utf-8")
    (logs / "magnus-desktop.log.1").write_text("INFO api_key=sk-live-abcdef\n", encoding="utf-8")
    write_crash_report(logs, "main thread", "Traceback: ValueError password=hunter2-db-pass\n")
    return cfg, logs


def _all_text(zip_path: Path) -> dict[str, str]:
    with zipfile.ZipFile(zip_path) as zf:
        return {n: zf.read(n).decode("utf-8") for n in zf.namelist()}


def test_problem_report_holds_logs_and_settings_without_any_secret(tmp_path: Path) -> None:
    cfg, logs = _home_with_secrets(tmp_path / "home")
    raw = "".join(p.read_text(encoding="utf-8") for p in [*cfg.iterdir(), *logs.iterdir()])
    assert all(secret in raw for secret in SECRETS)  # the grep below would find them unscrubbed
    dest, names = build_problem_report(tmp_path / "report.zip", [logs, tmp_path / "missing"], cfg)
    files = _all_text(dest)
    assert set(names) == set(files)
    assert {"system.txt", "logs/magnus-desktop.log", "logs/magnus-desktop.log.1", "config/settings.json",
            "config/settings.json.corrupt-20260101", "config/layout.ini"} <= set(files)
    assert any(n.startswith("logs/crash-") for n in files)
    blob = "\n".join(files.values())
    for secret in SECRETS:
        assert secret not in blob, secret
    settings = json.loads(files["config/settings.json"])
    assert settings["accounts"][-1]["username"] == "me@example.com"  # the rest stays readable
    assert settings["db_url"] == "postgresql://trader:***@db.example:5432/magnus"
    assert "session token=***" in files["logs/magnus-desktop.log"]


def test_help_menu_saves_the_report(qtbot, tmp_path: Path, isolated_home: Path, monkeypatch, app_vm, run) -> None:
    from PySide6.QtWidgets import QFileDialog

    from magnus_desktop.ui.main_window import MainWindow

    logs = isolated_home / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    (logs / "magnus-desktop.log").write_text("INFO pw password=hunter2-db-pass\n", encoding="utf-8")
    target = tmp_path / "out" / "report"  # no .zip: the suffix is added
    target.parent.mkdir()
    monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(lambda *a, **k: (str(target), "")))
    window = MainWindow(app_vm)
    qtbot.addWidget(window)
    titles = [a.text() for a in window.menuBar().actions()]
    help_menu = window.menuBar().actions()[titles.index("&Help")].menu()
    assert window.report_problem_action in help_menu.actions()
    window.report_problem_action.trigger()
    run.until(lambda: hasattr(window, "problem_report_box"), timeout=20)
    files = _all_text(target.with_suffix(".zip"))
    assert "logs/magnus-desktop.log" in files and "password=***" in files["logs/magnus-desktop.log"]
    assert "hunter2-db-pass" not in "\n".join(files.values())
    assert str(target.with_suffix(".zip")) in window.problem_report_box.text()
    window.problem_report_box.close()
