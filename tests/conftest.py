"""Shared fixtures: `simulator` (a started local Saxo simulator) and `sim_factory` (custom configs).

`simulator` runs with a fixed seed and rate limits OFF; mark a test with
`@pytest.mark.sim_config(rate_limits=True, ...)` to pass other SimConfig fields, or use
`sim_factory(**fields)` to start as many simulators as a test needs. Every server listens on an
ephemeral loopback port and is stopped at teardown.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from shared.saxo_sim.config import SimConfig
from shared.saxo_sim.server import SimServer

TEST_SEED = 7


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "sim_config(**fields): SimConfig fields for the `simulator` fixture"
    )


def _run_order(item: pytest.Item) -> int:
    """0: real processes (e2e), 1: a simulator on its accelerated clock, 2: everything else."""
    if item.get_closest_marker("e2e") is not None:
        return 0
    fixtures = set(getattr(item, "fixturenames", ()))
    return 1 if fixtures & {"simulator", "sim_factory", "module_sim_factory"} else 2


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Run the long tests (seconds of real time each) first, in their collected order.

    pytest-xdist hands tests to its workers in this order, one at a time (`--maxschedchunk=1`
    in pyproject.toml: its default first chunk would give one worker every long test), so the
    long ones start early on both workers and the many short ones fill both at the end.
    """
    items.sort(key=_run_order)


def start_simulator(**fields: Any) -> SimServer:
    """A started SimServer with test defaults (seed 7, rate limits off) overridden by `fields`."""
    values: dict[str, Any] = {"seed": TEST_SEED, "rate_limits": False}
    values.update(fields)
    server = SimServer(SimConfig(**values))
    server.start()
    return server


def _simulators() -> Iterator[Callable[..., SimServer]]:
    servers: list[SimServer] = []

    def make(**fields: Any) -> SimServer:
        server = start_simulator(**fields)
        servers.append(server)
        return server

    yield make
    for server in servers:
        server.stop()


@pytest.fixture
def sim_factory() -> Iterator[Callable[..., SimServer]]:
    """Call with SimConfig fields to get a started simulator; all are stopped afterwards."""
    yield from _simulators()


@pytest.fixture(scope="module")
def module_sim_factory() -> Iterator[Callable[..., SimServer]]:
    """`sim_factory` for module-scoped fixtures: one scenario run shared by the tests that
    assert different things of it; the simulators stop after the module's last test."""
    yield from _simulators()


@pytest.fixture
def simulator(request: pytest.FixtureRequest) -> Iterator[SimServer]:
    """A started simulator (seed 7, rate limits off unless `sim_config` marks say otherwise)."""
    marker = request.node.get_closest_marker("sim_config")
    fields = dict(marker.kwargs) if marker is not None else {}
    server = start_simulator(**fields)
    try:
        yield server
    finally:
        server.stop()
