"""Delta Neutral management on the simulator (the real runtime in a thread, prices pinned and
the clock jumped through the control API): the recenter keeps the expiry and the shorts; a
challenged side closes the shorts at once and a re-sale is refused for a debit; the 5 %
emergency move exits shorts first within the REST budget; over weeks the shorts roll on
Thursday for a credit and everything exits at `long_exit_dte`. Every figure is checked against
the fills (the journal) and the simulator's account.

`flash_move_percent` is raised to 10 so the scripted jumps of SPY (instant, several percent)
do not raise flash-move safety events, which the breaker counts; the flash check itself is a
unit test (tests/bots/delta_neutral).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import time as clock_time
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest

from bots.delta_neutral.states import StraddleState, StrangleState
from shared.cli.main import main as cli_main
from shared.journal.codec import cents
from shared.journal.models import FillSide
from shared.saxo_sim.rate_limits import openapi_calls
from tests.scenarios.delta_neutral.harness import (
    SPY,
    SPY_LEVEL,
    DeltaNeutralBot,
    JournalView,
    fills_pnl_usd,
    jump,
    read_journal,
    start_bot,
)
from tests.scenarios.iron_fly.harness import NY, PLAIN_DAY, Day, at_et

SPEED = 300.0  # simulated seconds per real second
START = clock_time(9, 31)
NO_FLASH = {"flash_move_percent": 10.0}
BUDGET_WINDOW = timedelta(minutes=2)  # simulated
HOLDING_MAX_PER_MIN = 30
FLAT_MAX_PER_MIN = 10


def _opened(
    make_day: Callable[..., Day], **sections: dict[str, Any]
) -> tuple[Day, DeltaNeutralBot]:
    """A Monday (PLAIN_DAY) with SPY pinned at 600 and the bot holding straddle and strangle
    (`sections`: config sections merged over the scenario's)."""
    day = make_day(day=PLAIN_DAY, start=START, speed=SPEED)
    day.pin(SPY, SPY_LEVEL)
    strategy = {**NO_FLASH, **sections.pop("strategy", {})}
    bot = start_bot(day, strategy=strategy, **sections)
    bot.wait_for(lambda s: bot.holding(), "straddle and strangle held")
    return day, bot


def _books_agree(day: Day, bot: DeltaNeutralBot, journal: JournalView) -> None:
    """The strategy's ledger (booked from executor reports) equals the closed trades' fills,
    and the account's cash moved by exactly every trade's fills less commissions."""
    ledger = bot.dn.export_state()["memory"]["ledger"]
    closed = [t for t in journal.trades if not t.is_open]
    straddles = [t for t in closed if ":straddle_entry:" in t.label or ":recenter" in t.label]
    strangles = [t for t in closed if t not in straddles]
    assert Decimal(ledger["straddle_realized_usd"]) == sum(t.net_cash_usd for t in straddles)
    assert Decimal(ledger["strangle_realized_usd"]) == sum(t.net_cash_usd for t in strangles)
    assert day.cash_change_usd() == sum(t.net_cash_usd for t in journal.trades)


def _calls_per_minute(day: Day) -> float:
    """REST calls per simulated minute over the next BUDGET_WINDOW (simulator's count)."""
    start, before = day.now(), openapi_calls(day.stats()["routes"])
    day.wait_until(start + BUDGET_WINDOW)
    calls = openapi_calls(day.stats()["routes"]) - before
    return calls / ((day.now() - start).total_seconds() / 60)


def test_recenter_keeps_expiry_and_shorts_then_a_challenged_side_refused_a_resale_exits_all(
    make_day: Callable[..., Day],
) -> None:
    day, bot = _opened(make_day)
    first = bot.dn.straddle.held
    shorts = bot.dn.strangle.held
    assert first is not None and shorts is not None and first.strike == Decimal(600)
    assert shorts.call is not None and shorts.put is not None

    day.pin(SPY, 606.0)  # 6 points from the strike: recenter (threshold 5 points)
    bot.wait_for(lambda s: s.straddle.held is not None and s.straddle.held.strike == 606
                 and bot.holding(), "recentered")  # fmt: skip
    recentered = bot.dn.straddle.held
    assert recentered is not None and recentered.expiry == first.expiry  # same expiry
    assert bot.dn.strangle.held == shorts  # the shorts are kept, untouched

    challenge = float(shorts.call.strike) - 1  # within 0.3 % of the short call
    day.pin(SPY, challenge)
    # The shorts are bought back at once; the straddle recenters on the move; the re-sale at
    # the new price would not pay the buy-back (a debit): a failed challenged roll exits all.
    bot.wait_for(lambda s: s.strangle.state is StrangleState.NONE
                 and s.straddle.state is StraddleState.FLAT and s.straddle.held is None
                 and day.positions() == {}, "everything exited")  # fmt: skip
    day.wait_until(day.now() + timedelta(minutes=2))
    journal = read_journal(day.home)
    assert bot.stop() == 0

    (sold,) = journal.labelled("shorts")
    assert sold.exit_reason == "challenged_call" and sold.is_flat
    assert any("challenged_resale_refused_debit" in m for m in journal.messages)
    assert any("challenged_roll_failed" in m for m in journal.messages)
    assert day.positions() == {}  # no short re-sold for a debit, and the straddle exited
    recenters = [t for t in journal.trades if (t.exit_reason or "").startswith("recenter")]
    assert len(recenters) == 2 and all(t.is_flat for t in recenters)
    (last,) = [t for t in journal.trades if t.exit_reason == "challenged_roll_failed"]
    assert last.is_flat and sold.closed_at is not None and last.closed_at is not None
    assert sold.closed_at <= last.closed_at  # shorts first
    assert len(journal.labelled("shorts")) == 1  # nothing sold after the challenge
    _books_agree(day, bot, journal)


def test_emergency_move_exits_shorts_first_within_the_rest_budget(
    make_day: Callable[..., Day],
) -> None:
    day, bot = _opened(make_day)
    day.wait_until(day.now() + timedelta(seconds=30))  # subscriptions settled
    holding = _calls_per_minute(day)

    day.pin(SPY, SPY_LEVEL * 1.06)  # 6 % from the straddle strike (and the previous close)
    bot.wait_for(lambda s: not s.in_position() and s.strangle.held is None
                 and s.straddle.held is None, "flat after the emergency exit")  # fmt: skip
    day.wait_until(day.now() + timedelta(seconds=30))
    flat = _calls_per_minute(day)
    journal = read_journal(day.home)
    assert bot.stop() == 0

    assert "emergency_move" in journal.safety_names()
    (straddle,) = journal.labelled("straddle_entry")
    (strangle,) = journal.labelled("shorts")
    assert straddle.exit_reason == strangle.exit_reason == "emergency_move"
    assert strangle.closed_at is not None and straddle.closed_at is not None
    assert strangle.closed_at <= straddle.closed_at  # shorts first
    assert max(f.filled_at for f in strangle.fills) <= min(
        f.filled_at for f in straddle.fills if f.side is FillSide.SELL)
    assert day.positions() == {}
    _books_agree(day, bot, journal)
    assert holding <= HOLDING_MAX_PER_MIN, f"{holding:.1f} REST calls/min while holding"
    assert flat <= FLAT_MAX_PER_MIN, f"{flat:.1f} REST calls/min while flat"


def test_weeks_long_position_rolls_recenters_expires_then_exits_at_the_long_exit_dte(
    make_day: Callable[..., Day], monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    day, bot = _opened(make_day, loop={"reconcile_interval_seconds": 60.0})
    straddle = bot.dn.straddle.held
    first = bot.dn.strangle.held
    assert straddle is not None and first is not None
    thursday = first.expiry - timedelta(days=1)
    assert thursday.weekday() == 3

    jump(day, at_et(thursday, clock_time(15, 1)))  # the Thursday roll window
    bot.wait_for(lambda s: s.strangle.held is not None and s.strangle.held.expiry > first.expiry
                 and bot.holding(), "rolled")  # fmt: skip
    rolled = bot.dn.strangle.held
    assert rolled is not None and rolled.expiry == first.expiry + timedelta(days=7)

    # Friday: SPY 6 points up, the straddle recenters at the same expiry (the rolled shorts,
    # 7 days out, are not rolled again and are kept).
    jump(day, at_et(first.expiry, clock_time(10, 0)))
    day.pin(SPY, SPY_LEVEL + 6)
    bot.wait_for(lambda s: s.straddle.held is not None and s.straddle.held.strike == 606
                 and bot.holding(), "recentered")  # fmt: skip
    assert bot.dn.strangle.held == rolled

    # The rolled shorts expire worthless the next Friday at 16:00 ET: the simulator settles
    # them and the bot books them closed at 0 (no order, no alarm).
    rolled_close = at_et(rolled.expiry, clock_time(16, 0))
    jump(day, rolled_close - timedelta(seconds=60))
    bot.wait_for(lambda s: s.strangle.held is None and s.strangle.intent_id is None,
                 "rolled shorts expired", timeout_s=30)  # fmt: skip

    exit_day = straddle.expiry - timedelta(days=59)  # DTE 59 < long_exit_dte 60
    while exit_day.weekday() >= 5:
        exit_day += timedelta(days=1)
    jump(day, at_et(exit_day, clock_time(10, 0)))
    bot.wait_for(lambda s: s.straddle.held is None and s.strangle.held is None
                 and day.positions() == {}, "flat at the long exit DTE", timeout_s=60)
    # Several reconciliations (every `reconcile_interval_seconds`, 60 here) after the expiry:
    # the expired trade is already closed and flat, so none finds a trade missing.
    day.wait_until(day.now() + timedelta(minutes=3))
    journal = read_journal(day.home)
    assert bot.stop() == 0

    assert not [t for t in journal.trades if t.is_open]
    opened, rolled_trade = journal.labelled("shorts")
    assert opened.exit_reason is not None and opened.exit_reason.startswith("scheduled_roll")
    assert opened.is_flat and {f.filled_at.astimezone(NY).date() for f in opened.fills
                                if f.side is FillSide.BUY} == {thursday}  # fmt: skip
    assert rolled_trade.opened_at.astimezone(NY).date() == thursday
    assert rolled_trade.exit_reason == "expired" and rolled_trade.is_flat
    expiry_fills = [f for f in rolled_trade.fills if f.side is FillSide.BUY]
    assert len(expiry_fills) == 2 and all(
        f.price == 0 and f.commission_usd == 0 and f.order_id is None for f in expiry_fills)
    (entry,) = journal.labelled("straddle_entry")
    assert entry.exit_reason is not None and entry.exit_reason.startswith("recenter")
    (recentered,) = journal.labelled("recenter_entry")
    assert recentered.exit_reason == "long_dte_exit" and recentered.is_flat
    assert recentered.closed_at is not None
    assert recentered.closed_at.astimezone(NY).date() == exit_day
    ledger = bot.dn.export_state()["memory"]["ledger"]
    assert ledger["rolls"] == 1 and ledger["recenters"] == 1
    assert not {"strangle_leg_gone", "trade_missing_at_broker", "orphan_position"} & set(
        journal.safety_names())
    _books_agree(day, bot, journal)
    _journal_cli_shows_the_campaign(day, journal, ledger, monkeypatch, capsys)


def _journal_cli_shows_the_campaign(day: Day, journal: JournalView, ledger: dict[str, Any],
                                    monkeypatch: pytest.MonkeyPatch,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    """`calypso journal delta_neutral --json`: every trade's P&L is its fills x 100 x quantity
    less commissions, to the cent, and the total is the strategy's campaign result."""
    monkeypatch.setenv("CALYPSO_HOME", str(day.home))
    capsys.readouterr()
    assert cli_main(["journal", "delta_neutral", "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    by_id = {t.trade_id: t for t in journal.trades}
    # straddle, recentered straddle, shorts, rolled shorts: each with its own fills
    assert len(shown["trades"]) == len(journal.trades) == 4
    for row in shown["trades"]:
        assert Decimal(str(row["pnl_usd"])) == cents(fills_pnl_usd(by_id[row["trade_id"]]))
    campaign = Decimal(ledger["straddle_realized_usd"]) + Decimal(ledger["strangle_realized_usd"])
    assert Decimal(str(shown["totals"]["realized_pnl_usd"])) == cents(campaign)
