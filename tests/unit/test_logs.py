"""setup_logging / set_log_level and the credential-masking filter on the real handlers."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from magnus_desktop.services.logs import LOG_FILE_NAME, set_log_level, setup_logging

SECRET = "Tr0ub4dor"


@pytest.fixture
def clean_root() -> Iterator[logging.Logger]:
    """The root logger without pytest's handlers; restored (and our handlers closed) afterwards."""
    root = logging.getLogger()
    saved_handlers, saved_level = root.handlers[:], root.level
    root.handlers = []
    yield root
    for handler in root.handlers:
        handler.close()
    root.handlers = saved_handlers
    root.setLevel(saved_level)


def _flush(root: logging.Logger) -> None:
    for handler in root.handlers:
        handler.flush()


def test_level_is_applied_and_changed_live(tmp_path: Path, clean_root: logging.Logger) -> None:
    path = setup_logging(tmp_path, "WARNING")
    log = logging.getLogger("magnus_desktop.test")
    log.info("hidden info")
    set_log_level("DEBUG")
    log.debug("visible debug")
    _flush(clean_root)
    text = path.read_text(encoding="utf-8")
    assert "hidden info" not in text and "visible debug" in text
    assert clean_root.level == logging.DEBUG


def test_unknown_level_is_a_clear_error(clean_root: logging.Logger) -> None:
    with pytest.raises(ValueError, match="unknown log level 'LOUD'"):
        set_log_level("LOUD")


def test_credentials_are_masked_in_message_args_and_exception(
    tmp_path: Path, clean_root: logging.Logger, capsys: pytest.CaptureFixture[str]
) -> None:
    path = setup_logging(tmp_path, "INFO")
    log = logging.getLogger("magnus_desktop.test")
    log.info("opening %s", f"postgresql://bob:{SECRET}@db/x")
    log.warning("dsn host=db password=%s dbname=x", SECRET)
    try:
        raise ConnectionError(f'server said {{"password": "{SECRET}"}}')
    except ConnectionError:
        log.exception("connect failed")
    _flush(clean_root)
    text = path.read_text(encoding="utf-8")
    assert "postgresql://bob:***@db/x" in text and "password=*** dbname=x" in text
    assert 'ConnectionError: server said {"password": "***"}' in text
    assert SECRET not in text
    assert SECRET not in capsys.readouterr().err  # console handler (warnings) masks too


def test_moving_the_log_folder_swaps_the_file_handler(tmp_path: Path, clean_root: logging.Logger) -> None:
    first = setup_logging(tmp_path / "a")
    second = setup_logging(tmp_path / "b")
    logging.getLogger("magnus_desktop.test").warning("after the move")
    _flush(clean_root)
    assert second == tmp_path / "b" / LOG_FILE_NAME
    assert "after the move" in second.read_text(encoding="utf-8")
    assert "after the move" not in first.read_text(encoding="utf-8")
    assert len([h for h in clean_root.handlers if isinstance(h, logging.FileHandler)]) == 1
    ours = [h for h in clean_root.handlers if type(h).__module__ == "logging" or isinstance(h, logging.FileHandler)]
    assert len(ours) == 2  # one file, one console (pytest's capture handlers aside)


def test_unwritable_log_folder_falls_back(tmp_path: Path, clean_root: logging.Logger) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x", encoding="utf-8")
    path = setup_logging(blocker / "logs", "INFO", fallback_dir=tmp_path / "fallback")
    _flush(clean_root)
    assert path == tmp_path / "fallback" / LOG_FILE_NAME
    assert "cannot write logs to" in path.read_text(encoding="utf-8")
