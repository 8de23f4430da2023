"""Client-side pacing per environment: off only against the local simulator."""

from __future__ import annotations

import pytest

from shared.runtime.startup import client_rate_limits


def test_local_simulator_runs_the_client_unpaced() -> None:
    limits = client_rate_limits("local")

    assert limits is not None and limits.enabled is False


@pytest.mark.parametrize("env", ["sim", "live"])
def test_saxo_environments_keep_the_default_pacing(env: str) -> None:
    assert client_rate_limits(env) is None  # None -> the client's default RateLimits (enabled)
