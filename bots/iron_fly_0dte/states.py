"""The iron fly's one state machine: states, triggers and the table of legal transitions.

A day runs IDLE -> OPENING_RANGE -> ENTRY_PENDING -> ENTERING -> IN_POSITION -> CLOSING -> DONE,
with CLOSE_STUCK as the alert state of a close that did not complete. Any (state, trigger) pair
missing from `TRANSITIONS` is a programming error and raises `IllegalTransition`.
"""

from __future__ import annotations

from enum import StrEnum


class IronFlyState(StrEnum):
    IDLE = "idle"  # before the opening range (or a non-trading day)
    OPENING_RANGE = "opening_range"  # recording high/low and VIX until the entry time
    ENTRY_PENDING = "entry_pending"  # filters passed; waiting for usable legs within the window
    ENTERING = "entering"  # OpenPosition sent; waiting for the executor's report
    IN_POSITION = "in_position"  # fly open and protected on every decide
    CLOSING = "closing"  # ClosePosition sent; waiting for `closed`
    CLOSE_STUCK = "close_stuck"  # alert: the close did not complete; re-issued on a schedule
    DONE = "done"  # no more trading today


class Trigger(StrEnum):
    RANGE_START = "range_start"
    NO_RANGE = "no_range"
    FILTERS_PASSED = "filters_passed"
    SKIP = "skip"
    ORDER_SENT = "order_sent"
    ENTRY_FILLED = "entry_filled"
    ENTRY_FAILED = "entry_failed"
    EXIT = "exit"
    CLOSED = "closed"
    STUCK = "stuck"
    NEW_DAY = "new_day"
    RESTORE_RANGE = "restore_range"
    RESTORE_PENDING = "restore_pending"
    RESTORE_ENTERING = "restore_entering"
    RESTORE_POSITION = "restore_position"
    RESTORE_CLOSE = "restore_close"
    RESTORE_DONE = "restore_done"


S = IronFlyState
T = Trigger

TRANSITIONS: dict[tuple[IronFlyState, Trigger], IronFlyState] = {
    (S.IDLE, T.RANGE_START): S.OPENING_RANGE,
    (S.IDLE, T.NO_RANGE): S.DONE,  # started after the entry time, or no prices
    (S.IDLE, T.NEW_DAY): S.IDLE,
    (S.OPENING_RANGE, T.FILTERS_PASSED): S.ENTRY_PENDING,
    (S.OPENING_RANGE, T.SKIP): S.DONE,
    (S.OPENING_RANGE, T.NEW_DAY): S.IDLE,
    (S.ENTRY_PENDING, T.ORDER_SENT): S.ENTERING,
    (S.ENTRY_PENDING, T.SKIP): S.DONE,
    (S.ENTRY_PENDING, T.NEW_DAY): S.IDLE,
    (S.ENTERING, T.ENTRY_FILLED): S.IN_POSITION,
    (S.ENTERING, T.ENTRY_FAILED): S.DONE,
    (S.ENTERING, T.EXIT): S.CLOSING,  # entry outcome unknown: close what the broker shows
    (S.IN_POSITION, T.EXIT): S.CLOSING,
    (S.CLOSING, T.CLOSED): S.DONE,
    (S.CLOSING, T.STUCK): S.CLOSE_STUCK,
    (S.CLOSE_STUCK, T.STUCK): S.CLOSE_STUCK,
    (S.CLOSE_STUCK, T.CLOSED): S.DONE,
    (S.DONE, T.NEW_DAY): S.IDLE,
    (S.IDLE, T.EXIT): S.CLOSING,  # option legs left over at a day rollover
    (S.DONE, T.EXIT): S.CLOSING,  # an entry filled after it was given up
    # restore() starts from a fresh IDLE machine
    (S.IDLE, T.RESTORE_RANGE): S.OPENING_RANGE,
    (S.IDLE, T.RESTORE_PENDING): S.ENTRY_PENDING,
    (S.IDLE, T.RESTORE_ENTERING): S.ENTERING,
    (S.IDLE, T.RESTORE_POSITION): S.IN_POSITION,
    (S.IDLE, T.RESTORE_CLOSE): S.CLOSING,
    (S.IDLE, T.RESTORE_DONE): S.DONE,
}

# States in which the bot holds, builds or unwinds a position.
POSITION_STATES = frozenset({S.ENTERING, S.IN_POSITION, S.CLOSING, S.CLOSE_STUCK})
# States a new trading day resets from (nothing open).
FLAT_STATES = frozenset({S.IDLE, S.OPENING_RANGE, S.ENTRY_PENDING, S.DONE})


class IllegalTransition(RuntimeError):
    """A trigger fired in a state where the table has no transition (a bug)."""


def next_state(state: IronFlyState, trigger: Trigger) -> IronFlyState:
    """The state `trigger` leads to from `state`; raises IllegalTransition if none."""
    try:
        return TRANSITIONS[(state, trigger)]
    except KeyError:
        raise IllegalTransition(f"no transition from {state} on {trigger}") from None
