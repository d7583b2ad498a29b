"""The wheel is the product: built from a copy of the checkout, installed into a fresh venv outside it,
and the installed ``magnus-desktop --screenshot`` draws the window from the wheel's own resources.

The venv reuses the test environment's third-party packages (a ``.pth`` line naming its
site-packages; nested ``.pth`` files there, such as the editable install of this checkout, are not
processed, so only the wheel provides ``magnus_desktop``) and the wheel goes in with ``--no-deps``.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
import sysconfig
import venv
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRATCH = ("build", "dist", ".venv", "__pycache__", "*.egg-info", ".pytest_cache", ".ruff_cache", ".git")


def _build_wheel(out: Path, work: Path) -> Path:
    """``pip wheel`` (isolated build: setuptools from pyproject's build-system) of a copy of the tracked
    tree, so the checkout gets no build/ or egg-info."""
    src = work / "src"
    shutil.copytree(ROOT, src, ignore=shutil.ignore_patterns(*SCRATCH))
    proc = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(out), str(src)],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    wheels = list(out.glob("magnus_desktop-*.whl"))
    assert len(wheels) == 1, wheels
    return wheels[0]


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(wheel, venv) with the wheel installed; both outside the checkout."""
    base = tmp_path_factory.mktemp("wheel")
    wheel = _build_wheel(base / "dist", base)
    env_dir = base / "venv"
    venv.create(env_dir, with_pip=False)
    py = env_dir / "bin" / "python"
    site = Path(subprocess.check_output([str(py), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                                        text=True).strip())
    (site / "shared_test_env.pth").write_text(sysconfig.get_paths()["purelib"] + "\n", encoding="utf-8")
    # --force-reinstall and a neutral cwd: the shared environment (and an egg-info in a checkout) already
    # list magnus_desktop 0.1.0, and pip would call the wheel "already satisfied"
    proc = subprocess.run([sys.executable, "-m", "pip", "--python", str(py), "install", "--no-deps", "--force-reinstall",
                           "-q", str(wheel)], capture_output=True, text=True, timeout=300, cwd=base)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return wheel, env_dir


def test_wheel_ships_resources_icons_and_migrations(installed: tuple[Path, Path]) -> None:
    wheel, _env = installed
    names = set(zipfile.ZipFile(wheel).namelist())
    tracked = subprocess.check_output(["git", "ls-files", "resources"], cwd=ROOT, text=True).split()
    for path in tracked:
        assert f"magnus_desktop/{path}" in names, path
    assert any(n.startswith("magnus_desktop/models/migrations/versions/") for n in names)


def test_installed_app_screenshots_from_its_own_resources(installed: tuple[Path, Path], tmp_path: Path) -> None:
    _wheel, env_dir = installed
    clean = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")}
    clean |= {"QT_QPA_PLATFORM": "offscreen", "MAGNUS_DESKTOP_HOME": str(tmp_path / "home")}
    py = env_dir / "bin" / "python"
    where = subprocess.check_output(
        [str(py), "-c", "import magnus_desktop.services.paths as p; print(p.__file__); print(p.resource_path('icons', 'magnus.ico'));"
         "print(p.resource_path('data', 'LICENSES.md'))"], cwd=tmp_path, env=clean, text=True).split()
    for path in where:
        assert Path(path).is_file(), path
        assert Path(path).is_relative_to(env_dir), where  # the wheel's code and resources, not the checkout's
    shot = tmp_path / "shot.png"
    proc = subprocess.run([str(env_dir / "bin" / "magnus-desktop"), "--screenshot", str(shot), "--replay-date",
                           "2018-02-06"], cwd=tmp_path, env=clean, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-3000:]
    assert shot.stat().st_size > 50_000  # a drawn 1680x1000 window, not an empty image
    # the migrations ran and the demo account was opened from the wheel's bundled replay data
    db = sqlite3.connect(tmp_path / "home" / "data" / "magnus.sqlite3")
    try:
        assert db.execute("SELECT version_num FROM alembic_version").fetchone()
        fills = db.execute("SELECT count(*) FROM fills").fetchone()[0]
    finally:
        db.close()
    assert fills > 0
    log_text = (tmp_path / "home" / "logs" / "magnus-desktop.log").read_text(encoding="utf-8")
    assert "services started" in log_text
