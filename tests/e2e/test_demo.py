"""`calypso demo` as a real process: the simulator in-process, the bots as child processes.

The e2e runs use a faster clock than the default (300x instead of 40x) so a whole opening range,
entry and 60-minute hold take about 20 real seconds (a trial at 600x saw no trade that day: 300x
leaves room on a loaded machine). The default run (all three bots) is the one that checks the
summary against the journals; the others run the iron fly alone. Checks are made against the
journals with `shared.journal.Journal` and recomputed here from the fills, not copied from the
demo's output.
"""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import time
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

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
DN, RPD = "delta_neutral", "rolling_put_diagonal"
FIRST_DAY = date(2026, 3, 19)  # the demo's default first day
NEW_YORK = ZoneInfo("America/New_York")
CENT = Decimal("0.01")
ROOT = Path(__file__).resolve().parents[2]
FAST = ["--speed", "300"]
SIM_COMMISSION_PER_CONTRACT = Decimal("0.65")  # SimConfig's default, which the demo keeps
MULTIPLIER = 100  # SPX, SPY and QQQ options: USD 100 per point


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


def _journal_trades(home: Path, bot: str = BOT) -> list[TradeRecord]:
    with Journal.open_readonly(home / "data" / f"{bot}.sqlite") as journal:
        return journal.trades()


def _pnl_from_fills(trade: TradeRecord) -> Decimal:
    total = Decimal(0)
    for fill in trade.fills:
        gross = fill.price * MULTIPLIER * fill.quantity
        total += (gross if fill.side is FillSide.SELL else -gross) - fill.commission_usd
    return total


def _held_legs(trade: TradeRecord) -> dict[str, int]:
    """Signed contracts still held per leg, summed here from the fills."""
    held: dict[str, int] = {}
    for fill in trade.fills:
        held[fill.leg] = held.get(fill.leg, 0) + (
            fill.quantity if fill.side is FillSide.BUY else -fill.quantity
        )
    return {leg: n for leg, n in held.items() if n}


def _entry_decisions(home: Path, bot: str = BOT) -> str:
    """The bot log's entry decisions and clock jumps: why a day had no trade, on a failure."""
    log = home / "logs" / bot / "bot.log"
    marks = ("opening_range_decision", "entry_skipped", "sim_clock_jump", "state_change")
    lines = log.read_text().splitlines() if log.exists() else []
    return "\n".join(line for line in lines if any(mark in line for mark in marks))


def _ny_day(moment: datetime) -> date:
    return moment.astimezone(NEW_YORK).date()


@pytest.mark.e2e
def test_the_default_demo_runs_every_bot_on_day_one_and_matches_the_journals(
    tmp_path: Path,
) -> None:
    # No --bots: the iron fly, Delta Neutral and the Put Diagonal. The two holding bots are
    # stopped on the (only) day holding their positions, which the journals must show.
    code, out, err = _finish(_demo(tmp_path, *FAST, "--json"), 150)

    assert code == 0, err[-3000:]
    summary = json.loads(out)
    assert [bot["bot"] for bot in summary["bots"]] == [BOT, DN, RPD]
    assert all(bot["exit_code"] == 0 and not bot["died"] for bot in summary["bots"])
    assert summary["ended_because"].startswith("every bot finished day 1 (2026-03-19)")
    rows = {bot["bot"]: {row["trade_id"]: row for row in bot["trades"]}
            for bot in summary["bots"]}  # fmt: skip
    journals = {bot: _journal_trades(tmp_path, bot) for bot in (BOT, DN, RPD)}
    for bot, trades in journals.items():
        assert set(rows[bot]) == {trade.trade_id for trade in trades}, bot
        for trade in trades:  # everything on the first day: nothing in the warm-up
            assert _ny_day(trade.opened_at) == FIRST_DAY, (bot, trade.label)
            assert all(_ny_day(fill.filled_at) == FIRST_DAY for fill in trade.fills)
            assert all(f.commission_usd == SIM_COMMISSION_PER_CONTRACT * f.quantity
                       for f in trade.fills)  # fmt: skip
            row = rows[bot][trade.trade_id]
            assert row["held"] is trade.is_open
            assert Decimal(str(row["net_cash_usd"])) == _pnl_from_fills(trade).quantize(CENT)

    # The iron fly traded: four legs in, four out, P&L from its fills.
    assert journals[BOT], (
        "the default day must show at least one iron fly trade; its decisions:\n"
        + _entry_decisions(tmp_path)
    )
    for trade in journals[BOT]:
        opening = [f for f in trade.fills if f.open_close is OpenClose.OPEN]
        closing = [f for f in trade.fills if f.open_close is OpenClose.CLOSE]
        assert len(opening) == 4 and len(closing) == 4
        assert trade.exit_reason
        row = rows[BOT][trade.trade_id]
        assert Decimal(str(row["pnl_usd"])) == _pnl_from_fills(trade).quantize(CENT)
        assert row["exit_reason"] == trade.exit_reason
        assert (row["opening_fills"], row["closing_fills"]) == (4, 4)
    # Delta Neutral holds its long straddle and its first short strangle.
    dn_held = [_held_legs(trade) for trade in journals[DN] if trade.is_open]
    assert {"long_call": 1, "long_put": 1} in dn_held
    assert {"short_call": -1, "short_put": -1} in dn_held
    # The Put Diagonal holds a campaign: its long put and the short put sold against it.
    rpd_held = [_held_legs(trade) for trade in journals[RPD] if trade.is_open]
    assert sorted(rpd_held, key=str) == [{"buy_long": 1}, {"sell_short": -1}]

    assert summary["bots"][0]["journal"] == str(tmp_path / "data" / f"{BOT}.sqlite")
    # Progress went to stderr as plain lines (not a terminal: no live table, no colour codes).
    progress = [line for line in err.splitlines() if line.startswith("demo 2026-03-19")]
    assert len(progress) >= 3 and any("in_position" in line for line in progress)
    assert "\x1b[" not in err
    # `calypso journal BOT` reads the demo's trades afterwards.
    listed = subprocess.run(
        [sys.executable, "-m", "shared.cli", "journal", DN, "--json"],
        cwd=ROOT, env={**os.environ, "CALYPSO_HOME": str(tmp_path)},
        capture_output=True, text=True, timeout=30,
    )  # fmt: skip
    assert [t["trade_id"] for t in json.loads(listed.stdout)["trades"]] == sorted(rows[DN])


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


def test_by_default_the_demo_runs_every_implemented_bot() -> None:
    # Bots holding overnight are included: on the demo's last day they settle once they hold
    # with nothing in flight (shared.demo.settle), so they no longer keep the day to the close.
    bots, holding, skipped = demo_cmd._select_bots(None)
    assert bots == ("iron_fly_0dte", "delta_neutral", "rolling_put_diagonal")
    assert holding == {"delta_neutral", "rolling_put_diagonal"}
    assert skipped == {}
    chosen, holding, skipped = demo_cmd._select_bots(("iron_fly_0dte", "delta_neutral"))
    assert chosen == ("iron_fly_0dte", "delta_neutral") and holding == {"delta_neutral"}
    assert "--bots" in skipped["rolling_put_diagonal"]
