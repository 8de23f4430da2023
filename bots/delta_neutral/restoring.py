"""Agreement with the broker: rebuilding the lifecycles on a restart and checking, on every
decide, that the legs held are still there (assignment, manual trades) and that nothing else is.

The broker's positions are the truth for WHAT is held (STATE-001/002, DATA-006); the saved
state only contributes the money booked from fills when it names the same contracts.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from bots.delta_neutral import rules
from bots.delta_neutral.lifecycles import StraddleLifecycle, StrangleLifecycle
from bots.delta_neutral.memory import Memory, safety_event
from bots.delta_neutral.states import StraddleState, StrangleState
from shared import market_hours
from shared.domain import Position
from shared.strategy.recovery import BrokerBook, read_book
from shared.strategy_contract import Action, Snapshot


def restore(
    straddle: StraddleLifecycle,
    strangle: StrangleLifecycle,
    memory: Memory,
    saved: Mapping[str, Any] | None,
    positions: Sequence[Position],
    now: datetime,
) -> list[Action]:
    """Load `saved` (ValueError naming the field when corrupt), then take the legs from the
    broker: longs are the straddle, shorts the strangle. A lone short is closed at once
    (never a naked short); any other position is an orphan (safety event, POS-005)."""
    if saved:
        straddle.load(saved.get("straddle"), StraddleState)
        strangle.load(saved.get("strangle"), StrangleState)
        memory.load(saved.get("memory"))
    book = read_book(positions)
    straddle.adopt([leg for leg in book.legs if leg.amount > 0 and leg.expiry is not None])
    strangle.adopt([leg for leg in book.legs if leg.amount < 0 and leg.expiry is not None])
    actions: list[Action] = []
    if strangle.held is not None and not strangle.held.complete:
        intent = memory.next_intent("close_naked_short", now)
        actions.append(strangle.close(intent, "naked_short_on_restart", None))
    state = f"straddle:{straddle.state.value}/strangle:{strangle.state.value}"
    for orphan in _not_options(book):
        actions.append(safety_event(now, "orphan_position", orphan, state))
    return actions


def _not_options(book: BrokerBook) -> list[str]:
    """Positions that cannot be a leg of ours: unreadable as options (shares from an
    assignment, a fractional amount) or without an expiry; never guessed about."""
    no_expiry = [f"uic {leg.uic} amount {leg.amount} (no expiry)" for leg in book.legs
                 if leg.expiry is None]
    return [*book.unreadable, *no_expiry]


BOOK_SETTLE = timedelta(seconds=15)  # runtime clock; > the runtime's 5 s re-read of a mismatch


def check_book(
    straddle: StraddleLifecycle, strangle: StrangleLifecycle, memory: Memory, snap: Snapshot
) -> list[Action]:
    """Legs the broker no longer shows (POS-002/003: early assignment, a manual close) are
    dropped with a safety event (a strangle missing a leg then closes the other); positions
    that are no leg of ours (POS-005: shares from an assignment, a manual trade) raise one
    safety event a day and are left to the operator. Not judged until `BOOK_SETTLE` after this
    bot's last execution report: the runtime reads positions again after a fill, and a
    snapshot taken before it would show a fresh leg as missing or a closed one as an orphan."""
    actions: list[Action] = []
    if memory.book_settles_at is not None and snap.now < memory.book_settles_at:
        return actions  # the snapshot's positions may predate our last fill or close
    book = read_book(snap.positions)
    present = frozenset(leg.uic for leg in book.legs)
    state = f"straddle:{straddle.state.value}/strangle:{strangle.state.value}"
    for cycle in (strangle, straddle):
        lost = cycle.lose_legs(present)
        if lost:
            detail = f"uics {sorted(lost)} missing at the broker (assignment or manual trade)"
            actions.append(safety_event(snap.now, f"{cycle.name}_leg_gone", detail, state))
    in_flight = straddle.intent_id is not None or strangle.intent_id is not None
    ours = frozenset().union(*(c.held.uics for c in (straddle, strangle) if c.held is not None))
    strays = _not_options(book)
    session = market_hours.session(snap.calendar.day)
    if not in_flight:  # an option past its expiry close is being settled, not a stray
        strays += [f"uic {leg.uic} amount {leg.amount}" for leg in book.legs
                   if leg.uic not in ours and leg.expiry is not None
                   and not rules.shorts_expired(expiry=leg.expiry, now=snap.now,
                                                session=session)]  # fmt: skip
    if strays and "orphan_position" not in memory.decisions_today:
        memory.decisions_today.add("orphan_position")
        actions.append(safety_event(snap.now, "orphan_position", ", ".join(strays), state))
    return actions
