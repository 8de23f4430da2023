"""`python -m bots.rolling_put_diagonal`: run the bot (see main.py)."""

import sys

from bots.rolling_put_diagonal.main import main

sys.exit(main())
