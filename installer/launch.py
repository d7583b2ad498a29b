"""Entry point frozen by PyInstaller (same as the ``magnus-desktop`` console script)."""

import sys

from magnus_desktop.cli import main

if __name__ == "__main__":
    sys.exit(main())
