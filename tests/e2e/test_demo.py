"""`calypso demo` as a real process: the simulator in-process, the iron fly as a child process.

The e2e runs use a faster clock than the default (300x instead of 40x) so a whole opening range,
entry and 60-minute hold take about 20 real seconds (a trial at 600x saw no trade that day: 300x
leaves room on a loaded machine). Checks are made against the journal with
`shared.journal.Journal` and recomputed here from the fills, not copied from the demo's output.
"""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from shared.cli import demo_cmd
from shared.cli.main import main
from shared.demo import catalog
from shared.demo.catalog import probe_all
from shared.demo.home import DemoHome
from shared.demo.process import StopResult
from shared.demo.summary import DemoSummary, render, summarize_bot
from shared.journal import FillSide, Journal, OpenClose, TradeRecord
from shared.runtime.strategy_loader import strategy_factory_for

BOT = "iron_fly_0dte"
ROOT = Path(__file__).resolve().parents[2]
FAST = ["--speed", "300"]
SIM_COMMISSION_PER_CONTRACT = Decimal("0.65")  # SimConfig's default, which the demo keeps
MULTIPLIER = 100  # SPX options: USD 100 per index point


def _demo(home: Path, *args: str, **env: str) -> subprocess.Popen[str]:
    environ = {**os.environ, "CALYPSO_HOME": str(home), **env}
    for name in ("CALYPSO_TEST_STRATEGY", "CALYPSO_TEST_CRASH_AT", "NOTIFY_SOCKET"):
        if name not in env:
            environ.pop(name, None)
    return subprocess.Popen(
        [sys.executable, "-m", "shared.cli", "demo", *args],
        cwd=ROOT, env=environ, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip


def _finish(proc: subprocess.Popen[str], timeout_s: float) -> tuple[int, str, str]:
    try:
        out, err = proc.communicate(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
        raise AssertionError(f"demo did not finish in {timeout_s}s:\n{err[-3000:]}") from None
    return proc.returncode, out, err


def _journal_trades(home: Path) -> list[TradeRecord]:
    with Journal.open_readonly(home / "data" / f"{BOT}.sqlite") as journal:
        return journal.trades()


def _pnl_from_fills(trade: TradeRecord) -> Decimal:
    total = Decimal(0)
    for fill in trade.fills:
        gross = fill.price * MULTIPLIER * fill.quantity
        total += (gross if fill.side is FillSide.SELL else -gross) - fill.commission_usd
    return total


@pytest.mark.e2e
def test_demo_summary_matches_the_journal(tmp_path: Path) -> None:
    code, out, err = _finish(_demo(tmp_path, *FAST, "--bots", BOT, "--json"), 110)

    assert code == 0, err[-3000:]
    summary = json.loads(out)
    (bot,) = summary["bots"]
    assert bot["bot"] == BOT and bot["exit_code"] == 0 and not bot["died"]
    trades = _journal_trades(tmp_path)
    assert trades, "the default day must show at least one iron fly trade"
    shown = {row["trade_id"]: row for row in bot["trades"]}
    assert set(shown) == {trade.trade_id for trade in trades}
    for trade in trades:
        opening = [f for f in trade.fills if f.open_close is OpenClose.OPEN]
        closing = [f for f in trade.fills if f.open_close is OpenClose.CLOSE]
        assert len(opening) == 4 and len(closing) == 4
        assert trade.exit_reason
        assert all(f.commission_usd == SIM_COMMISSION_PER_CONTRACT * f.quantity
                   for f in trade.fills)  # fmt: skip
        pnl = _pnl_from_fills(trade)
        row = shown[trade.trade_id]
        assert Decimal(str(row["pnl_usd"])) == pnl.quantize(Decimal("0.01"))
        assert row["exit_reason"] == trade.exit_reason
        assert (row["opening_fills"], row["closing_fills"]) == (4, 4)
    assert bot["journal"] == str(tmp_path / "data" / f"{BOT}.sqlite")
    # Progress went to stderr as plain lines (not a terminal: no live table, no colour codes).
    progress = [line for line in err.splitlines() if line.startswith("demo 2026-03-02")]
    assert len(progress) >= 3 and any("in_position" in line for line in progress)
    assert "\x1b[" not in err
    # `calypso journal BOT` reads the demo's trades afterwards.
    listed = subprocess.run(
        [sys.executable, "-m", "shared.cli", "journal", BOT, "--json"],
        cwd=ROOT, env={**os.environ, "CALYPSO_HOME": str(tmp_path)},
        capture_output=True, text=True, timeout=30,
    )  # fmt: skip
    assert [t["trade_id"] for t in json.loads(listed.stdout)["trades"]] == sorted(shown)


def test_the_text_summary_shows_a_dead_bot_and_its_last_output(tmp_path: Path) -> None:
    home = DemoHome(tmp_path)
    dead = summarize_bot(
        BOT, home=home, result=StopResult(-signal.SIGKILL, None, killed=False),
        stopped_by_demo=False, last_output=["Traceback: boom"],
    )  # fmt: skip
    summary = DemoSummary(
        seed=7, days=1, speed=40.0, sim_start=datetime(2026, 3, 2, 14, 25, tzinfo=UTC),
        sim_end=None, ended_because="every bot process exited", interrupted=False,
        bots=(dead,), home=tmp_path,
    )  # fmt: skip
    console = Console(file=io.StringIO(), width=120)

    render(summary, console)

    text = console.file.getvalue()  # type: ignore[attr-defined]
    assert f"{BOT}: the process DIED (exit code -9)" in text
    assert "Traceback: boom" in text
    assert summary.any_died


@pytest.mark.e2e
def test_a_bot_that_dies_is_reported(tmp_path: Path) -> None:
    # The local-only crash hook SIGKILLs the bot right after its first entry leg fills.
    # FAST's clock: at 400x a real second of start-up jitter is 6.7 simulated minutes, enough
    # for the opening range to begin late and the day to be skipped before any leg fills.
    proc = _demo(tmp_path, *FAST, "--bots", BOT, "--json", CALYPSO_TEST_CRASH_AT="after_leg:1")
    code, out, err = _finish(proc, 90)

    assert code == 1
    (bot,) = json.loads(out)["bots"]
    assert bot["died"] and bot["exit_code"] == -signal.SIGKILL
    assert "DIED" in err


@pytest.mark.e2e
def test_ctrl_c_stops_the_bots_and_the_demo_cleanly(tmp_path: Path) -> None:
    proc = _demo(tmp_path, "--bots", BOT, "--json")
    deadline = time.monotonic() + 40
    journal = tmp_path / "data" / f"{BOT}.sqlite"
    while not journal.exists() and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.2)
    time.sleep(1.0)
    proc.send_signal(signal.SIGINT)
    code, out, err = _finish(proc, 30)

    assert code == 130, err[-3000:]
    summary: dict[str, Any] = json.loads(out)
    (bot,) = summary["bots"]
    assert summary["interrupted"] and bot["exit_code"] == 0 and not bot["died"]
    assert bot["stop_seconds"] < 10.0


def test_a_journal_the_demo_did_not_create_is_never_touched(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    journal = tmp_path / "data" / f"{BOT}.sqlite"
    journal.parent.mkdir(parents=True)
    journal.write_bytes(b"a real bot's journal")
    monkeypatch.setenv("CALYPSO_HOME", str(tmp_path))

    code = main(["demo", "--bots", BOT])

    assert code == 2
    assert journal.read_bytes() == b"a real bot's journal"
    assert str(journal) in capsys.readouterr().err


def test_asking_for_a_bot_without_a_strategy_is_refused_by_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # Every bot has a strategy now: point the loader at a class that does not exist for one.
    real = catalog.bot_strategy_factory
    monkeypatch.setattr(catalog, "bot_strategy_factory", lambda bot: strategy_factory_for(
        bot, "NoSuchStrategy") if bot == "rolling_put_diagonal" else real(bot))
    missing = [a.bot for a in probe_all() if not a.implemented]
    assert missing == ["rolling_put_diagonal"]
    monkeypatch.setenv("CALYPSO_HOME", str(tmp_path))

    code = main(["demo", "--bots", missing[0]])

    assert code == 2
    assert missing[0] in capsys.readouterr().err
    assert not (tmp_path / "data").exists()


def test_by_default_the_demo_runs_the_bots_that_end_their_day_flat() -> None:
    # A bot holding overnight never settles for the day, so by default it would keep every
    # demo day running to the close; it is listed with how to add it instead.
    bots, skipped = demo_cmd._select_bots(None)
    assert bots == ("iron_fly_0dte",)
    assert set(skipped) == {"delta_neutral", "rolling_put_diagonal"}
    assert all("--bots" in why and "overnight" in why for why in skipped.values())
    chosen, _ = demo_cmd._select_bots(("iron_fly_0dte", "delta_neutral"))
    assert chosen == ("iron_fly_0dte", "delta_neutral")
