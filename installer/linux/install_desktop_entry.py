"""Install the Linux menu entry and icons of Magnus Desktop (freedesktop.org layout).

    python installer/linux/install_desktop_entry.py [--prefix ~/.local] [--exec /opt/MagnusDesktop/MagnusDesktop]

Copies ``installer/linux/magnus-desktop.desktop`` to ``PREFIX/share/applications/`` (``Exec=`` and
``TryExec=`` pointing at ``--exec`` when given, e.g. the PyInstaller bundle's executable; else the
``magnus-desktop`` script on PATH) and each ``resources/icons/magnus-<px>.png`` to
``PREFIX/share/icons/hicolor/<px>x<px>/apps/magnus-desktop.png``. Per-user by default (no root).
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
DESKTOP_FILE = HERE / "magnus-desktop.desktop"
ICON_NAME = "magnus-desktop"


def desktop_entry_text(exec_path: str | None) -> str:
    """The ``.desktop`` file's text, with ``Exec``/``TryExec`` set to ``exec_path`` when given."""
    lines = DESKTOP_FILE.read_text(encoding="utf-8").splitlines()
    if exec_path:
        quoted = f'"{exec_path}"' if " " in exec_path else exec_path
        lines = [f"Exec={quoted} %U" if ln.startswith("Exec=") else
                 f"TryExec={exec_path}" if ln.startswith("TryExec=") else ln for ln in lines]
    return "\n".join(lines) + "\n"


def install(prefix: Path, exec_path: str | None = None, icons_dir: Path = ROOT / "resources" / "icons") -> list[Path]:
    """Write the menu entry and the icons under ``prefix``; returns the files written.

    Raises:
        FileNotFoundError: no ``magnus-<px>.png`` in ``icons_dir``.
        OSError: ``prefix`` cannot be written.
    """
    icons = sorted(icons_dir.glob("magnus-*.png"))
    if not icons:
        raise FileNotFoundError(f"no magnus-<px>.png icons in {icons_dir}")
    written: list[Path] = []
    apps = prefix / "share" / "applications"
    apps.mkdir(parents=True, exist_ok=True)
    entry = apps / DESKTOP_FILE.name
    entry.write_text(desktop_entry_text(exec_path), encoding="utf-8")
    written.append(entry)
    for icon in icons:
        px = icon.stem.rsplit("-", 1)[1]
        target = prefix / "share" / "icons" / "hicolor" / f"{px}x{px}" / "apps" / f"{ICON_NAME}.png"
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(icon, target)
        written.append(target)
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--prefix", type=Path, default=Path.home() / ".local")
    parser.add_argument("--exec", dest="exec_path", help="the program to start (default: magnus-desktop on PATH)")
    args = parser.parse_args(argv)
    for path in install(args.prefix, args.exec_path):
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
