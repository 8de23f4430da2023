"""The toolkit's transition-table lookup: a legal move, an illegal one, reachability."""

from __future__ import annotations

from enum import StrEnum

import pytest

from shared.strategy.transitions import IllegalTransition, next_state, reachable


class Light(StrEnum):
    OFF = "off"
    ON = "on"
    BROKEN = "broken"


class Switch(StrEnum):
    PRESS = "press"
    SMASH = "smash"


TABLE = {
    (Light.OFF, Switch.PRESS): Light.ON,
    (Light.ON, Switch.PRESS): Light.OFF,
    (Light.ON, Switch.SMASH): Light.BROKEN,
}


def test_a_pair_in_the_table_gives_its_next_state() -> None:
    assert next_state(TABLE, Light.OFF, Switch.PRESS) is Light.ON


def test_a_pair_missing_from_the_table_raises_naming_state_and_trigger() -> None:
    with pytest.raises(IllegalTransition, match="no transition from off on smash"):
        next_state(TABLE, Light.OFF, Switch.SMASH)


def test_reachable_follows_the_table_from_the_start() -> None:
    assert reachable(TABLE, Light.OFF) == set(Light)
    assert reachable(TABLE, Light.BROKEN) == {Light.BROKEN}
