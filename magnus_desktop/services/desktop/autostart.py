"""Start with Windows: the per-user ``Run`` registry value (no admin rights needed).

Only Windows has it; elsewhere :func:`autostart_supported` is False, the Settings dialog hides the
option and :func:`set_autostart` refuses. The registry module is a parameter so the logic is tested on
any platform with a stand-in of ``winreg``'s calls.
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

#: HKEY_CURRENT_USER sub-key Windows reads at log-on (per user)
RUN_KEY = r"Software\Microsoft\Windows\CurrentVersion\Run"
VALUE_NAME = "MagnusDesktop"


class AutostartError(Exception):
    """The Run value cannot be read or written (not Windows, or the registry refused)."""


def autostart_supported() -> bool:
    """True on Windows only (the Run key is a Windows feature)."""
    return sys.platform == "win32"


def launch_command(executable: str | None = None, frozen: bool | None = None) -> str:
    """The command line Windows runs at log-on: the bundle's ``MagnusDesktop.exe`` when frozen,
    else ``pythonw.exe -m magnus_desktop`` (no console window) beside the running interpreter."""
    exe = Path(executable or sys.executable)
    if frozen if frozen is not None else getattr(sys, "frozen", False):
        return f'"{exe}"'
    windowless = exe.with_name("pythonw.exe")
    return f'"{windowless if windowless.name != exe.name else exe}" -m magnus_desktop'


def _registry(registry: Any | None) -> Any:
    if registry is not None:
        return registry
    if not autostart_supported():
        raise AutostartError("Start with Windows exists on Windows only")
    module: ModuleType = importlib.import_module("winreg")
    return module


def autostart_command(registry: Any | None = None) -> str | None:
    """The command stored in the Run value, or None when Magnus Desktop does not start with Windows.

    Raises:
        AutostartError: not Windows, or the key cannot be read.
    """
    reg = _registry(registry)
    try:
        with reg.OpenKey(reg.HKEY_CURRENT_USER, RUN_KEY, 0, reg.KEY_READ) as key:
            value, _kind = reg.QueryValueEx(key, VALUE_NAME)
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise AutostartError(f"cannot read HKCU\\{RUN_KEY}: {exc}") from exc
    return str(value)


def set_autostart(enabled: bool, command: str | None = None, registry: Any | None = None) -> None:
    """Write (``enabled``) or delete the per-user Run value. Idempotent.

    Args:
        enabled: start Magnus Desktop when this user logs on.
        command: the command line to store; default :func:`launch_command`.
        registry: ``winreg`` or a stand-in with the same calls.

    Raises:
        AutostartError: not Windows, or the registry refused the change.
    """
    reg = _registry(registry)
    try:
        with reg.CreateKeyEx(reg.HKEY_CURRENT_USER, RUN_KEY, 0, reg.KEY_SET_VALUE) as key:
            if enabled:
                reg.SetValueEx(key, VALUE_NAME, 0, reg.REG_SZ, command or launch_command())
            else:
                try:
                    reg.DeleteValue(key, VALUE_NAME)
                except FileNotFoundError:
                    pass  # already off
    except OSError as exc:
        raise AutostartError(f"cannot change HKCU\\{RUN_KEY}: {exc}") from exc
