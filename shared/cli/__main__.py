"""`python -m shared.cli` runs the `calypso` command."""

import sys

from shared.cli.main import main

sys.exit(main())
