"""Risk 7 of issue 12: the opening range is recorded from every underlying tick, not sampled
at the poll. The idle poll is set to 60 s so a poll-sampled range would see the two 5-second
excursions below only by luck (about 8 % each); the stream ticks every simulated second. The
clock runs at 20x here (not the scenarios' 100x) so an excursion lasts 250 ms of real time:
the runtime decides on the latest streamed quote, and a loaded CI machine must still get to
decide while the excursion lasts."""

from __future__ import annotations

from collections.abc import Callable
from datetime import time as clock_time
from datetime import timedelta
from decimal import Decimal

from tests.scenarios.iron_fly.harness import BASE_LEVEL, SPX, Day

SPIKE_SIM_S = 5  # how long each excursion lasts, simulated seconds
SPEED = 20.0  # 50 ms real market steps keep one step per simulated second


def _excursion(day: Day, level: float) -> None:
    """US500.I at `level` for SPIKE_SIM_S simulated seconds, then back to BASE_LEVEL."""
    started = day.pin(SPX, level)
    day.wait_until(started + timedelta(seconds=SPIKE_SIM_S))
    day.pin(SPX, BASE_LEVEL)


def test_short_excursions_between_polls_widen_the_opening_range(
    make_day: Callable[..., Day],
) -> None:
    day = make_day(start=clock_time(9, 30, 20), speed=SPEED, market_step_ms=50)
    bot = day.bot(loop={"poll_seconds_idle": 60.0})
    bot.wait_state("opening_range")
    day.skip_to(day.at(clock_time(9, 30, 40)))  # jumps: no pass is due at the landing
    _excursion(day, BASE_LEVEL + 30)
    day.skip_to(day.at(clock_time(9, 31, 5)))
    _excursion(day, BASE_LEVEL - 25)
    day.wait_until(day.at(clock_time(9, 31, 20)))

    opening_range = bot.strategy.export_state()["opening_range"]
    assert bot.stop() == 0

    assert Decimal(opening_range["high"]) >= Decimal(BASE_LEVEL + 29)
    assert Decimal(opening_range["low"]) <= Decimal(BASE_LEVEL - 24)
