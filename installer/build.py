"""Build the desktop bundle: ``python installer/build.py`` -> ``dist/MagnusDesktop/``.

Installs the ``installer`` extra (PyInstaller) into the current environment if it is missing, then
runs PyInstaller on ``installer/magnus_desktop.spec``. On Windows the result is a folder with
``MagnusDesktop.exe``; zip it or wrap it with an MSI/Inno Setup script for distribution.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> int:
    if importlib.util.find_spec("PyInstaller") is None:
        subprocess.check_call([sys.executable, "-m", "pip", "install", "-q", "-e", f"{ROOT}[installer]"])
    return subprocess.call([sys.executable, "-m", "PyInstaller", "--noconfirm", "--distpath", str(ROOT / "dist"),
                            "--workpath", str(ROOT / "build"), str(ROOT / "installer" / "magnus_desktop.spec")])


if __name__ == "__main__":
    sys.exit(main())
