"""The entry filters, in their fixed order, and the day's Opening Range record.

Order: a valid range, FOMC decision day, early-close cutoff (the hold must end before the
session's close), economic release day (CPI/PPI/jobs), VIX level, VIX spike during the range,
price inside the range, price inside the middle band. The first failure is the day's reason.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from bots.iron_fly_0dte.config import IronFlyStrategyConfig
from bots.iron_fly_0dte.opening_range import OpeningRange
from shared.strategy_contract import CalendarFacts

NY = ZoneInfo("America/New_York")


@dataclass(frozen=True)
class FilterResult:
    """`passed` or the first failing filter's `name` and `reason`. `missing_data` marks a
    failure for want of a usable price or VIX level: retried within the entry window, where
    any other failure skips the day."""

    passed: bool
    name: str = ""
    reason: str = ""
    missing_data: bool = False

    def describe(self) -> str:
        return f"{self.name}: {self.reason}"


PASSED = FilterResult(True)


def range_start_at(settings: IronFlyStrategyConfig, now: datetime) -> datetime:
    """Today's (New York date of `now`) opening-range start, UTC-comparable."""
    day = now.astimezone(NY).date()
    return datetime.combine(day, settings.opening_range_start_et, tzinfo=NY)


def entry_at(settings: IronFlyStrategyConfig, now: datetime) -> datetime:
    """Today's (New York date of `now`) entry time."""
    day = now.astimezone(NY).date()
    return datetime.combine(day, settings.entry_time_et, tzinfo=NY)


def check_filters(
    settings: IronFlyStrategyConfig,
    *,
    now: datetime,
    calendar: CalendarFacts,
    opening_range: OpeningRange | None,
    price: Decimal | None,
    vix: Decimal | None,
) -> FilterResult:
    """Evaluate every entry filter in order at `now` (UTC); the first failure wins. Run at
    the entry decision and again on every pass up to the order."""
    if opening_range is None:
        return FilterResult(False, "range", "no prices during the opening range")
    late = opening_range.first_at - range_start_at(settings, now)
    if late > timedelta(minutes=settings.max_range_late_start_minutes):
        return FilterResult(
            False, "range",
            f"range began {late.total_seconds() / 60:.1f} min late "
            f"(max {settings.max_range_late_start_minutes})",
        )
    if price is None:
        return FilterResult(False, "price", "no usable underlying price", missing_data=True)
    if settings.fomc_day_blackout and calendar.fomc_decision_day:
        return FilterResult(False, "fomc", "FOMC decision day")
    session = calendar.session
    if session is None:
        return FilterResult(False, "session", "not a trading day")
    hold_end = now + timedelta(minutes=settings.max_hold_minutes)
    if hold_end > session.close:
        kind = "early close" if session.early_close else "close"
        return FilterResult(
            False, "early_close",
            f"a {settings.max_hold_minutes} min hold would pass the {kind} at "
            f"{session.close.astimezone(NY):%H:%M} ET",
        )
    if settings.economic_data_blackout and calendar.economic_release_day:
        events = ", ".join(calendar.events) or "economic release"
        return FilterResult(False, "economic", f"economic release day ({events})")
    if vix is None:
        return FilterResult(False, "vix", "no VIX level", missing_data=True)
    if vix > Decimal(str(settings.max_vix_entry)):
        return FilterResult(False, "vix", f"VIX {vix} above max {settings.max_vix_entry}")
    spike = opening_range.vix_spike_percent()
    if spike is None:
        return FilterResult(False, "vix_spike", "no VIX seen during the opening range")
    if spike > Decimal(str(settings.max_vix_spike_percent)):
        return FilterResult(
            False, "vix_spike",
            f"VIX rose {spike:.2f}% in the range (max {settings.max_vix_spike_percent}%)",
        )
    if settings.require_price_in_range and not opening_range.low <= price <= opening_range.high:
        return FilterResult(
            False, "trend_day",
            f"price {price} outside the range {opening_range.low}-{opening_range.high}",
        )
    if settings.require_price_near_midpoint:
        allowed = opening_range.width / 2 * Decimal(str(settings.midpoint_tolerance_percent)) / 100
        distance = abs(price - opening_range.midpoint)
        if distance > allowed:
            return FilterResult(
                False, "midpoint",
                f"price {price} is {distance} from the midpoint {opening_range.midpoint} "
                f"(max {allowed})",
            )
    return PASSED


def opening_range_payload(
    settings: IronFlyStrategyConfig,
    *,
    day: str,
    as_of: datetime,
    opening_range: OpeningRange | None,
    price: Decimal | None,
    vix: Decimal | None,
    decision: str,
    reason: str,
    expected_move: Decimal | None = None,
    atm_strike: Decimal | None = None,
    wing_width: Decimal | None = None,
) -> dict[str, Any]:
    """The Opening Range row (strategies.md 4.1, the Sheets `opening_range` kind): prices in
    points, times HH:MM ET, `as_of` UTC. `decision` is MONITORING, ENTER or SKIP. Numbers are
    strings (exact Decimals) or null.
    """

    def text(value: Decimal | None) -> str | None:
        return None if value is None else str(value)

    rng = opening_range
    in_range = None if rng is None or price is None else rng.low <= price <= rng.high
    spike = None if rng is None else rng.vix_spike_percent()
    return {
        "date": day,
        "as_of": as_of.isoformat(),
        "start_time": None if rng is None else f"{rng.first_at.astimezone(NY):%H:%M}",
        "end_time": f"{settings.entry_time_et:%H:%M}",
        "opening_price": None if rng is None else text(rng.open_price),
        "range_high": None if rng is None else text(rng.high),
        "range_low": None if rng is None else text(rng.low),
        "range_width": None if rng is None else text(rng.width),
        "current_price": text(price),
        "price_in_range": in_range,
        "opening_vix": None if rng is None else text(rng.vix_open),
        "vix_high": None if rng is None else text(rng.vix_high),
        "current_vix": text(vix),
        "vix_spike_pct": None if spike is None else f"{spike:.2f}",
        "expected_move": text(expected_move),
        "entry_decision": decision,
        "reason": reason,
        "atm_strike": text(atm_strike),
        "wing_width": text(wing_width),
    }
