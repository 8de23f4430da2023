"""Three processes share one CALYPSO_HOME token cache against 3-second tokens for 16 seconds.

16 s at 3 s tokens is five expiries (about seven refreshes at 20% before each): enough to see the
processes take turns refreshing, with one refresh per expiry for all three, without a minute of
real waiting in the default suite.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import requests

from shared.cli.main import main as calypso
from tests.integration.saxo_client.conftest import MARKET_OPEN_START

REPO = Path(__file__).resolve().parents[2]
SECONDS = 16
TOKEN_LIFETIME_S = 3


@pytest.mark.e2e
@pytest.mark.timeout(120)
def test_three_processes_keep_working_with_zero_rejected_refreshes(
    sim_factory: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = sim_factory(start=MARKET_OPEN_START, token_lifetime_s=TOKEN_LIFETIME_S)
    monkeypatch.setenv("CALYPSO_HOME", str(tmp_path))
    assert calypso(["auth", "login", "--env", "local", "--sim-url", server.base_url]) == 0
    env = {**os.environ, "CALYPSO_HOME": str(tmp_path), "PYTHONPATH": str(REPO)}

    workers = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tests.e2e.token_worker",
                "--sim-url",
                server.base_url,
                "--seconds",
                str(SECONDS),
            ],
            cwd=REPO,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(3)
    ]
    results = [worker.communicate(timeout=SECONDS + 60) for worker in workers]

    summaries = [json.loads(out.strip().splitlines()[-1]) for out, _ in results]
    for worker, summary, (_, err) in zip(workers, summaries, results, strict=True):
        assert worker.returncode == 0, (summary, err[-2000:])
        assert summary["rest_ok"] > SECONDS  # about three polls a second
        assert summary["stream_updates_last_quarter"] > 0  # the stream still flows at the end
        assert summary["reauthorizations"] >= SECONDS / TOKEN_LIFETIME_S / 2
    stats = requests.get(f"{server.base_url}/sim/v1/stats", timeout=5).json()
    assert stats["refresh_grants_rejected"] == 0
    # One refresh per expiry for all three processes together (each token is refreshed when
    # 20% of its 3 s remain, so about every 2.4 s), not one per process.
    refreshes = stats["token_grants"].get("refresh_token", 0)
    assert SECONDS / 2.4 * 0.8 <= refreshes <= SECONDS / 2.4 * 1.25
