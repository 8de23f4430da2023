"""Transition tables of a bot's lifecycles: one lookup, and the error an illegal move raises.

A lifecycle's table maps (state, trigger) to the next state; a pair missing from the table is a
programming error, never a silent no-op.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import Enum
from typing import TypeVar

StateT = TypeVar("StateT", bound=Enum)
TriggerT = TypeVar("TriggerT", bound=Enum)


class IllegalTransition(RuntimeError):
    """A trigger fired in a state where the table has no transition (a bug)."""


def next_state(table: Mapping[tuple[StateT, TriggerT], StateT], state: StateT,
               trigger: TriggerT) -> StateT:
    """The state `trigger` leads to from `state` in `table`; raises IllegalTransition if none."""
    try:
        return table[(state, trigger)]
    except KeyError:
        raise IllegalTransition(
            f"no transition from {state.value} on {trigger.value}") from None


def reachable(table: Mapping[tuple[StateT, TriggerT], StateT], start: StateT) -> set[StateT]:
    """Every state `table` can reach from `start` (`start` included)."""
    seen, todo = {start}, [start]
    while todo:
        state = todo.pop()
        for (source, _), target in table.items():
            if source is state and target not in seen:
                seen.add(target)
                todo.append(target)
    return seen
