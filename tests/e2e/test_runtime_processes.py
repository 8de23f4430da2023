"""The bot runtime as REAL processes against the simulator: SIGKILL at each step of a 4-leg
entry and during a close, restart, and check that broker and journal agree; SIGTERM; sd_notify.

The bot runs `calypso run iron_fly_0dte --env local` with the probe strategy
(CALYPSO_TEST_STRATEGY=probe) and is killed by the local-only crash hook (CALYPSO_TEST_CRASH_AT).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from shared.journal import Journal

pytestmark = pytest.mark.e2e

BOT = "iron_fly_0dte"
START = datetime(2026, 3, 2, 9, 50, tzinfo=ZoneInfo("America/New_York"))
ROOT = Path(__file__).resolve().parents[2]
# The probe's hold: 30 simulated seconds, 1.5 s real at 20x (the close is what is tested).
PROBE_HOLD_MINUTES = "0.5"


@pytest.fixture
def server(sim_factory: Callable[..., Any]) -> Any:
    return sim_factory(start=START, speed=20.0)


class Bot:
    """One bot process; its output goes to a file under the test's CALYPSO_HOME."""

    def __init__(self, server: Any, home: Path, **env: str) -> None:
        self.home = home
        self.log = home / f"bot-{time.monotonic_ns()}.log"
        environ = {
            **os.environ,
            "CALYPSO_HOME": str(home),
            "CALYPSO_TEST_STRATEGY": "probe",
            "CALYPSO_PROBE_HOLD_MINUTES": PROBE_HOLD_MINUTES,
            **env,
        }
        environ.pop("NOTIFY_SOCKET", None) if "NOTIFY_SOCKET" not in env else None
        with self.log.open("w") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "shared.cli", "run", BOT, "--env", "local",
                 "--sim-url", server.base_url],
                cwd=ROOT, env=environ, stdout=out, stderr=subprocess.STDOUT,
            )  # fmt: skip

    def wait(self, timeout_s: float) -> int:
        try:
            return self.proc.wait(timeout_s)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            raise AssertionError(f"bot did not exit in {timeout_s}s:\n{self.tail()}") from None

    def terminate(self) -> tuple[int, float]:
        started = time.monotonic()
        self.proc.send_signal(signal.SIGTERM)
        code = self.wait(15)
        return code, time.monotonic() - started

    def tail(self) -> str:
        return "\n".join(self.log.read_text().splitlines()[-40:])


@pytest.fixture
def home(tmp_path: Path) -> Iterator[Path]:
    yield tmp_path


def _journal(home: Path) -> Journal:
    return Journal.open_readonly(home / "data" / f"{BOT}.sqlite")


def _state(home: Path) -> str | None:
    path = home / "data" / f"{BOT}.sqlite"
    if not path.exists():
        return None
    try:
        with _journal(home) as journal:
            saved = journal.load_state(BOT)
    except Exception:
        return None
    return None if saved is None else saved.state


def _until(predicate: Callable[[], bool], timeout_s: float, bot: Bot | None = None) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError(f"condition not met in {timeout_s}s\n{bot.tail() if bot else ''}")


def _sim_held(server: Any) -> dict[int, Decimal]:
    rows = server.call(lambda s: list(s.exchange.portfolio.positions.values()))
    return {p.uic: Decimal(p.amount) for p in rows if p.amount != 0}


def _opening_orders(server: Any) -> dict[int, int]:
    """How many orders opened each uic (its first side), from the simulator's activities."""
    rows = server.call(lambda s: list(s.exchange.activities))
    first_side: dict[int, str] = {}
    counts: dict[int, set[str]] = {}
    for row in rows:
        if row.status not in ("FinalFill", "Fill"):
            continue
        side = first_side.setdefault(row.uic, row.buy_sell)
        if row.buy_sell == side:
            counts.setdefault(row.uic, set()).add(row.order_id)
    return {uic: len(ids) for uic, ids in counts.items()}


def _assert_agrees(server: Any, home: Path) -> None:
    assert _sim_held(server) == {}
    with _journal(home) as journal:
        assert journal.open_trades() == []
        assert journal.intents_without_outcome() == []
        trades = journal.trades()
        assert trades and all(t.is_flat for t in trades)
    assert all(count == 1 for count in _opening_orders(server).values())


@pytest.mark.parametrize(
    "crash_at", ["after_leg:1", "after_leg:2", "after_send:3", "after_leg:3", "after_leg:4"]
)
def test_sigkill_during_entry_then_restart_leaves_no_orphan_and_no_duplicate(
    server: Any, home: Path, crash_at: str
) -> None:
    first = Bot(server, home, CALYPSO_TEST_CRASH_AT=crash_at)
    assert first.wait(40) == -signal.SIGKILL, first.tail()
    legs_done = int(crash_at.split(":")[1])
    assert len(_sim_held(server)) == legs_done

    second = Bot(server, home)
    _until(lambda: _state(home) == "done" and not _sim_held(server), 60, second)
    code, _ = second.terminate()

    assert code == 0, second.tail()
    _assert_agrees(server, home)
    with _journal(home) as journal:
        assert len(journal.trades()) == 1  # the interrupted intent was never entered again


def test_sigkill_during_close_then_restart_finishes_the_close(server: Any, home: Path) -> None:
    first = Bot(server, home, CALYPSO_TEST_CRASH_AT="close_after_leg:2")
    assert first.wait(60) == -signal.SIGKILL, first.tail()
    assert len(_sim_held(server)) == 2

    second = Bot(server, home)
    _until(lambda: _state(home) == "done" and not _sim_held(server), 60, second)
    code, _ = second.terminate()

    assert code == 0, second.tail()
    _assert_agrees(server, home)
    with _journal(home) as journal:
        (trade,) = journal.trades()
        assert trade.exit_reason == "hold_time" and len(trade.fills) == 8


def test_sigterm_exits_zero_within_ten_seconds_with_state_persisted(
    server: Any, home: Path
) -> None:
    bot = Bot(server, home, CALYPSO_PROBE_HOLD_MINUTES="600")
    _until(lambda: _state(home) == "holding", 40, bot)

    code, took = bot.terminate()

    assert code == 0, bot.tail()
    assert took < 10.0
    with _journal(home) as journal:
        saved = journal.load_state(BOT)
        assert saved is not None and saved.state == "holding"
        assert saved.payload["runtime"]["jobs"] == []
        assert len(journal.open_trades()) == 1
    assert "runtime_stopped" in bot.log.read_text()


def test_sd_notify_sends_ready_and_watchdog_on_a_real_socket(server: Any, home: Path) -> None:
    address = str(home / "notify.sock")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(address)
    sock.settimeout(1.0)
    bot = Bot(server, home, NOTIFY_SOCKET=address)
    got: list[str] = []
    deadline = time.monotonic() + 40
    try:
        while time.monotonic() < deadline and not {"READY=1", "WATCHDOG=1"} <= set(got):
            try:
                got.append(sock.recv(4096).decode())
            except TimeoutError:
                continue
    finally:
        code, _ = bot.terminate()
        sock.close()

    assert "READY=1" in got, bot.tail()
    assert "WATCHDOG=1" in got
    assert got.index("READY=1") < got.index("WATCHDOG=1")
    assert code == 0
