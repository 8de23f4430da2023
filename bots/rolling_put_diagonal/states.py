"""The campaign's lifecycle: one enum and its transition table; an illegal move raises.

A campaign is a long put (about 14 DTE) with a short ATM put sold against it and rolled once a
trading day. States say what the bot is doing, never what it hopes: a roll in flight is its own
state until the executor reports, so a restart can tell a finished roll from an interrupted one.
"""

from __future__ import annotations

from enum import StrEnum


class CampaignState(StrEnum):
    FLAT = "flat"  # no campaign; entry rules are checked
    WAITING_EVENT = "waiting_event"  # closed for an FOMC/earnings event; no entry until it passes
    OPENING = "opening"  # buying the long put, then selling the short
    OPEN = "open"  # long held (short held, or to be sold)
    ROLLING_SHORT = "rolling_short"  # buying back the short, then selling the next one
    ROLLING_LONG = "rolling_long"  # buying a new ~-0.33 delta put, then selling the old long
    CLOSING = "closing"  # closing the campaign: short first, then long
    CLOSE_STUCK = "close_stuck"  # a close could not complete; re-issued, entries blocked


class Trigger(StrEnum):
    ENTER = "enter"
    OPENED = "opened"
    ENTRY_FAILED = "entry_failed"
    ROLL_SHORT = "roll_short"
    ROLL_LONG = "roll_long"
    ROLLED = "rolled"
    ROLL_FAILED = "roll_failed"
    CLOSE = "close"
    CLOSED = "closed"
    CLOSED_FOR_EVENT = "closed_for_event"
    STUCK = "stuck"
    EVENT_PASSED = "event_passed"
    ADOPT = "adopt"  # a restart found a campaign at the broker


S, T = CampaignState, Trigger

TRANSITIONS: dict[tuple[CampaignState, Trigger], CampaignState] = {
    (S.FLAT, T.ENTER): S.OPENING,
    (S.FLAT, T.ADOPT): S.OPEN,
    (S.OPENING, T.OPENED): S.OPEN,
    (S.OPENING, T.ENTRY_FAILED): S.FLAT,
    (S.OPENING, T.CLOSE): S.CLOSING,  # the short could not be sold and the long must go too
    (S.OPEN, T.ROLL_SHORT): S.ROLLING_SHORT,
    (S.OPEN, T.ROLL_LONG): S.ROLLING_LONG,
    (S.OPEN, T.CLOSE): S.CLOSING,
    (S.ROLLING_SHORT, T.ROLLED): S.OPEN,
    (S.ROLLING_SHORT, T.ROLL_FAILED): S.OPEN,  # long-only: the short is sold on a later pass
    (S.ROLLING_SHORT, T.CLOSE): S.CLOSING,
    (S.ROLLING_LONG, T.ROLLED): S.OPEN,
    # the new long is bought before the old one is sold: a failed buy leaves the old diagonal
    (S.ROLLING_LONG, T.ROLL_FAILED): S.OPEN,
    (S.ROLLING_LONG, T.CLOSE): S.CLOSING,
    (S.CLOSING, T.CLOSED): S.FLAT,
    (S.CLOSING, T.CLOSED_FOR_EVENT): S.WAITING_EVENT,
    (S.CLOSING, T.STUCK): S.CLOSE_STUCK,
    (S.CLOSE_STUCK, T.CLOSED): S.FLAT,
    (S.CLOSE_STUCK, T.CLOSED_FOR_EVENT): S.WAITING_EVENT,
    (S.WAITING_EVENT, T.EVENT_PASSED): S.FLAT,
    (S.WAITING_EVENT, T.ADOPT): S.OPEN,
}

HOLDING_STATES = frozenset(
    {S.OPENING, S.OPEN, S.ROLLING_SHORT, S.ROLLING_LONG, S.CLOSING, S.CLOSE_STUCK}
)


class IllegalTransition(RuntimeError):
    """A trigger that the current state does not accept: a bug, never ignored."""


def next_state(state: CampaignState, trigger: Trigger) -> CampaignState:
    """The state after `trigger` in `state`; raises IllegalTransition when not in the table."""
    try:
        return TRANSITIONS[(state, trigger)]
    except KeyError:
        raise IllegalTransition(f"{trigger} is not allowed in state {state}") from None
