"""Service state: systemd when the unit is installed, else the single-instance lock."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from shared.health.service import selected_bots, service_state
from shared.instance_lock import InstanceLock
from tests.shared.health.factories import FakeSystemd, active_unit


def test_installed_unit_state_and_pid_come_from_systemd(tmp_path: Path) -> None:
    probe = FakeSystemd({"delta_neutral.service": active_unit(4242)})
    state = service_state("delta_neutral", home=tmp_path, probe=probe)
    assert (state.source, state.running, state.pid) == ("systemd", True, 4242)
    assert state.state == "active (running)"


def test_unit_restarting_after_a_crash_is_not_running(tmp_path: Path) -> None:
    probe = FakeSystemd(
        {
            "delta_neutral.service": {
                "LoadState": "loaded",
                "ActiveState": "activating",
                "SubState": "auto-restart",
                "MainPID": "0",
            }
        }
    )
    state = service_state("delta_neutral", home=tmp_path, probe=probe)
    assert (state.running, state.pid, state.state) == (False, None, "activating (auto-restart)")


def test_without_a_unit_a_held_lock_means_running_with_the_holders_pid(tmp_path: Path) -> None:
    with InstanceLock("iron_fly_0dte", tmp_path):
        state = service_state("iron_fly_0dte", home=tmp_path, probe=FakeSystemd())
    assert (state.source, state.running, state.pid) == ("lock", True, os.getpid())


def test_without_a_unit_or_lock_the_bot_is_not_running(tmp_path: Path) -> None:
    state = service_state("iron_fly_0dte", home=tmp_path, probe=FakeSystemd())
    assert (state.source, state.running, state.pid) == ("lock", False, None)
    assert not (tmp_path / "data").exists(), "probing must not create files"


def test_bot_selection_defaults_to_all_bots_in_canonical_order() -> None:
    assert selected_bots(None, {}) == ["iron_fly_0dte", "delta_neutral", "rolling_put_diagonal"]


def test_bot_selection_from_the_environment_keeps_canonical_order() -> None:
    env = {"CALYPSO_BOTS": "rolling_put_diagonal, iron_fly_0dte"}
    assert selected_bots(None, env) == ["iron_fly_0dte", "rolling_put_diagonal"]


def test_bot_selection_flag_wins_over_the_environment() -> None:
    assert selected_bots(["delta_neutral"], {"CALYPSO_BOTS": "iron_fly_0dte"}) == ["delta_neutral"]


def test_unknown_bot_is_named_with_the_valid_ones() -> None:
    with pytest.raises(ValueError, match=r"unknown bot 'iron_fly' in --bot; valid bots: iron_fly"):
        selected_bots(["iron_fly"], {})
