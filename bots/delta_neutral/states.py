"""The delta neutral bot's two state machines: the long straddle's and the short strangle's.

Each lifecycle has its own enum and table of legal transitions; any (state, trigger) pair
missing from a table is a programming error and raises `IllegalTransition`.

Straddle: FLAT -> (WAITING_ENTRY <-> FLAT) -> OPENING -> HOLDING -> RECENTER_CLOSING ->
RECENTER_OPENING -> HOLDING ... -> CLOSING -> FLAT, with PARTIAL for one filled leg of a
straddle that has no shorts against it (its missing leg is bought on a later check) and
CLOSE_STUCK for a close that did not complete.

Strangle: NONE -> OPENING -> HOLDING -> ROLL_CLOSING -> ROLL_OPENING -> HOLDING ... ->
CLOSING -> NONE, with CLOSE_STUCK likewise. A half-filled strangle is never kept: its naked
short is closed (PARTIAL_FILL leads to CLOSING).
"""

from __future__ import annotations

from enum import StrEnum
from typing import TypeVar


class StraddleState(StrEnum):
    FLAT = "flat"  # no long straddle
    WAITING_ENTRY = "waiting_entry"  # an entry gate (VIX, FOMC) holds; re-checked each loop
    OPENING = "opening"  # OpenPosition sent; waiting for the executor's report
    PARTIAL = "partial"  # one leg held, no shorts: the missing leg is bought next
    HOLDING = "holding"  # both legs held
    RECENTER_CLOSING = "recenter_closing"  # closing the old straddle to buy one at the money
    RECENTER_OPENING = "recenter_opening"  # buying the new straddle, same expiry
    CLOSING = "closing"  # closing for good (DTE exit, emergency, restart)
    CLOSE_STUCK = "close_stuck"  # alert: a close did not complete; re-issued


class StrangleState(StrEnum):
    NONE = "none"  # no short strangle
    OPENING = "opening"  # selling the strangle
    HOLDING = "holding"  # both shorts held
    ROLL_CLOSING = "roll_closing"  # buying back the old shorts of a roll
    ROLL_OPENING = "roll_opening"  # selling the new shorts of a roll
    CLOSING = "closing"  # buying back for good (challenged side, exit, naked short)
    CLOSE_STUCK = "close_stuck"  # alert: a close did not complete; re-issued


class Trigger(StrEnum):
    GATE_BLOCKED = "gate_blocked"
    GATE_CLEARED = "gate_cleared"
    ORDER_SENT = "order_sent"
    FILLED = "filled"
    PARTIAL_FILL = "partial_fill"
    FAILED = "failed"
    RECENTER = "recenter"
    ROLL = "roll"
    CLOSED = "closed"
    EXIT = "exit"
    STUCK = "stuck"
    EXPIRED = "expired"
    LEG_LOST = "leg_lost"  # a held leg vanished at the broker (assignment, manual trade)
    GIVE_UP = "give_up"  # a recenter's new straddle will not be bought (the cutoff, an exit)
    RESTORE_HOLDING = "restore_holding"
    RESTORE_PARTIAL = "restore_partial"
    RESTORE_CLOSE = "restore_close"


D = StraddleState
G = StrangleState
T = Trigger

STRADDLE_TRANSITIONS: dict[tuple[StraddleState, Trigger], StraddleState] = {
    (D.FLAT, T.GATE_BLOCKED): D.WAITING_ENTRY,
    (D.WAITING_ENTRY, T.GATE_BLOCKED): D.WAITING_ENTRY,
    (D.WAITING_ENTRY, T.GATE_CLEARED): D.FLAT,
    (D.FLAT, T.ORDER_SENT): D.OPENING,
    (D.PARTIAL, T.ORDER_SENT): D.OPENING,  # buying the missing leg
    (D.OPENING, T.FILLED): D.HOLDING,
    (D.OPENING, T.PARTIAL_FILL): D.PARTIAL,
    (D.OPENING, T.FAILED): D.FLAT,
    (D.HOLDING, T.RECENTER): D.RECENTER_CLOSING,
    (D.RECENTER_CLOSING, T.CLOSED): D.RECENTER_OPENING,
    (D.RECENTER_CLOSING, T.STUCK): D.CLOSE_STUCK,
    (D.RECENTER_OPENING, T.FILLED): D.HOLDING,
    (D.RECENTER_OPENING, T.PARTIAL_FILL): D.PARTIAL,
    # A failed (or unwound) buy of the new straddle is tried again after the cooldown, the
    # shorts kept, until the recenter cutoff or an exit gives up.
    (D.RECENTER_OPENING, T.FAILED): D.RECENTER_OPENING,
    (D.RECENTER_OPENING, T.GIVE_UP): D.FLAT,
    (D.HOLDING, T.EXIT): D.CLOSING,
    (D.PARTIAL, T.EXIT): D.CLOSING,
    (D.OPENING, T.EXIT): D.CLOSING,  # entry outcome unknown: close what the broker shows
    (D.RECENTER_OPENING, T.EXIT): D.CLOSING,
    (D.CLOSING, T.CLOSED): D.FLAT,
    (D.CLOSING, T.STUCK): D.CLOSE_STUCK,
    (D.CLOSE_STUCK, T.STUCK): D.CLOSE_STUCK,
    (D.CLOSE_STUCK, T.CLOSED): D.FLAT,
    (D.HOLDING, T.LEG_LOST): D.PARTIAL,
    (D.PARTIAL, T.LEG_LOST): D.FLAT,
    # restore() starts from a fresh FLAT machine
    (D.FLAT, T.RESTORE_HOLDING): D.HOLDING,
    (D.FLAT, T.RESTORE_PARTIAL): D.PARTIAL,
    (D.FLAT, T.RESTORE_CLOSE): D.CLOSING,
}

STRANGLE_TRANSITIONS: dict[tuple[StrangleState, Trigger], StrangleState] = {
    (G.NONE, T.ORDER_SENT): G.OPENING,
    (G.OPENING, T.FILLED): G.HOLDING,
    (G.OPENING, T.PARTIAL_FILL): G.CLOSING,  # never keep a naked short
    (G.OPENING, T.FAILED): G.NONE,
    (G.HOLDING, T.ROLL): G.ROLL_CLOSING,
    (G.ROLL_CLOSING, T.CLOSED): G.ROLL_OPENING,
    (G.ROLL_CLOSING, T.STUCK): G.CLOSE_STUCK,
    (G.ROLL_OPENING, T.FILLED): G.HOLDING,
    (G.ROLL_OPENING, T.PARTIAL_FILL): G.CLOSING,
    (G.ROLL_OPENING, T.FAILED): G.NONE,
    (G.HOLDING, T.EXPIRED): G.NONE,
    (G.HOLDING, T.EXIT): G.CLOSING,
    (G.OPENING, T.EXIT): G.CLOSING,
    (G.ROLL_OPENING, T.EXIT): G.CLOSING,
    (G.CLOSING, T.CLOSED): G.NONE,
    (G.CLOSING, T.STUCK): G.CLOSE_STUCK,
    (G.CLOSE_STUCK, T.STUCK): G.CLOSE_STUCK,
    (G.CLOSE_STUCK, T.CLOSED): G.NONE,
    (G.HOLDING, T.LEG_LOST): G.CLOSING,  # never keep a naked short
    (G.NONE, T.RESTORE_HOLDING): G.HOLDING,
    (G.NONE, T.RESTORE_CLOSE): G.CLOSING,
}

# States in which an order of the lifecycle is in flight (a restart must reconcile them).
STRADDLE_TRANSIENT = frozenset(
    {D.OPENING, D.RECENTER_CLOSING, D.RECENTER_OPENING, D.CLOSING, D.CLOSE_STUCK}
)
STRANGLE_TRANSIENT = frozenset(
    {G.OPENING, G.ROLL_CLOSING, G.ROLL_OPENING, G.CLOSING, G.CLOSE_STUCK}
)


class IllegalTransition(RuntimeError):
    """A trigger fired in a state where the table has no transition (a bug)."""


StateT = TypeVar("StateT", StraddleState, StrangleState)


def next_state(
    table: dict[tuple[StateT, Trigger], StateT], state: StateT, trigger: Trigger
) -> StateT:
    """The state `trigger` leads to from `state` in `table`; raises IllegalTransition if none."""
    try:
        return table[(state, trigger)]
    except KeyError:
        raise IllegalTransition(f"no transition from {state} on {trigger}") from None
