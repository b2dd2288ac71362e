"""``python -m infotheory``: see :mod:`infotheory.cli` (no arguments: the demo)."""

import sys

from .cli import main

if __name__ == "__main__":
    sys.exit(main())
