import sys

from magnus_desktop.cli import main

sys.exit(main())
