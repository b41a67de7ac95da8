"""``python -m romdeck``: the headless command line."""

import sys

from romdeck.cli import main

sys.exit(main())
