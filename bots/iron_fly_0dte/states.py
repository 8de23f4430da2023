"""The iron fly's lifecycles: states, triggers and the table of legal transitions of each.

Two lifecycles run a day (`entry.py`, `position.py`); the day's state, as saved and reported by
`state_name()`, is derived from them (`day_state`). A day reads
idle -> opening_range -> entry_pending -> entering -> in_position -> closing -> done, with
close_stuck as the alert state of a close that did not complete. Any (state, trigger) pair
missing from a table is a programming error and raises `IllegalTransition`.
"""

from __future__ import annotations

from enum import StrEnum

from shared.strategy.transitions import IllegalTransition

__all__ = ["IllegalTransition"]


class IronFlyState(StrEnum):
    """The day's state (saved as `state`; what `state_name()` reports)."""

    IDLE = "idle"  # before the opening range (or a non-trading day)
    OPENING_RANGE = "opening_range"  # recording high/low and VIX until the entry time
    ENTRY_PENDING = "entry_pending"  # filters passed; waiting for usable legs within the window
    ENTERING = "entering"  # OpenPosition sent; waiting for the executor's report
    IN_POSITION = "in_position"  # fly open and protected on every decide
    CLOSING = "closing"  # ClosePosition sent; waiting for `closed`
    CLOSE_STUCK = "close_stuck"  # alert: the close did not complete; re-issued on a schedule
    DONE = "done"  # no more trading today


# Day states in which the bot holds, builds or unwinds a position.
POSITION_STATES = frozenset({IronFlyState.ENTERING, IronFlyState.IN_POSITION,
                             IronFlyState.CLOSING, IronFlyState.CLOSE_STUCK})
# Day states a new trading day resets from (nothing open).
FLAT_STATES = frozenset({IronFlyState.IDLE, IronFlyState.OPENING_RANGE,
                         IronFlyState.ENTRY_PENDING, IronFlyState.DONE})


class EntryState(StrEnum):
    """The day's entry: opening range -> decision -> order -> filled, or over."""

    IDLE = "idle"
    OPENING_RANGE = "opening_range"
    ENTRY_PENDING = "entry_pending"
    ENTERING = "entering"
    FILLED = "filled"  # the fly is the position lifecycle's
    OVER = "over"  # skipped, failed, or its legs handed to a close before the report


class EntryTrigger(StrEnum):
    RANGE_START = "range_start"
    NO_RANGE = "no_range"
    FILTERS_PASSED = "filters_passed"
    SKIP = "skip"
    ORDER_SENT = "order_sent"
    ENTRY_FILLED = "entry_filled"
    ENTRY_FAILED = "entry_failed"
    HANDED_TO_CLOSE = "handed_to_close"  # the legs are being closed before a final report
    RESTORE_RANGE = "restore_range"
    RESTORE_PENDING = "restore_pending"
    RESTORE_ENTERING = "restore_entering"
    RESTORE_FILLED = "restore_filled"
    RESTORE_OVER = "restore_over"


E, ET = EntryState, EntryTrigger
ENTRY_TRANSITIONS: dict[tuple[EntryState, EntryTrigger], EntryState] = {
    (E.IDLE, ET.RANGE_START): E.OPENING_RANGE,
    (E.IDLE, ET.NO_RANGE): E.OVER,  # started after the entry time, or no prices
    (E.OPENING_RANGE, ET.FILTERS_PASSED): E.ENTRY_PENDING,
    (E.OPENING_RANGE, ET.SKIP): E.OVER,
    (E.ENTRY_PENDING, ET.ORDER_SENT): E.ENTERING,
    (E.ENTRY_PENDING, ET.SKIP): E.OVER,
    (E.ENTERING, ET.ENTRY_FILLED): E.FILLED,
    (E.ENTERING, ET.ENTRY_FAILED): E.OVER,
    (E.ENTERING, ET.HANDED_TO_CLOSE): E.OVER,
    # restore() starts from a fresh IDLE entry
    (E.IDLE, ET.RESTORE_RANGE): E.OPENING_RANGE,
    (E.IDLE, ET.RESTORE_PENDING): E.ENTRY_PENDING,
    (E.IDLE, ET.RESTORE_ENTERING): E.ENTERING,
    (E.IDLE, ET.RESTORE_FILLED): E.FILLED,
    (E.IDLE, ET.RESTORE_OVER): E.OVER,
}


class PositionState(StrEnum):
    """The fly held and its close (or a close of legs that are not a fly of ours)."""

    FLAT = "flat"
    IN_POSITION = "in_position"
    CLOSING = "closing"
    CLOSE_STUCK = "close_stuck"
    CLOSED = "closed"


class PositionTrigger(StrEnum):
    OPENED = "opened"  # the entry filled
    EXIT = "exit"
    CLOSED = "closed"
    STUCK = "stuck"
    RESTORE_POSITION = "restore_position"
    RESTORE_CLOSE = "restore_close"


P, PT = PositionState, PositionTrigger
POSITION_TRANSITIONS: dict[tuple[PositionState, PositionTrigger], PositionState] = {
    (P.FLAT, PT.OPENED): P.IN_POSITION,
    # from flat: legs left over at a rollover, an entry filled after it was given up, or the
    # planned fly closed before the entry's final report
    (P.FLAT, PT.EXIT): P.CLOSING,
    (P.IN_POSITION, PT.EXIT): P.CLOSING,
    (P.CLOSING, PT.CLOSED): P.CLOSED,
    (P.CLOSING, PT.STUCK): P.CLOSE_STUCK,
    (P.CLOSE_STUCK, PT.STUCK): P.CLOSE_STUCK,
    (P.CLOSE_STUCK, PT.CLOSED): P.CLOSED,
    (P.CLOSED, PT.EXIT): P.CLOSING,  # an entry fill reported after the day's close
    # restore() starts from a fresh FLAT position
    (P.FLAT, PT.RESTORE_POSITION): P.IN_POSITION,
    (P.FLAT, PT.RESTORE_CLOSE): P.CLOSING,
}

_ENTRY_DAY_STATE = {
    E.IDLE: IronFlyState.IDLE,
    E.OPENING_RANGE: IronFlyState.OPENING_RANGE,
    E.ENTRY_PENDING: IronFlyState.ENTRY_PENDING,
    E.ENTERING: IronFlyState.ENTERING,
    E.FILLED: IronFlyState.DONE,
    E.OVER: IronFlyState.DONE,
}
_POSITION_DAY_STATE = {
    P.IN_POSITION: IronFlyState.IN_POSITION,
    P.CLOSING: IronFlyState.CLOSING,
    P.CLOSE_STUCK: IronFlyState.CLOSE_STUCK,
    P.CLOSED: IronFlyState.DONE,
}


def day_state(entry: EntryState, position: PositionState) -> IronFlyState:
    """The day's state: the position's while it is not flat, else the entry's."""
    if position is P.FLAT:
        return _ENTRY_DAY_STATE[entry]
    return _POSITION_DAY_STATE[position]
