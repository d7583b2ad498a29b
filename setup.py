"""Build hook: ship the top-level ``resources/`` folder inside the wheel as ``magnus_desktop/resources``.

Everything else about the package is in ``pyproject.toml``. Editable installs read ``resources/``
from the checkout instead (``magnus_desktop.services.paths.RESOURCES_DIR``).
"""

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent


class BuildPyWithResources(build_py):
    def run(self) -> None:
        super().run()
        if self.editable_mode:
            return
        target = Path(self.build_lib) / "magnus_desktop" / "resources"
        shutil.copytree(ROOT / "resources", target, dirs_exist_ok=True,
                        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))


setup(cmdclass={"build_py": BuildPyWithResources})
