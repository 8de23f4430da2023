"""Each entry filter skips a whole simulated day: one SKIP opening-range record naming the
filter, no order at the simulator, no trade in the journal (strategies.md 5.1: FILTER, TIME,
DATA-005). The morning is scripted with pins so the filter's input is known exactly."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date
from datetime import time as clock_time
from decimal import Decimal

import pytest

from tests.scenarios.iron_fly.harness import (
    BASE_LEVEL,
    CPI_DAY,
    FOMC_DECISION_DAY,
    NFP_DAY,
    PPI_DAY,
    SPX,
    VIX,
    Day,
    read_journal,
    until,
)


def _skipped_day(day: Day) -> str:
    """Run the bot until it is done for the day; assert nothing traded; return the reason."""
    bot = day.bot()
    day.through_range(bot)
    bot.wait_state("done")
    assert bot.stop() == 0
    view = read_journal(day.home)
    assert view.trades == [] and view.intents == []
    assert day.order_ids() == set() and day.positions() == {}
    return view.skip_reason()


@pytest.mark.parametrize(
    ("day", "reason"),
    [
        (FOMC_DECISION_DAY, "fomc: FOMC decision day"),
        (CPI_DAY, "economic: economic release day (CPI"),
        (PPI_DAY, "economic: economic release day (PPI"),
        (NFP_DAY, "economic: economic release day (Employment Situation / NFP"),
    ],
    ids=["fomc-decision", "cpi", "ppi", "nfp"],
)
def test_calendar_event_day_is_skipped(
    make_day: Callable[..., Day], day: date, reason: str
) -> None:
    scenario = make_day(day=day)

    assert _skipped_day(scenario).startswith(reason)


def test_vix_above_the_maximum_skips_the_day(make_day: Callable[..., Day]) -> None:
    day = make_day(vix=25.0)  # max_vix_entry 20

    found = re.fullmatch(r"vix: VIX ([\d.]+) above max 20.0", _skipped_day(day))
    assert found and Decimal(found.group(1)) == Decimal(25)


def test_vix_spike_during_the_range_skips_the_day(make_day: Callable[..., Day]) -> None:
    day = make_day(vix=15.0)
    bot = day.bot()
    bot.wait_state("opening_range")
    day.skip_to(day.at(clock_time(9, 31)))
    day.pin(VIX, 16.0)  # +6.7 % within the range; max_vix_spike_percent 5
    until(lambda: Decimal(bot.strategy.export_state()["opening_range"]["vix_high"]) >= 16,
          20, "the range's VIX high at 16")
    day.through_range(bot)

    bot.wait_state("done")

    assert bot.stop() == 0
    reason = read_journal(day.home).skip_reason()
    assert reason.startswith("vix_spike: VIX rose 6.67% in the range")
    assert day.order_ids() == set()


def test_price_outside_the_range_is_a_trend_day(make_day: Callable[..., Day]) -> None:
    day = make_day()
    bot = day.bot()
    # Range 6000-6010; the last jump lands a minute before the entry, so the bot's clock has
    # re-synced (0.25 s real) long before 09:34 and does not leap past the entry time between
    # two quotes (a decision on the range's last observed price would be "in range").
    day.calm_range(bot, end=clock_time(9, 33))
    # From 09:33 a steady climb of 2 points per simulated second: whatever the range's last
    # observation, the price at the entry decision is above it.
    day.control("POST", "/market/move", {"symbol": SPX, "target": BASE_LEVEL + 400,
                                         "over_seconds": 200})

    bot.wait_state("done")

    assert bot.stop() == 0
    view = read_journal(day.home)
    (row,) = view.range_rows("SKIP")
    assert row["reason"].startswith("trend_day: price")
    assert row["price_in_range"] is False
    assert day.order_ids() == set()


def test_price_outside_the_middle_band_skips_the_day(make_day: Callable[..., Day]) -> None:
    day = make_day()
    bot = day.bot()
    # Range 6000-6020 (midpoint 6010, band +-7 at 70 %), price 6018 at the entry: 8 away.
    day.calm_range(bot, high=BASE_LEVEL + 20, settle=BASE_LEVEL + 18)

    bot.wait_state("done")

    assert bot.stop() == 0
    view = read_journal(day.home)
    (row,) = view.range_rows("SKIP")
    found = re.fullmatch(r"midpoint: price ([\d.]+) is ([\d.]+) from the midpoint ([\d.]+) "
                         r"\(max ([\d.]+)\)", row["reason"])
    assert found, row["reason"]
    assert [Decimal(v) for v in found.groups()] == [6018, 8, 6010, 7]
    assert (Decimal(row["range_low"]), Decimal(row["range_high"])) == (Decimal(6000), Decimal(6020))
    assert row["price_in_range"] is True
    assert day.order_ids() == set()
