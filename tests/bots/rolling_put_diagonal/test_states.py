"""The campaign's transition table: every state is reachable and can be left."""

from __future__ import annotations

import pytest

from bots.rolling_put_diagonal.states import (
    TRANSITIONS,
    CampaignState,
    IllegalTransition,
    Trigger,
    next_state,
)


def test_every_state_is_reachable_from_flat() -> None:
    reached = {CampaignState.FLAT}
    frontier = [CampaignState.FLAT]
    while frontier:
        state = frontier.pop()
        for (source, _), target in TRANSITIONS.items():
            if source == state and target not in reached:
                reached.add(target)
                frontier.append(target)

    assert reached == set(CampaignState)


@pytest.mark.parametrize("state", list(CampaignState))
def test_every_state_has_a_way_out(state: CampaignState) -> None:
    assert any(source == state for source, _ in TRANSITIONS)


def test_an_illegal_trigger_raises_naming_the_state() -> None:
    with pytest.raises(IllegalTransition, match="roll_short is not allowed in state flat"):
        next_state(CampaignState.FLAT, Trigger.ROLL_SHORT)


def test_a_failed_long_roll_keeps_the_old_diagonal() -> None:
    # The new long is bought first: when that fails the old long still covers the short.
    assert next_state(CampaignState.ROLLING_LONG, Trigger.ROLL_FAILED) == CampaignState.OPEN
