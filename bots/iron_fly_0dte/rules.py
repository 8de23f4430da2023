"""The iron fly's rules, pure: inputs in, a signal (or the first failing filter) out.

Entry filters (`check_filters`), in their fixed order: a valid range, FOMC decision day,
early-close cutoff (the hold must end before the session's close), economic release day
(CPI/PPI/jobs), VIX level, VIX spike during the range, price inside the range, price inside
the middle band. The first failure is the day's reason; a missing price or VIX is retried
within the entry window. Checked at the entry time and again on every pass up to the order.

Exit rules of an open fly (`check_exit`), checked on every decide in this order.

1. wing touch: price >= upper wing - tolerance or <= lower wing + tolerance;
2. flash move: the price moved `flash_move_percent` within `flash_move_window_minutes`;
3. max loss and 4. profit target: unrealized P&L in USD from the fill credit and the cost to
   close at the touch (see `book`), per contract;
5. time exit: `max_hold_minutes` after the entry fill.

A fly left without prices is closed by the runtime's no-price guard
(`shared.runtime.protection`, `market_data.no_price_close_seconds`), the one owner of that
close; a rule here needs a usable price or mark, so none fires blind.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from bots.iron_fly_0dte.book import Fly
from bots.iron_fly_0dte.config import IronFlyStrategyConfig
from bots.iron_fly_0dte.opening_range import NY, OpeningRange, range_start_at
from shared.domain import Quote
from shared.strategy_contract import CalendarFacts


@dataclass(frozen=True)
class ExitSignal:
    """Why to close now: `reason` is journaled as the trade's exit reason."""

    reason: str  # wing_touch, flash_move, max_loss, profit_target, time_exit
    detail: str


@dataclass(frozen=True)
class ExitInputs:
    """What the exit rules look at for one decide."""

    now: datetime
    price: Decimal | None
    leg_quotes: dict[int, Quote]  # fresh, usable quotes of the fly's legs only
    flash_move_percent: Decimal


def check_exit(settings: IronFlyStrategyConfig, fly: Fly, inputs: ExitInputs) -> ExitSignal | None:
    """The first exit rule that fires, or None to keep holding."""
    price = inputs.price
    tolerance = settings.wing_touch_tolerance_points
    if price is not None:
        if price >= fly.upper_wing - tolerance:
            return ExitSignal("wing_touch", f"price {price} touched upper wing {fly.upper_wing}")
        if price <= fly.lower_wing + tolerance:
            return ExitSignal("wing_touch", f"price {price} touched lower wing {fly.lower_wing}")
    if inputs.flash_move_percent >= Decimal(str(settings.flash_move_percent)):
        return ExitSignal(
            "flash_move",
            f"moved {inputs.flash_move_percent:.2f}% within "
            f"{settings.flash_move_window_minutes} min",
        )
    pnl = fly.unrealized_pnl_usd(inputs.leg_quotes)
    if pnl is not None:
        per_contract = pnl / fly.quantity
        if per_contract <= -settings.max_loss_usd_per_contract:
            return ExitSignal("max_loss", f"P&L {per_contract:.2f} USD per contract")
        if per_contract >= settings.profit_target_usd_per_contract:
            return ExitSignal("profit_target", f"P&L {per_contract:.2f} USD per contract")
    if fly.entry_at is not None:
        held = inputs.now - fly.entry_at
        if held >= timedelta(minutes=settings.max_hold_minutes):
            return ExitSignal("time_exit", f"held {held.total_seconds() / 60:.1f} min")
    return None


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


PASSED = FilterResult(True)


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
