"""The app icon: drawn files in resources/icons, a real multi-size .ico, used as the window icon, and
the Linux menu entry that points at it."""

from __future__ import annotations

import configparser
import importlib.util
import struct
import subprocess
import sys
from pathlib import Path

from PySide6.QtGui import QImage, QImageReader

from magnus_desktop.services.paths import resource_path
from magnus_desktop.widgets.icons import app_icon

ROOT = Path(__file__).resolve().parents[2]


def _load(path: Path, name: str):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_ico_holds_every_size_with_transparent_corners_and_opaque_middle(qapp) -> None:
    path = resource_path("icons", "magnus.ico")
    raw = path.read_bytes()
    reserved, kind, count = struct.unpack("<HHH", raw[:6])
    assert (reserved, kind) == (0, 1) and count >= 5
    reader = QImageReader(str(path))
    sizes = []
    for i in range(reader.imageCount()):
        reader.jumpToImage(i)
        img = reader.read()
        assert not img.isNull(), reader.errorString()
        sizes.append(img.width())
        assert img.pixelColor(0, 0).alpha() == 0  # rounded corner
        assert img.pixelColor(img.width() // 4, img.height() // 2).alpha() == 255
    assert {16, 32, 48, 256} <= set(sizes)


def test_pngs_match_their_names_and_build_the_app_icon(qapp) -> None:
    pngs = sorted(resource_path("icons").glob("magnus-*.png"))
    assert len(pngs) >= 6
    for png in pngs:
        px = int(png.stem.rsplit("-", 1)[1])
        img = QImage(str(png))
        assert (img.width(), img.height()) == (px, px)
    icon = app_icon(resource_path("icons"))
    assert not icon.isNull()
    assert {s.width() for s in icon.availableSizes()} == {int(p.stem.rsplit("-", 1)[1]) for p in pngs}
    assert app_icon(ROOT / "no-such-folder").isNull()


def test_the_application_gets_the_icon(qapp) -> None:
    from magnus_desktop.app import create_application

    app = create_application("dark")
    assert not app.windowIcon().isNull()
    assert app.desktopFileName() == "magnus-desktop"


def test_make_icons_redraws_the_committed_files(tmp_path: Path) -> None:
    """The committed art comes from installer/make_icons.py (so it can be changed and rebuilt)."""
    code = ("import sys, pathlib; sys.path.insert(0, 'installer'); import make_icons as m; "
            f"m.OUT = pathlib.Path({str(tmp_path)!r}); sys.exit(m.main())")
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True, capture_output=True, timeout=120)
    for made in tmp_path.iterdir():
        committed = resource_path("icons", made.name)
        assert committed.is_file(), made.name
        assert QImage(str(made)).size() == QImage(str(committed)).size() or made.suffix == ".ico"
    assert (tmp_path / "magnus.ico").read_bytes()[:6] == resource_path("icons", "magnus.ico").read_bytes()[:6]


def test_linux_desktop_entry_installs_with_icons(tmp_path: Path) -> None:
    mod = _load(ROOT / "installer" / "linux" / "install_desktop_entry.py", "install_desktop_entry")
    written = mod.install(tmp_path, "/opt/Magnus Desktop/MagnusDesktop")
    entry = tmp_path / "share" / "applications" / "magnus-desktop.desktop"
    parser = configparser.ConfigParser(interpolation=None)
    parser.optionxform = str
    parser.read(entry, encoding="utf-8")
    section = parser["Desktop Entry"]
    assert section["Type"] == "Application" and section["Name"] == "Magnus Desktop"
    assert section["Exec"] == '"/opt/Magnus Desktop/MagnusDesktop" %U'
    assert section["TryExec"] == "/opt/Magnus Desktop/MagnusDesktop"
    icon_name = section["Icon"]
    for png in resource_path("icons").glob("magnus-*.png"):
        px = png.stem.rsplit("-", 1)[1]
        installed = tmp_path / "share" / "icons" / "hicolor" / f"{px}x{px}" / "apps" / f"{icon_name}.png"
        assert installed in written and installed.read_bytes() == png.read_bytes()
