""""Help → Report a problem": one zip of the logs, crash reports, settings and layout files, with every
secret removed, for the user to attach to an e-mail or an issue.

What is removed: credentials in every line (``services.redact.mask_secrets``: URL passwords,
``password=``, ``"token": …``, API keys …), PEM private-key blocks, and in ``settings.json`` the value
of every key whose name says it is secret. Passwords are never in the settings file (keyring only),
but a log line or an old file could hold one. Nothing is sent anywhere.
"""

from __future__ import annotations

import json
import re
import zipfile
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from magnus_desktop.services.desktop.crash import CRASH_PREFIX, system_summary
from magnus_desktop.services.redact import MASK, mask_secrets

_PEM = re.compile(r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----.*?(?:-----END [A-Z0-9 ]*PRIVATE KEY-----|\Z)", re.DOTALL)
_SECRET_KEY = re.compile(r"(password|passwd|pwd|passphrase|secret|token|api[_-]?key|private[_-]?key|totp)", re.I)
#: log files and crash reports (rotated logs end in .log.1 … .log.5)
_LOG_GLOBS = ("*.log", "*.log.[0-9]*", f"{CRASH_PREFIX}*.txt")
_CONFIG_FILES = ("settings.json", "layout.ini", "tables.ini")
MAX_FILE_BYTES = 20_000_000


def scrub_text(text: str) -> str:
    """``text`` with PEM private keys and every credential ``mask_secrets`` knows replaced by ``***``."""
    return mask_secrets(_PEM.sub(f"-----PRIVATE KEY {MASK}-----", text))


def scrub_settings(data: Any) -> Any:
    """A copy of parsed settings JSON with secret-named keys' values replaced and strings scrubbed."""
    if isinstance(data, dict):
        return {k: MASK if _SECRET_KEY.search(str(k)) and v not in (None, "") else scrub_settings(v)
                for k, v in data.items()}
    if isinstance(data, list):
        return [scrub_settings(v) for v in data]
    if isinstance(data, str):
        return scrub_text(data)
    return data


def _settings_text(path: Path) -> str:
    raw = path.read_text(encoding="utf-8", errors="replace")
    try:
        return json.dumps(scrub_settings(json.loads(raw)), indent=2, ensure_ascii=False)
    except ValueError:  # not JSON (a corrupt file): still scrubbed line by line
        return scrub_text(raw)


def _read_tail(path: Path) -> str:
    """The file's text (its last ``MAX_FILE_BYTES`` when larger)."""
    with path.open("rb") as fh:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            fh.seek(size - MAX_FILE_BYTES)
        return fh.read().decode("utf-8", errors="replace")


def build_problem_report(dest: Path, log_dirs: Iterable[Path], config_dir: Path,
                         now: datetime | None = None) -> tuple[Path, list[str]]:
    """Write the zip; returns (its path, the names inside).

    Args:
        dest: the zip file to write (its folder must exist).
        log_dirs: folders holding ``magnus-desktop.log*`` and ``crash-*.txt`` (the default and the
            chosen log folder; missing folders are skipped).
        config_dir: folder of ``settings.json`` (also ``settings.json.corrupt-*``), ``layout.ini``,
            ``tables.ini``.

    Raises:
        OSError: ``dest`` cannot be written.
    """
    now = now or datetime.now(UTC)
    names: list[str] = []
    with zipfile.ZipFile(dest, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        def add(name: str, text: str) -> None:
            zf.writestr(name, text)
            names.append(name)

        add("system.txt", f"{system_summary()}Report made: {now.isoformat(timespec='seconds')}\n")
        seen: set[Path] = set()
        for folder in log_dirs:
            if not folder.is_dir():
                continue
            for pattern in _LOG_GLOBS:
                for path in sorted(folder.glob(pattern)):
                    if path.resolve() in seen or not path.is_file():
                        continue
                    seen.add(path.resolve())
                    add(f"logs/{path.name}", scrub_text(_read_tail(path)))
        for path in sorted(config_dir.glob("settings.json*")):
            add(f"config/{path.name}", _settings_text(path))
        for name in _CONFIG_FILES[1:]:
            path = config_dir / name
            if path.is_file():
                add(f"config/{name}", scrub_text(_read_tail(path)))
    return dest, names
