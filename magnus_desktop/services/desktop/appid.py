"""The Windows AppUserModelID: groups our windows on the task bar under our icon and names the sender
of tray notifications "Magnus Desktop" instead of "python.exe".

Source: https://learn.microsoft.com/windows/win32/shell/appids (SetCurrentProcessExplicitAppUserModelID
must be called before the first window is shown).
"""

from __future__ import annotations

import logging
import sys
from typing import Any

APP_USER_MODEL_ID = "Magnus.MagnusDesktop"
log = logging.getLogger(__name__)


def set_app_user_model_id(app_id: str = APP_USER_MODEL_ID, shell32: Any | None = None) -> bool:
    """Set the process's explicit AppUserModelID. True when set; False off Windows or when the call
    failed (logged: a missing app id only changes how the task bar groups windows).

    Args:
        app_id: ``Company.Product`` (at most 128 characters, no spaces).
        shell32: ``ctypes.windll.shell32`` or a stand-in (tests).
    """
    if shell32 is None:
        if sys.platform != "win32":
            return False
        import ctypes

        shell32 = ctypes.windll.shell32  # type: ignore[attr-defined]
    try:
        result = shell32.SetCurrentProcessExplicitAppUserModelID(app_id)
    except (OSError, AttributeError) as exc:
        log.warning("could not set the Windows app id %s: %s", app_id, exc)
        return False
    if result != 0:  # an HRESULT: 0 = S_OK
        log.warning("could not set the Windows app id %s: HRESULT 0x%08x", app_id, result & 0xFFFFFFFF)
        return False
    return True
