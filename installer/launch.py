"""Entry point frozen by PyInstaller (same as the ``magnus-desktop`` console script)."""

import sys

from magnus_desktop.cli import main
from magnus_desktop.services.desktop.console import attach_parent_console

if __name__ == "__main__":
    attach_parent_console(sys.argv)  # Windows: the GUI exe's commands print in cmd / PowerShell
    sys.exit(main())
