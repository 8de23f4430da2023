"""The Rolling Put Diagonal on the local simulator, as a real `calypso run rolling_put_diagonal`
process with the shipped example config (the five-day run turns the margin roll-up off). The
simulator's QQQ daily bars (seed 7) allow an entry on 2026-03-30 and not on 2026-03-02. The
clock jumps through the control API to each day's roll time; the journal and the simulator's
books are read. Timeouts are real seconds.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Callable
from datetime import date, time
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from shared.saxo_sim.instruments import QQQ_UIC
from shared.saxo_sim.server import SimServer
from tests.scenarios.iron_fly.harness import until
from tests.scenarios.rolling_put_diagonal.harness import (
    ROOT,
    Bot,
    Sim,
    at,
    fills_cash_usd,
    holding,
    intents,
    journal_open_uics,
    manual_sale,
    messages,
    options_held,
    safety,
    trades,
    write_config,
)

pytestmark = pytest.mark.e2e

SPEED = 240.0  # simulated seconds per real second
ENTRY_DAY = date(2026, 3, 30)  # 7 green daily candles above the EMA, MACD positive
NO_ENTRY_DAY = date(2026, 3, 2)  # one green candle: the entry rule fails
QQQ_LEVEL = 517.0  # pinned: the short is sold at the 517 strike
LONG_TARGET_DELTA = -0.33  # the example config's long_put_target_delta
# Trading days after the entry (Good Friday 2026-04-03 is a holiday): one roll each, with QQQ
# pinned at or above the short strike (vertical) or below it (horizontal).
ROLL_DAYS = [(date(2026, 3, 31), 519.0, "vertical"), (date(2026, 4, 1), 517.0, "horizontal"),
             (date(2026, 4, 2), 520.0, "vertical"), (date(2026, 4, 6), 519.0, "horizontal"),
             (date(2026, 4, 7), 522.0, "vertical")]  # fmt: skip
OTM_LEVEL = 524.0  # the last short (522, 2026-04-08) expires worthless while the clock jumps
CLOSE_DAY = date(2026, 4, 13)  # the long (2026-04-13 expiry) is within campaign_close_dte


def _assert_long_nearest_target_delta(server: SimServer, sim: Sim) -> None:
    """The long put held has the simulator's delta nearest -0.33 among its expiry's puts (its
    neighbouring strikes are farther from it), within the 0.05 tolerance: the strategy chose
    it on Saxo's Greeks, not on the theoretical delta from moneyness."""
    (long_uic,) = [uic for uic, amount in options_held(sim).items() if amount > 0]

    def deltas(state: Any) -> tuple[Decimal, dict[Decimal, float]]:
        held = state.resolve(long_uic, "StockOption").option
        puts = [c for c in state.catalog.contracts(held.root_id, held.expiry, QQQ_LEVEL)
                if c.put_call == "Put"]  # fmt: skip
        return held.strike, {c.strike: state.pricing.option_quote(c).delta for c in puts}

    strike, by_strike = server.call(deltas)
    strikes = sorted(by_strike)
    i = strikes.index(strike)
    miss = {k: abs(by_strike[k] - LONG_TARGET_DELTA) for k in strikes[max(0, i - 1) : i + 2]}
    assert miss[strike] <= 0.05, (strike, by_strike[strike])
    assert miss[strike] == min(miss.values()), {k: by_strike[k] for k in miss}


def test_a_campaign_opens_rolls_once_a_day_for_five_days_and_closes_at_its_dte(
    sim_factory: Callable[..., SimServer], tmp_path: Path,
) -> None:
    server = sim_factory(start=at(ENTRY_DAY, time(9, 31)), speed=SPEED)
    sim = Sim(server)
    sim.pin(QQQ_LEVEL)
    # The margin roll-up off: the diagonal's margin (strike width x 100: 900 USD at entry, long
    # 508) grows as the short is rolled up and would pass the 1200 default, so the long would
    # follow QQQ up and the campaign would not reach its DTE here (the roll-ups have their own
    # scenario, test_rollups_and_exits_sim.py).
    write_config(tmp_path, long_roll_bp_threshold_usd=0)
    bot = Bot(server, tmp_path)
    try:
        until(lambda: holding(sim) == [-1, 1], 60, "long bought, short sold")
        assert len(intents(tmp_path, "entry")) == 1
        _assert_long_nearest_target_delta(server, sim)
        for day, level, _ in ROLL_DAYS:
            sim.jump(at(day, time(11, 59)))
            sim.pin(level)
            until(lambda d=day: any(f":{d}:" in i for i in intents(tmp_path, "sell_short")), 60,
                  f"roll on {day}")  # fmt: skip
            until(lambda: holding(sim) == [-1, 1], 30, "rolled")
        rolls = intents(tmp_path, "roll_short")
        assert [i.split(":")[2] for i in rolls] == [str(d) for d, _, _ in ROLL_DAYS]
        assert all(re.search(r"-120\d\d\d:c1$", i) for i in rolls), rolls  # 12:0x
        sim.pin(OTM_LEVEL)
        sim.jump(at(CLOSE_DAY, time(9, 40)))
        until(lambda: holding(sim) == [], 60, "campaign closed")
        until(lambda: any("campaign_closed_c1" in m for m in messages(tmp_path)), 30, "P&L")
    finally:
        code = bot.stop()
    assert code == 0, bot.tail()
    done = trades(tmp_path)
    assert all(t.closed_at is not None for t in done)
    by_fills = sum((fills_cash_usd(t) for t in done if t.label.endswith(":c1")), Decimal(0))
    (line,) = [m for m in messages(tmp_path) if "campaign_closed_c1" in m]
    logged = Decimal(re.search(r"realized_pnl_usd=(-?[\d.]+)", line).group(1))  # type: ignore[union-attr]
    # The strategy's campaign P&L is every fill of the campaign (1 long, 6 shorts, 5 roll
    # buy-backs, the close) less commissions, to the cent; the broker's cash agrees.
    assert logged == by_fills == sim.cash_change_usd()
    # `calypso journal rolling_put_diagonal --json` shows the same campaign P&L, to the cent.
    shown = subprocess.run(
        [sys.executable, "-m", "shared.cli", "journal", "rolling_put_diagonal", "--json"],
        cwd=ROOT, env={**os.environ, "CALYPSO_HOME": str(tmp_path)}, capture_output=True,
        text=True, check=True, timeout=60,
    )  # fmt: skip
    (campaign,) = json.loads(shown.stdout)["campaigns"]
    assert campaign["campaign"] == "c1" and campaign["closed"]
    assert Decimal(str(campaign["pnl_usd"])) == logged.quantize(Decimal("0.01"))
    assert len(done) == 1 + 1 + len(ROLL_DAYS)
    roll_reasons = [str(t.exit_reason) for t in done if " roll of " in str(t.exit_reason)]
    assert [r.split()[0] for r in roll_reasons] == [k for _, _, k in ROLL_DAYS], roll_reasons


def test_a_kill_during_a_roll_an_early_assignment_and_a_naked_short_at_start(
    sim_factory: Callable[..., SimServer], tmp_path: Path,
) -> None:
    server = sim_factory(start=at(ENTRY_DAY, time(9, 31)), speed=SPEED)
    sim = Sim(server)
    sim.pin(QQQ_LEVEL)
    # 1. Killed (SIGKILL) right after the roll's buy-back order is sent.
    bot = Bot(server, tmp_path, crash_at="close_after_send:1")
    until(lambda: holding(sim) == [-1, 1], 60, "campaign opened")
    sim.jump(at(ROLL_DAYS[0][0], time(11, 59)))
    assert bot.proc.wait(60) == -9, bot.tail()
    bot = Bot(server, tmp_path)
    try:
        until(lambda: holding(sim) == [-1, 1] and intents(tmp_path, "sell_short")[1:], 60,
              "a new short after the restart")  # fmt: skip
        until(lambda: journal_open_uics(tmp_path) == options_held(sim), 30, "journal = broker")
        assert len(intents(tmp_path, "sell_short")) == 2  # no duplicate sale
        assert len(intents(tmp_path, "roll_short")) == 1  # the interrupted roll is not redone
        # 2. Early assignment of the short: shares appear, the short is gone, the long stays.
        short_id = server.call(lambda s: next(p.position_id for p in
                                              s.exchange.portfolio.positions.values()
                                              if p.amount < 0))  # fmt: skip
        sim.control("POST", "/assignments", {"position_id": short_id})
        until(lambda: "short_gone" in safety(tmp_path), 60, "assignment seen")
        assert sim.positions().get(QQQ_UIC) == 100
        assert sorted(options_held(sim).values()) in ([1], [-1, 1])
        until(lambda: sorted(options_held(sim).values()) == [-1, 1], 60, "short sold again")
    finally:
        bot.proc.kill()  # SIGKILL
        bot.proc.wait(30)
    # 3. While the bot is down the long is sold by hand: the restarted bot finds a naked short
    # and buys it back at once.
    held = options_held(sim)
    long_uic = next(uic for uic, amount in held.items() if amount > 0)
    short_uic = next(uic for uic, amount in held.items() if amount < 0)
    manual_sale(server, long_uic)
    assert long_uic not in sim.positions()
    bot = Bot(server, tmp_path)
    try:
        until(lambda: short_uic not in sim.positions(), 60, "naked short bought back")
        assert "naked_short" in safety(tmp_path)
    finally:
        code = bot.stop()
    assert code == 0, bot.tail()


def test_no_campaign_on_a_day_the_daily_bars_forbid_one(
    sim_factory: Callable[..., SimServer], tmp_path: Path,
) -> None:
    server = sim_factory(start=at(NO_ENTRY_DAY, time(9, 31)), speed=SPEED)
    sim = Sim(server)
    sim.pin(QQQ_LEVEL)
    bot = Bot(server, tmp_path)
    try:
        until(lambda: any("entry_waits" in m for m in messages(tmp_path)), 60, "entry waits")
        (line,) = [m for m in messages(tmp_path) if "entry_waits" in m]
        assert "green candles above the EMA" in line
        sim.jump(at(NO_ENTRY_DAY, time(15, 30)))  # the rest of the day: still no entry
        late = at(NO_ENTRY_DAY, time(15, 35))  # five idle passes (60 s) after the jump
        until(lambda: server.call(lambda s: s.clock.now()) >= late, 30, "15:35 ET")
    finally:
        code = bot.stop()
    assert code == 0, bot.tail()
    assert trades(tmp_path) == [] and sim.positions() == {}
