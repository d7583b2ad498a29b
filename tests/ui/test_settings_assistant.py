"""Settings → Assistant: the notes folder field, Index now, and the indexer's progress."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QDialogButtonBox
from pytestqt.qtbot import QtBot

from magnus_desktop.services.assistant.knowledge_service import KnowledgeStatus
from magnus_desktop.services.settings import Settings
from magnus_desktop.ui.settings.dialog import SettingsDialog

OK = QDialogButtonBox.StandardButton.Ok


def _dialog(qtbot: QtBot, settings: Settings) -> SettingsDialog:
    d = SettingsDialog(settings, keyring_backend="test keyring")
    qtbot.addWidget(d)
    d.show()
    return d


def test_notes_folder_round_trip_and_validation(qtbot: QtBot, tmp_path: Path) -> None:
    d = _dialog(qtbot, Settings())
    assert d.notes_folder_edit.text() == ""
    d.notes_folder_edit.setText("relative/notes")
    assert not d.buttons.button(OK).isEnabled()
    d.notes_folder_edit.setText(str(tmp_path / "notes"))
    assert d.buttons.button(OK).isEnabled()
    d.buttons.button(OK).click()
    assert d.result_settings().assistant.notes_folder == tmp_path / "notes"


def test_index_now_and_progress(qtbot: QtBot) -> None:
    d = _dialog(qtbot, Settings())
    with qtbot.waitSignal(d.notes_index_requested, timeout=1000):
        d.notes_index_button.click()
    d.set_knowledge_status(KnowledgeStatus("indexing", 3, 12, "Indexing notes… 3 / 12"))
    assert not d.notes_progress.isHidden() and d.notes_progress.value() == 3 and d.notes_progress.maximum() == 12
    assert not d.notes_index_button.isEnabled()
    skipped = tuple((f"bad{i}.md", "binary content (NUL bytes)") for i in range(5))
    d.set_knowledge_status(KnowledgeStatus("ready", 12, 12, "Notes indexed: 2 of 12 files updated.", skipped))
    assert d.notes_progress.isHidden() and d.notes_index_button.isEnabled()
    text = d.notes_status_label.text()
    assert "bad0.md: binary" in text and "bad3.md" not in text and "2 more" in text
    assert "bad4.md" in d.notes_status_label.toolTip()
