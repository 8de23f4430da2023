"""`calypso saxo ...` and `calypso token-keeper` against the simulator."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from shared.cli.main import main
from shared.cli.token_keeper_cmd import keep_fresh
from shared.clock import WallClock
from tests.integration.saxo_client.conftest import MARKET_OPEN_START, coordinator_for, sim_stats

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture
def logged_in(open_market_sim: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    monkeypatch.setenv("CALYPSO_HOME", str(tmp_path))
    monkeypatch.setenv("CALYPSO_SIM_URL", open_market_sim.base_url)
    assert main(["auth", "login", "--env", "local"]) == 0
    return ["--env", "local", "--json"]


def run_json(args: list[str], capsys: pytest.CaptureFixture[str]) -> Any:
    capsys.readouterr()
    assert main(args) == 0
    return json.loads(capsys.readouterr().out)


def test_quote_json_for_vix(logged_in: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    quote = run_json(["saxo", "quote", "VIX", *logged_in], capsys)

    assert quote["uic"] == 10606 and quote["bid"] is None and float(quote["last"]) > 0


def test_chain_json_lists_expiries_then_contracts(
    logged_in: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    chain = run_json(["saxo", "chain", "SPXW", *logged_in], capsys)
    expiry = chain["expiries"][0]

    one = run_json(["saxo", "chain", "SPXW", "--expiry", expiry, *logged_in], capsys)

    assert chain["asset_type"] == "StockIndexOption"
    assert one["contracts"] and all(c["expiry"] == expiry for c in one["contracts"])


def test_positions_and_orders_json_are_lists(
    logged_in: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert run_json(["saxo", "positions", *logged_in], capsys) == []
    assert run_json(["saxo", "orders", *logged_in], capsys) == []


def test_stream_json_prints_one_object_per_update_as_it_arrives(
    logged_in: list[str], tmp_path: Path
) -> None:
    command = [sys.executable, "-m", "shared.cli", "saxo", "stream", "SPX", "--seconds", "3",
               *logged_in]  # fmt: skip
    # A pipe is block-buffered: only the command's own flush sends a line before it ends.
    env = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}
    with subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True) as proc:
        assert proc.stdout is not None
        first = proc.stdout.readline()
        still_running = proc.poll() is None
        rest = proc.stdout.read().splitlines()
        code = proc.wait(30)

    assert still_running, "the first update came only when the command ended"
    updates = [json.loads(line) for line in [first, *rest]]
    assert code == 0
    assert len(updates) >= 2 and all(u["uic"] == 4913 and u["quote"] for u in updates)


def test_numeric_uic_without_asset_type_is_a_clear_error(
    logged_in: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["saxo", "quote", "4913", *logged_in])

    assert code == 2 and "--asset-type" in capsys.readouterr().err


def test_quote_without_login_fails_with_a_login_hint(
    open_market_sim: Any,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("CALYPSO_HOME", str(tmp_path))

    code = main(["saxo", "quote", "SPX", "--env", "local", "--sim-url", open_market_sim.base_url])

    assert code == 1
    assert "calypso auth login --env local" in capsys.readouterr().err


def test_token_keeper_refreshes_short_tokens_without_rejections(
    sim_factory: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = sim_factory(start=MARKET_OPEN_START, token_lifetime_s=2)
    monkeypatch.setenv("CALYPSO_HOME", str(tmp_path))
    assert main(["auth", "login", "--env", "local", "--sim-url", server.base_url]) == 0
    coordinator = coordinator_for(server, tmp_path / "data" / "saxo_token_cache.json")
    stop = threading.Event()
    keeper = threading.Thread(
        target=keep_fresh, args=(coordinator,), kwargs={"clock": WallClock(), "stop": stop}
    )

    keeper.start()
    deadline = time.monotonic() + 10
    while coordinator.refresh_count < 2 and time.monotonic() < deadline:  # about 3.2 s
        time.sleep(0.05)
    stop.set()
    keeper.join(5)

    assert coordinator.refresh_count >= 2
    cached = coordinator.cached()
    assert cached is not None and cached.access_expires_at > WallClock().now()
    assert sim_stats(server)["refresh_grants_rejected"] == 0


def test_an_unlisted_expiry_is_an_error_naming_the_listed_ones(
    logged_in: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    listed = run_json(["saxo", "chain", "SPXW", *logged_in], capsys)["expiries"]

    code = main(["saxo", "chain", "SPXW", "--expiry", "2020-01-01", *logged_in])

    err = capsys.readouterr().err
    assert code == 1
    assert "expiry 2020-01-01 is not listed for SPXW" in err and listed[0] in err


def test_plain_chain_output_off_a_terminal_keeps_every_digit(
    logged_in: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    plain_args = [arg for arg in logged_in if arg != "--json"]
    expiry = run_json(["saxo", "chain", "SPXW", *logged_in], capsys)["expiries"][0]
    contracts = run_json(["saxo", "chain", "SPXW", "--expiry", expiry, *logged_in], capsys)

    assert main(["saxo", "chain", "SPXW", "--expiry", expiry, *plain_args]) == 0

    lines = capsys.readouterr().out.splitlines()
    header = lines[0].split("\t")
    uics = {line.split("\t")[header.index("uic")] for line in lines[1:]}
    assert uics == {str(c["uic"]) for c in contracts["contracts"]}
    assert not any("…" in line or "..." in line for line in lines)
