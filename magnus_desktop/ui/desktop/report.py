"""Help → Report a problem: pick where to save, build the scrubbed zip off the GUI thread, say where it is."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from PySide6.QtCore import QUrl
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import QFileDialog, QMessageBox, QWidget

from magnus_desktop.services.desktop.problem_report import build_problem_report
from magnus_desktop.services.executors import Executors
from magnus_desktop.services.paths import app_paths


def default_report_path(now: datetime | None = None) -> Path:
    stamp = (now or datetime.now()).strftime("%Y%m%d-%H%M%S")
    return Path.home() / f"magnus-desktop-problem-report-{stamp}.zip"


async def make_report(dest: Path, chosen_log_dir: Path | None, executors: Executors) -> tuple[Path, list[str]]:
    """The zip of the default (and the chosen) log folder and the config folder, built on the
    ``compute`` executor (file reads and compression stay off the GUI thread)."""
    paths = app_paths()
    log_dirs = [paths.log_dir] + ([chosen_log_dir] if chosen_log_dir else [])
    return await executors.run("compute", build_problem_report, dest, log_dirs, paths.config_dir)


async def report_problem(parent: QWidget, chosen_log_dir: Path | None, executors: Executors) -> Path | None:
    """Ask for the file, write it, tell the user what is inside. None when cancelled or failed (said)."""
    name, _ = QFileDialog.getSaveFileName(parent, "Save the problem report", str(default_report_path()),
                                          "Zip archive (*.zip)")
    if not name:
        return None
    dest = Path(name if name.lower().endswith(".zip") else f"{name}.zip")
    try:
        path, names = await make_report(dest, chosen_log_dir, executors)
    except OSError as exc:
        QMessageBox.warning(parent, "Report a problem", f"The report could not be written to {dest}: {exc}")
        return None
    box = QMessageBox(QMessageBox.Icon.Information, "Report a problem",
                      f"Saved {path} ({len(names)} files: logs, crash reports and settings, with passwords, "
                      "tokens and keys removed). Attach it to your e-mail or issue; nothing was sent.", parent=parent)
    folder = box.addButton("Show folder", QMessageBox.ButtonRole.ActionRole)
    box.addButton(QMessageBox.StandardButton.Close)
    box.setDetailedText("\n".join(names))
    box.setModal(False)
    box.buttonClicked.connect(
        lambda b: QDesktopServices.openUrl(QUrl.fromLocalFile(str(path.parent))) if b is folder else None)
    box.show()
    parent.problem_report_box = box  # type: ignore[attr-defined]  # kept alive while shown; tests read it
    return path
