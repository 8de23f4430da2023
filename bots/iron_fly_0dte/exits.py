"""Exit rules of an open fly, checked on every decide in this order.

1. wing touch: price >= upper wing - tolerance or <= lower wing + tolerance;
2. flash move: the price moved `flash_move_percent` within `flash_move_window_minutes`;
3. max loss and 4. profit target: unrealized P&L in USD from the fill credit and the cost to
   close at the touch (see `position`), per contract;
5. time exit: `max_hold_minutes` after the entry fill.

A fly left without prices is closed by the runtime's no-price guard
(`shared.runtime.protection`, `market_data.no_price_close_seconds`), the one owner of that
close; a rule here needs a usable price or mark, so none fires blind.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from bots.iron_fly_0dte.config import IronFlyStrategyConfig
from bots.iron_fly_0dte.position import Fly
from shared.domain import Quote


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
