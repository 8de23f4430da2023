"""Fixtures of the Delta Neutral scenarios: `make_day` starts a scripted simulator day."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from shared.saxo_sim.server import SimServer
from tests.scenarios.iron_fly.harness import Day, start_day


@pytest.fixture
def make_day(sim_factory: Callable[..., SimServer], tmp_path: Path) -> Callable[..., Day]:
    """`make_day(day=..., start=..., speed=..., vix=..., level=..., **SimConfig)`."""

    def make(**options: Any) -> Day:
        return start_day(sim_factory, tmp_path, **options)

    return make
