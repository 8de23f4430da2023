"""Pure rules: entry gates, session limits, recenter, challenged side, emergency, roll, exits."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

import pytest

from bots.delta_neutral import rules
from shared.domain import PutCall
from shared.market_hours import NY, session

# 2026-06-04 is a Thursday; 2026-11-27 (day after Thanksgiving) closes at 13:00 ET.
THURSDAY = date(2026, 6, 4)
HALF_DAY = date(2026, 11, 27)


def et(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=NY)


def entry_block(vix: str | None, fomc: date | None = None) -> str | None:
    return rules.straddle_entry_block(
        vix=None if vix is None else Decimal(vix),
        max_vix_entry=18.0,
        today=THURSDAY,
        next_fomc_decision=fomc,
        fomc_blackout_days=2,
    )


def test_straddle_entry_needs_vix_strictly_below_the_maximum() -> None:
    assert entry_block("17.99") is None
    assert entry_block("18") == "vix 18 >= max_vix_entry 18.0"
    assert entry_block(None) == "vix_unknown"


def test_straddle_entry_waits_within_the_fomc_blackout() -> None:
    assert entry_block("15", fomc=date(2026, 6, 6)) is not None
    assert entry_block("15", fomc=date(2026, 6, 7)) is None


def test_vix_defensive_threshold_blocks_new_shorts() -> None:
    assert rules.shorts_entry_block(vix=Decimal(25), max_vix_new_shorts=25.0) is not None
    assert rules.shorts_entry_block(vix=Decimal("24.9"), max_vix_new_shorts=25.0) is None


@pytest.mark.parametrize(
    ("at", "expected"),
    [
        (et(THURSDAY, 9, 31), "open_delay"),
        (et(THURSDAY, 9, 33), None),
        (et(THURSDAY, 16, 1), "market_closed"),
        (et(HALF_DAY, 12, 44), None),
        (et(HALF_DAY, 12, 45), "half_day_after_1245"),
    ],
)
def test_session_block(at: datetime, expected: str | None) -> None:
    today = session(at.date())
    assert rules.session_block(now=at, session=today, open_delay_minutes=3) == expected


def test_cutoff_counts_back_from_the_real_close() -> None:
    half = session(HALF_DAY)
    assert half is not None
    assert not rules.past_cutoff(et(HALF_DAY, 12, 49), half, 10)
    assert rules.past_cutoff(et(HALF_DAY, 12, 50), half, 10)


def test_recenter_due_at_the_threshold_either_way() -> None:
    strike = Decimal(600)
    assert rules.recenter_due(spot=Decimal(605), straddle_strike=strike, distance_usd=Decimal(5))
    assert rules.recenter_due(spot=Decimal(595), straddle_strike=strike, distance_usd=Decimal(5))
    assert not rules.recenter_due(
        spot=Decimal("604.99"), straddle_strike=strike, distance_usd=Decimal(5)
    )


@pytest.mark.parametrize(
    ("spot", "expected"),
    [("608.17", PutCall.CALL), ("608.15", None), ("591.77", PutCall.PUT), ("591.78", None)],
)
def test_challenged_side_within_point_three_percent(spot: str, expected: PutCall | None) -> None:
    # 0.3 % of 610 = 1.83 -> call challenged from 608.17; 0.3 % of 590 = 1.77 -> put to 591.77.
    side = rules.challenged_side(
        spot=Decimal(spot), call_strike=Decimal(610), put_strike=Decimal(590), percent=0.3
    )
    assert side == expected


def test_emergency_move_against_the_previous_close() -> None:
    reason = rules.emergency_move_reason(
        spot=Decimal(570), straddle_strike=Decimal(572), previous_close=Decimal(600), percent=5.0
    )
    assert reason is not None and "previous close 600" in reason


def test_emergency_move_against_the_straddle_strike() -> None:
    reason = rules.emergency_move_reason(
        spot=Decimal(630), straddle_strike=Decimal(600), previous_close=Decimal(628), percent=5.0
    )
    assert reason is not None and "straddle strike 600" in reason


def test_emergency_move_without_a_straddle_counts_only_the_previous_close() -> None:
    def reason(previous_close: int) -> str | None:
        return rules.emergency_move_reason(
            spot=Decimal(570), straddle_strike=None,
            previous_close=Decimal(previous_close), percent=5.0,
        )  # fmt: skip

    assert reason(599) is None  # -4.84 %
    assert reason(601) is not None  # -5.16 %


def test_no_emergency_below_the_threshold() -> None:
    assert (
        rules.emergency_move_reason(
            spot=Decimal(629),
            straddle_strike=Decimal(600),
            previous_close=Decimal(610),
            percent=5.0,
        )
        is None
    )


def roll_due(at: datetime, expiry: date = date(2026, 6, 5)) -> bool:
    return rules.scheduled_roll_due(
        now=at, short_expiry=expiry, thursday_from_et=time(15), friday_from_et=time(10)
    )


def test_roll_schedule_thursday_from_1500_friday_from_1000() -> None:
    assert not roll_due(et(THURSDAY, 14, 59))
    assert roll_due(et(THURSDAY, 15, 0))
    assert not roll_due(et(date(2026, 6, 5), 9, 59))
    assert roll_due(et(date(2026, 6, 5), 10, 0))
    assert not roll_due(et(date(2026, 6, 3), 15, 0))  # Wednesday


def test_no_scheduled_roll_for_shorts_with_seven_days_left() -> None:
    assert not roll_due(et(THURSDAY, 15, 30), expiry=date(2026, 6, 11))


def test_shorts_rolled_into_a_good_friday_week_are_not_rolled_again_on_friday() -> None:
    # Thursday 2026-03-26's roll sells the week of Good Friday 2026-04-03, whose expiry moves
    # to Thursday 2026-04-02: 6 days left on Friday 03-27, yet already next week's shorts.
    holiday_week = date(2026, 4, 2)
    assert roll_due(et(date(2026, 3, 26), 15, 0), expiry=date(2026, 3, 27))
    assert not roll_due(et(date(2026, 3, 27), 10, 0), expiry=holiday_week)
    assert not roll_due(et(date(2026, 3, 27), 15, 30), expiry=holiday_week)


def test_shorts_expiring_on_the_thursday_before_good_friday_roll_that_thursday() -> None:
    assert roll_due(et(date(2026, 4, 2), 15, 0), expiry=date(2026, 4, 2))


def test_roll_only_for_a_net_credit() -> None:
    assert rules.roll_is_credit(close_cost_usd=Decimal(80), new_premium_usd=Decimal("80.01"))
    assert not rules.roll_is_credit(close_cost_usd=Decimal(80), new_premium_usd=Decimal(80))


def test_dte_exit_below_the_floor() -> None:
    expiry = date(2026, 8, 3)  # 60 days after THURSDAY
    assert not rules.long_dte_exit(long_expiry=expiry, now=et(THURSDAY, 10), long_exit_dte=60)
    assert rules.long_dte_exit(long_expiry=expiry, now=et(date(2026, 6, 5), 10), long_exit_dte=60)


def test_proactive_restart_when_new_shorts_outlive_the_exit() -> None:
    long_expiry = date(2026, 8, 14)  # DTE exit from 2026-06-15 on
    assert not rules.proactive_restart(
        long_expiry=long_expiry, new_short_expiry=date(2026, 6, 12), long_exit_dte=60
    )
    assert rules.proactive_restart(
        long_expiry=long_expiry, new_short_expiry=date(2026, 6, 19), long_exit_dte=60
    )


def test_shorts_expire_at_their_session_close_or_any_later_day() -> None:
    friday = date(2026, 3, 13)
    friday_session = session(friday)
    assert friday_session is not None
    before_close = friday_session.close - timedelta(seconds=1)
    assert not rules.shorts_expired(expiry=friday, now=before_close, session=friday_session)
    assert rules.shorts_expired(expiry=friday, now=friday_session.close, session=friday_session)
    monday = datetime(2026, 3, 16, 14, tzinfo=UTC)
    assert rules.shorts_expired(expiry=friday, now=monday, session=None)
    assert not rules.shorts_expired(expiry=date(2026, 3, 20), now=monday, session=None)


def test_a_refused_roll_waits_until_its_retry_time() -> None:
    retry_at = et(THURSDAY, 15, 35)
    assert rules.retry_waits(now=et(THURSDAY, 15, 34), retry_at=retry_at)
    assert not rules.retry_waits(now=retry_at, retry_at=retry_at)
    assert not rules.retry_waits(now=et(THURSDAY, 15, 34), retry_at=None)
