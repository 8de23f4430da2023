"""`python -m bots.iron_fly_0dte`: run the bot (see main.py)."""

import sys

from bots.iron_fly_0dte.main import main

sys.exit(main())
