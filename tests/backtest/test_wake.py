"""Wake hints skip only passes that change nothing: a period run with and without them gives
the same trades (byte for byte in the CSV) and the same safety events, for both bots that give
hints, in far fewer passes. The flash band's promise is checked on the real monitor."""

from __future__ import annotations

import io
import logging
import random
from csv import DictReader
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import numpy as np
import pytest

from shared.backtest.history import load_arch_history
from shared.backtest.report import trades_csv
from shared.backtest.runner import BacktestSpec, config_text, run_backtest
from shared.backtest.wake import BAND_TOLERANCE, first_exit
from shared.strategy.exits import FlashMonitor
from shared.strategy.wake import PriceBand, flash_safe_band


def _both_ways(bot: str, start: date, end: date) -> dict[bool, tuple[bytes, list[str], int]]:
    text, file = config_text(bot, None)
    spec = BacktestSpec(bot, text, str(file), start, end, seed=1)
    history = load_arch_history()
    runs = {}
    for hints in (True, False):
        engine, result = run_backtest(spec, history, wake_hints=hints)
        events = [f"{e.occurred_at} {e.event} {e.description}"
                  for e in engine.journal.safety_events()]  # fmt: skip
        runs[hints] = (trades_csv(result.trades).encode(), events, engine.passes)
        engine.close()
    return runs


def test_delta_neutral_trades_the_same_with_and_without_wake_hints() -> None:
    # 2015-01-05..16: the straddle bought, shorts sold and rolled, a recenter
    runs = _both_ways("delta_neutral", date(2015, 1, 5), date(2015, 1, 16))
    csv, events, passes = runs[True]
    assert (csv, events) == runs[False][:2]
    assert b"straddle_entry" in csv and b"recenter" in csv and b"shorts" in csv
    assert passes < runs[False][2] / 10


def test_put_diagonal_trades_the_same_with_and_without_wake_hints() -> None:
    # 2015-02-05..17: a campaign opened, its short rolled daily (vertical and horizontal), closed
    # as its long expires
    runs = _both_ways("rolling_put_diagonal", date(2015, 2, 5), date(2015, 2, 17))
    csv, events, passes = runs[True]
    assert (csv, events) == runs[False][:2]
    assert b"vertical roll" in csv and b"horizontal roll" in csv and b"long_expiring" in csv
    assert csv.count(b"\n") >= 8
    assert passes < runs[False][2] / 10


def test_delta_neutral_shorts_sold_in_a_good_friday_week_wait_for_their_thursday_expiry(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # 2015-03-23..04-02: everything exits on Thursday 03-26 (a challenged roll refused); the new
    # shorts of Friday 03-27 expire on Thursday 04-02 (Good Friday 04-03 is a holiday), 6 days
    # out yet already next week's: no roll on Friday (once refused as a "debit" into the same
    # expiry, every 5 minutes), the scheduled roll on Thursday 04-02 at 15:00
    with caplog.at_level(logging.INFO, logger="bots.delta_neutral.strategy"):
        runs = _both_ways("delta_neutral", date(2015, 3, 23), date(2015, 4, 2))
    assert "name=roll_refused_debit" not in caplog.text
    csv, events, passes = runs[True]
    assert (csv, events) == runs[False][:2]
    rows = list(DictReader(io.StringIO(csv.decode())))
    friday_shorts = [r for r in rows if r["label"].startswith("delta_neutral:shorts:2015-03-27")]
    assert [(r["closed_at"][:16], r["exit_reason"].split()[0]) for r in friday_shorts] == [
        ("2015-04-02T19:00", "scheduled_roll")
    ]
    assert passes < runs[False][2] / 10


def test_put_diagonal_hint_waits_for_an_entrys_recheck(caplog: pytest.LogCaptureFixture) -> None:
    # 2015-03-04..10: entry rules pass but no long put has a tight enough spread (entry_not_yet),
    # looked at again every `failed_action_cooldown_minutes` (the hint's `until`)
    with caplog.at_level(logging.INFO, logger="bots.rolling_put_diagonal.strategy"):
        runs = _both_ways("rolling_put_diagonal", date(2015, 3, 4), date(2015, 3, 10))
    assert "name=entry_not_yet" in caplog.text
    csv, events, passes = runs[True]
    assert (csv, events) == runs[False][:2]
    assert passes < runs[False][2] / 10


def test_first_exit_finds_the_first_pass_on_the_grid_leaving_the_band() -> None:
    levels = np.array([100.0, 100.5, 101.0, 103.0, 99.0, 104.0, 100.0])
    band = PriceBand(1, Decimal(98), Decimal("102.5"))
    assert first_exit(levels, band, 1, levels.size, 1) == 3  # 103 >= 102.5
    assert first_exit(levels, band, 0, levels.size, 2) is None  # grid 0, 2, 4, 6: all inside
    assert first_exit(levels, band, 1, levels.size, 2) == 3  # grid 1, 3, 5
    band_low = PriceBand(1, Decimal(99), None)
    assert first_exit(levels, band_low, 1, levels.size, 1) == 4  # 99 <= 99 + tolerance
    assert first_exit(levels, PriceBand(1, None, None), 0, levels.size, 1) is None
    edge = PriceBand(1, None, Decimal(101) + Decimal(str(BAND_TOLERANCE)) + Decimal("0.001"))
    assert first_exit(levels, edge, 0, 3, 1) is None  # 101 is inside once moved in by the tolerance


@pytest.mark.parametrize("seed", range(20))
def test_no_flash_move_inside_the_flash_safe_band(seed: int) -> None:
    rng = random.Random(seed)
    monitor, percent = FlashMonitor(timedelta(minutes=5)), 2.0
    start = datetime(2015, 1, 5, 15, tzinfo=UTC)
    price = Decimal("200")
    for k in range(10):  # a window whose range is anything below the flash size
        price *= Decimal(str(1 + rng.uniform(-0.0035, 0.0035)))
        monitor.add(start + timedelta(seconds=15 * k), price.quantize(Decimal("0.01")))
    assert monitor.move_percent() < Decimal(str(percent))
    band = flash_safe_band(monitor, price, percent)
    assert band is not None
    low, high = band
    for k in range(10, 40):  # any later prices inside the band never make a flash
        inside = low + (high - low) * Decimal(str(rng.random()))
        monitor.add(start + timedelta(seconds=15 * k), inside)
        assert monitor.move_percent() < Decimal(str(percent))
