"""`python -m bots.delta_neutral`: run the bot (see main.py)."""

import sys

from bots.delta_neutral.main import main

sys.exit(main())
