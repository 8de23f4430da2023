"""Login and token refresh against the simulator."""

from __future__ import annotations

import json
import stat
import time
from pathlib import Path
from typing import Any

import pytest

from shared.cli.main import main
from shared.saxo_client.errors import TokenError
from tests.integration.saxo_client.conftest import coordinator_for, sim_stats


def test_cli_login_against_the_simulator_stores_a_0600_cache(
    simulator: Any,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("CALYPSO_HOME", str(tmp_path))

    code = main(["auth", "login", "--env", "local", "--sim-url", simulator.base_url])

    assert code == 0
    cache = tmp_path / "data" / "saxo_token_cache.json"
    assert stat.S_IMODE(cache.stat().st_mode) == 0o600
    entry = json.loads(cache.read_text())["environments"]["local"]
    assert entry["refresh_token"]
    out = capsys.readouterr().out
    assert entry["access_token"] not in out and entry["refresh_token"] not in out


def test_auth_status_reports_expiry_without_token_values(
    simulator: Any,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("CALYPSO_HOME", str(tmp_path))
    assert main(["auth", "login", "--env", "local", "--sim-url", simulator.base_url]) == 0
    capsys.readouterr()

    code = main(["auth", "status", "--env", "local", "--sim-url", simulator.base_url, "--json"])

    facts = json.loads(capsys.readouterr().out)
    assert code == 0 and facts["logged_in"] is True
    assert facts["lifetime_s"] == pytest.approx(1200, abs=2)
    assert "access_token" not in facts


def test_short_lived_tokens_are_refreshed_once_per_expiry(
    sim_factory: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = sim_factory(token_lifetime_s=2)
    monkeypatch.setenv("CALYPSO_HOME", str(tmp_path))
    assert main(["auth", "login", "--env", "local", "--sim-url", server.base_url]) == 0
    coordinator = coordinator_for(server, tmp_path / "data" / "saxo_token_cache.json")
    seen = {coordinator.access_token()}

    deadline = time.monotonic() + 4
    while time.monotonic() < deadline:
        seen.add(coordinator.access_token())
        time.sleep(0.05)

    assert sim_stats(server)["refresh_grants_rejected"] == 0
    assert 2 <= coordinator.refresh_count <= 3  # every 1.6 s (20% of 2 s left) over 4 s
    assert len(seen) == coordinator.refresh_count + 1


def test_used_refresh_token_is_rejected_with_a_login_hint(
    simulator: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CALYPSO_HOME", str(tmp_path))
    assert main(["auth", "login", "--env", "local", "--sim-url", simulator.base_url]) == 0
    cache = tmp_path / "data" / "saxo_token_cache.json"
    stale = cache.read_text()
    coordinator = coordinator_for(simulator, cache)
    coordinator.force_refresh(coordinator.access_token())
    cache.write_text(stale)  # a cache rolled back to the spent refresh token

    other = coordinator_for(simulator, cache)
    with pytest.raises(TokenError, match="refused"):
        other.force_refresh(other.access_token())
