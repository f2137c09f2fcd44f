"""`python -m digitlab` runs the command line."""

import sys

from digitlab.cli import main

sys.exit(main())
