"""The put diagonal's long roll-ups and its campaign exits other than the long's DTE, on the
local simulator: a real `calypso run rolling_put_diagonal` process, QQQ pinned through the
control API (the pins also make the daily bars: a pinned session closes at its pin), the clock
jumped from one decisive moment to the next. Each exit buys the short back first, then sells
the long; the journal's open legs equal the broker's; the campaign P&L logged by the strategy
equals the sum of its fills less commissions, and the broker's cash agrees. Timeouts are real
seconds; times are New York.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, time
from decimal import Decimal
from pathlib import Path

import pytest

from shared.saxo_sim.server import SimServer
from tests.scenarios.iron_fly.harness import until
from tests.scenarios.rolling_put_diagonal.harness import (
    Bot,
    Sim,
    add_earnings,
    all_intents,
    at,
    fills_cash_usd,
    holding,
    intents,
    journal_open_uics,
    messages,
    options_held,
    state_name,
    trades,
    write_config,
)

pytestmark = pytest.mark.e2e

SPEED = 240.0  # simulated seconds per real second
ENTRY_DAY = date(2026, 3, 30)  # the simulator's daily bars (seed 7) allow an entry
QQQ_LEVEL = 517.0  # the entry: long 508 (Saxo's -0.33), short 517; margin 900 USD (9 wide)


def _purpose(intent_id: str) -> str:
    return intent_id.split(":")[1]


def _roll_up_reasons(bot: Bot) -> list[str]:
    """The reasons of the long roll-ups in the bot's log (its state transitions)."""
    return re.findall(r'trigger=roll_long reason="([^"]+)"', bot.log.read_text())


def _closed_short_then_long(home: Path, campaign: str) -> None:
    """The campaign's last two orders: the short bought back, then the long sold."""
    ids = [i for i in all_intents(home) if i.endswith(f":{campaign}")]
    assert [_purpose(i) for i in ids[-2:]] == ["close_short", "close_long"], ids


def _campaign_pnl(home: Path, campaign: str) -> tuple[Decimal, Decimal, str]:
    """(P&L the strategy logged, the sum of the campaign's fills less commissions, the close
    reason it logged)."""
    (line,) = [m for m in messages(home) if f"campaign_closed_{campaign} " in m]
    logged = re.search(r"realized_pnl_usd=(-?[\d.]+)", line)
    reason = re.search(r"reason=(\w+)", line)
    assert logged is not None and reason is not None, line
    by_fills = sum((fills_cash_usd(t) for t in trades(home) if t.label.endswith(f":{campaign}")),
                   Decimal(0))  # fmt: skip
    return Decimal(logged.group(1)), by_fills, reason.group(1)


def test_the_long_is_rolled_up_on_margin_then_on_delta_and_the_loss_limit_closes_the_campaign(
    sim_factory: Callable[..., SimServer], tmp_path: Path,
) -> None:
    server = sim_factory(start=at(ENTRY_DAY, time(9, 31)), speed=SPEED)
    sim = Sim(server)
    sim.pin(QQQ_LEVEL)
    # The margin rule between the entry's 900 USD and the 1100 USD of a diagonal whose short
    # is rolled 2 USD up (the simulator's margin of a put diagonal is its strike width x 100).
    write_config(tmp_path, long_roll_bp_threshold_usd=1000)
    bot = Bot(server, tmp_path)
    try:
        until(lambda: holding(sim) == [-1, 1], 60, "campaign opened")
        entry_margin = server.call(lambda s: s.exchange.margin_required())
        assert entry_margin < 1000 and not intents(tmp_path, "roll_long_buy")
        # 1. Margin: QQQ at 519 at the roll time; the short rolls up to 519 (margin 1100 USD
        # at /port/v1/balances); the long is rolled up: the new one bought first.
        sim.jump(at(date(2026, 3, 31), time(11, 59)))
        sim.pin(519.0)
        until(lambda: intents(tmp_path, "roll_long_sell"), 60, "roll-up on margin")
        until(lambda: holding(sim) == [-1, 1], 30, "old long sold")
        assert [_purpose(i) for i in all_intents(tmp_path)[-2:]] == ["roll_long_buy",
                                                                    "roll_long_sell"]
        (on_margin,) = _roll_up_reasons(bot)
        assert on_margin.startswith("roll up: margin used 1100"), on_margin
        until(lambda: journal_open_uics(tmp_path) == options_held(sim), 30, "journal = broker")
        # 2. Delta: QQQ up to 556 before the next roll; the new long's delta (Saxo's Greeks,
        # the simulator's model) falls under 0.20, the long being about 8 % out of the money.
        sim.jump(at(date(2026, 4, 1), time(9, 40)))
        sim.pin(556.0)
        until(lambda: len(intents(tmp_path, "roll_long_sell")) == 2, 60, "roll-up on delta")
        until(lambda: holding(sim) == [-1, 1], 30, "old long sold")
        on_delta = _roll_up_reasons(bot)[-1]
        assert on_delta.startswith("roll up: long delta"), on_delta
        until(lambda: journal_open_uics(tmp_path) == options_held(sim), 30, "journal = broker")
        # 3. The short rolls up to 556 at noon; QQQ falls to 520: the unrealized loss passes
        # max_loss_usd_per_contract (500) and the campaign is closed, short first.
        sim.jump(at(date(2026, 4, 1), time(11, 59)))
        until(lambda: intents(tmp_path, "sell_short")[2:], 60, "short rolled up to 556")
        until(lambda: holding(sim) == [-1, 1], 30, "rolled")
        sim.pin(520.0)
        until(lambda: holding(sim) == [], 60, "campaign closed")
        until(lambda: any("campaign_closed_c1" in m for m in messages(tmp_path)), 30, "P&L")
    finally:
        code = bot.stop()
    assert code == 0, bot.tail()
    _closed_short_then_long(tmp_path, "c1")
    assert journal_open_uics(tmp_path) == options_held(sim) == {}
    logged, by_fills, reason = _campaign_pnl(tmp_path, "c1")
    assert reason == "max_loss"
    assert logged <= -500  # the loss limit held: at least 500 USD lost (fills, commissions)
    assert logged == by_fills == sim.cash_change_usd()
    assert len(intents(tmp_path, "entry")) == 1  # no new campaign on the day one closed


def test_an_earnings_blackout_closes_and_waits_and_a_close_below_the_ema_closes_next_morning(
    sim_factory: Callable[..., SimServer], tmp_path: Path,
) -> None:
    server = sim_factory(start=at(ENTRY_DAY, time(9, 31)), speed=SPEED)
    sim = Sim(server)
    sim.pin(QQQ_LEVEL)
    # AAPL reports after the close on 2026-04-01: within the 1-day blackout on 03-31 and 04-01.
    add_earnings(tmp_path, date(2026, 4, 1), "AAPL")
    write_config(tmp_path, max_loss_usd_per_contract=50000)  # only the EMA exit in part 2
    bot = Bot(server, tmp_path)

    def green_candle(day: date, open_level: float, close_level: float) -> None:
        """`day` opens at `open_level` and trades at `close_level` from 09:45 to the close."""
        sim.jump(at(day, time(9, 29)))
        sim.pin(open_level)
        sim.jump(at(day, time(9, 45)))
        sim.pin(close_level)

    def clock_reaches(day: date, hhmm: time) -> None:
        until(lambda: server.call(lambda s: s.clock.now()) >= at(day, hhmm), 30, f"{day} {hhmm}")

    try:
        until(lambda: holding(sim) == [-1, 1], 60, "campaign c1 opened")
        # 1. 03-31: the campaign closes at the open (short first), then waits for the event.
        sim.jump(at(date(2026, 3, 31), time(9, 29)))
        sim.pin(516.0)
        until(lambda: holding(sim) == [], 60, "campaign c1 closed for the event")
        until(lambda: state_name(tmp_path) == "campaign:waiting_event", 30, "WAITING_EVENT")
        sim.jump(at(date(2026, 3, 31), time(9, 45)))
        sim.pin(519.0)  # a green candle: 516 -> 519
        # 2. 04-01 (the report's day): two green candles above the EMA and no gap, the open
        # delay over: every other entry rule holds, but the bot waits.
        green_candle(date(2026, 4, 1), 519.5, 522.0)
        clock_reaches(date(2026, 4, 1), time(9, 48))
        assert state_name(tmp_path) == "campaign:waiting_event"
        assert len(intents(tmp_path, "entry")) == 1 and sim.positions() == {}
        # 3. 04-02: the event has passed; the entry rules hold: campaign c2.
        sim.jump(at(date(2026, 4, 2), time(9, 29)))
        sim.pin(522.0)
        until(lambda: holding(sim) == [-1, 1], 60, "campaign c2 opened")
        assert [i.endswith(":c2") for i in intents(tmp_path, "entry")] == [False, True]
        # 4. QQQ falls under the EMA (about 511) into the close: today's partial bar does not
        # close the campaign...
        sim.jump(at(date(2026, 4, 2), time(15, 40)))
        sim.pin(500.0)
        clock_reaches(date(2026, 4, 2), time(15, 43))  # six 30 s passes in position
        assert holding(sim) == [-1, 1] and not intents(tmp_path, "close_short")[1:]
        # 5. ...the previous session's close below the EMA does, at the next open.
        sim.jump(at(date(2026, 4, 6), time(9, 29)))
        until(lambda: holding(sim) == [], 60, "campaign c2 closed below the EMA")
        until(lambda: any("campaign_closed_c2" in m for m in messages(tmp_path)), 30, "P&L")
    finally:
        code = bot.stop()
    assert code == 0, bot.tail()
    for campaign, expected in (("c1", "event"), ("c2", "close_below_ema")):
        _closed_short_then_long(tmp_path, campaign)
        logged, by_fills, reason = _campaign_pnl(tmp_path, campaign)
        assert reason == expected
        assert logged == by_fills
    assert journal_open_uics(tmp_path) == options_held(sim) == {}
    total = sum((_campaign_pnl(tmp_path, c)[0] for c in ("c1", "c2")), Decimal(0))
    assert total == sim.cash_change_usd()
    (close_c2,) = [i for i in intents(tmp_path, "close_short") if i.endswith(":c2")]
    assert close_c2.split(":")[2] == "2026-04-06"  # the morning after the close below the EMA
