"""When a bot is settled for a demo day, so the demo may skip the rest of the session or end.

Two kinds of bot, two rules (times are simulated; days are New York dates):

- A bot that ends its day flat (the iron fly) is settled on `day` once it saved its "no more
  trading today" state (`DAY_DONE_STATES`) that day with no open trade and no order intent
  without an outcome.
- A bot that holds overnight (`HOLDS_OVERNIGHT` on its strategy class: Delta Neutral, the Put
  Diagonal) never reaches such a state. On days before the demo's last it is never settled, so
  those days run to the close and its scheduled work happens (Delta Neutral's roll of the
  shorts from 15:00 ET on Thursday, the Put Diagonal's daily short roll at 12:00 ET). On the
  LAST day it is settled once it holds a position (an open trade), has no order intent
  without an outcome (nothing in flight), and its saved state has not moved for `STEADY_FOR`
  (no state change and no order since). The demo then stops it with its
  positions left open; the summary lists them as held.

A bot whose journal cannot be read is never settled.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from shared.demo.status import DAY_DONE_STATES, BotView

# Simulated time a holding bot's state must stay unchanged (no state save, no order) before the
# demo's last day may end: longer than the pause between two legs of one entry (an order's
# fill check, the next loop) so a bot still building its position is not cut short.
STEADY_FOR = timedelta(minutes=10)


def is_settled(
    view: BotView, *, day: date, now: datetime, holds_overnight: bool, last_day: bool
) -> bool:
    """Whether `view`'s bot is settled on New York `day` at simulated `now` (tz-aware); see
    the module docstring for the two rules."""
    if view.problem is not None or view.unresolved_intents:
        return False
    if not holds_overnight:
        return view.state in DAY_DONE_STATES and view.state_day == day and view.open_trades == 0
    return (
        last_day
        and view.open_trades > 0
        and view.state_since is not None
        and now - view.state_since >= STEADY_FOR
    )
