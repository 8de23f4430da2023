"""Strict config of the Delta Neutral bot (SPY long ATM straddle plus weekly short strangles).

Keys of the earlier implementation that are NOT carried over, and why:
- `saxo_api.*`: credentials are secrets (see `account`); endpoints are fixed per environment.
- `strategy.name`, `underlying_symbol`, `vix_symbol`: labels nothing read (UICs identify).
- `roll_days`: read but never used (roll times were hardcoded); now `roll_start_thursday_et`
  and `roll_start_friday_et`, which the roll logic reads.
- `short_strangle_max_multiplier`: documented as the cap but never used; the cap actually
  applied is `strangle_multiplier_max`.
- `recenter_threshold_points`: now `recenter_threshold` with `recenter_threshold_unit`
  (points or percent of the straddle strike).
- `exit_dte_max`: renamed `long_exit_dte` (the old name read as a maximum; it is a floor).
- `vix_defensive_threshold`: renamed `max_vix_new_shorts`.
- `premarket_gap_threshold_percent`: the gap check only logged, against the wrong reference
  price; no decision used it.
- `order_timeout_seconds`, `max_absolute_slippage`: now the shared `execution` section.
- `circuit_breaker.max_disconnection_seconds`: the client's own breaker is gone
  (`market_data.*` handles stale data); `cooldown_minutes` no longer doubles as the action
  cooldown (see `failed_action_cooldown_minutes`).
- `currency.*` (EUR display) and `microsoft_sheets.*`: P&L is USD; only Google Sheets mirrors.
- `external_price_feed.enabled`: now `strategy.vix_fallback_yahoo`.
"""

from __future__ import annotations

from datetime import time
from decimal import Decimal
from typing import ClassVar, Literal

from pydantic import Field, model_validator

from shared.config.base import SessionTimeET, StrictModel
from shared.config.envelope import BotConfigBase, LoopSection

BOT_NAME = "delta_neutral"

# Accepted recenter_threshold per unit, inclusive.
RECENTER_BOUNDS: dict[str, tuple[Decimal, Decimal]] = {
    "points": (Decimal("0.50"), Decimal(100)),
    "percent": (Decimal("0.10"), Decimal(20)),
}


class DeltaNeutralInstruments(StrictModel):
    """Saxo identifiers of what the bot trades and watches."""

    underlying_uic: int = Field(default=36590, ge=1, description="UIC of SPY (SPY:arcx).")
    underlying_asset_type: Literal["Etf", "Stock"] = Field(
        default="Etf", description="Saxo AssetType of SPY (Stock on legacy-asset-type apps)."
    )
    vix_uic: int = Field(default=10606, ge=1, description="UIC of VIX.I (StockIndex).")


class DeltaNeutralStrategyConfig(StrictModel):
    """Long straddle entry and exit, recentering, and weekly short strangles. Times are ET."""

    instruments: DeltaNeutralInstruments = DeltaNeutralInstruments()
    position_size_contracts: int = Field(
        default=1, ge=1, le=20, description="Contracts per leg of straddle and strangle."
    )
    vix_fallback_yahoo: bool = Field(
        default=True, description="Use Yahoo Finance ^VIX when Saxo gives no VIX level."
    )
    # --- long straddle
    max_vix_entry: float = Field(
        default=18.0,
        ge=5.0,
        le=80.0,
        description="A new long straddle only while VIX is below this level.",
    )
    fomc_blackout_days: int = Field(
        default=2,
        ge=0,
        le=10,
        description="No new long straddle within this many days before an FOMC decision.",
    )
    market_open_delay_minutes: int = Field(
        default=3,
        ge=0,
        le=30,
        description="No new position in the first minutes after 09:30 ET (stale quotes).",
    )
    long_straddle_target_dte: int = Field(
        default=120, ge=30, le=400, description="Days to expiry sought for the long straddle."
    )
    long_exit_dte: int = Field(
        default=60,
        ge=7,
        le=365,
        description="Close everything when the long straddle has fewer days to expiry.",
    )
    max_entry_spread_percent: float = Field(
        default=1.0,
        ge=0.05,
        le=50.0,
        description="No entry when a leg's (ask - bid) / mid exceeds this percent.",
    )
    recenter_threshold: Decimal = Field(
        default=Decimal("5.00"),
        gt=Decimal(0),
        le=Decimal(100),
        decimal_places=2,
        description="Recenter the straddle when SPY is this far from its strike, in "
        "recenter_threshold_unit.",
    )
    recenter_threshold_unit: Literal["points", "percent"] = Field(
        default="points",
        description="points: USD per SPY share (0.50-100); percent: of the straddle strike "
        "(0.1-20).",
    )
    recenter_cutoff_minutes_before_close: int = Field(
        default=15, ge=0, le=120, description="No recentering this close to the session close."
    )
    emergency_exit_percent: float = Field(
        default=5.0,
        ge=0.5,
        le=50.0,
        description="Close everything when SPY moves this percent from the straddle strike.",
    )
    # --- weekly short strangle
    max_vix_new_shorts: float = Field(
        default=25.0,
        ge=5.0,
        le=100.0,
        description="No new short strangle while VIX is at or above this level.",
    )
    short_target_dte: int = Field(
        default=7,
        ge=1,
        le=14,
        description="Shorts expire on the first Friday at least this many days out.",
    )
    weekly_target_return_percent: float = Field(
        default=1.0,
        ge=0.0,
        le=10.0,
        description="Target net weekly premium, percent of the long straddle cost; 0 selects "
        "strikes by expected-move multiplier instead.",
    )
    strangle_multiplier_min: float = Field(
        default=1.5,
        ge=0.3,
        le=5.0,
        description="Lowest short-strike distance, in expected moves (multiplier mode).",
    )
    strangle_multiplier_max: float = Field(
        default=2.0,
        ge=0.3,
        le=5.0,
        description="Highest short-strike distance, in expected moves (cap in both modes).",
    )
    short_entry_fee_usd_per_leg: Decimal = Field(
        default=Decimal("2.00"),
        ge=Decimal(0),
        le=Decimal(100),
        decimal_places=2,
        description="Commission per short leg counted in the net weekly return, USD.",
    )
    short_itm_risk_percent: float = Field(
        default=0.3,
        ge=0.0,
        le=5.0,
        description="Close the strangle when SPY comes within this percent of a short strike.",
    )
    roll_start_thursday_et: SessionTimeET = Field(
        default=time(15, 0), description="Scheduled roll of the shorts from Thursday at (ET)."
    )
    roll_start_friday_et: SessionTimeET = Field(
        default=time(10, 0), description="... or from Friday at (ET), if not rolled Thursday."
    )
    shorts_cutoff_minutes_before_close: int = Field(
        default=10, ge=0, le=120, description="No short entry or roll this close to the close."
    )
    roll_retry_minutes: int = Field(
        default=5,
        ge=1,
        le=60,
        description="A scheduled roll refused as a net debit (or not priced) is priced again "
        "only after this many minutes.",
    )
    # --- safety
    failed_action_cooldown_minutes: int = Field(
        default=15,
        ge=1,
        le=240,
        description="After a failed recenter, roll or exit, wait this long before retrying it.",
    )
    flash_move_percent: float = Field(
        default=2.0,
        ge=0.1,
        le=20.0,
        description="Raise a safety event on a SPY move of this percent within "
        "flash_move_window_minutes.",
    )
    flash_move_window_minutes: int = Field(
        default=5, ge=1, le=60, description="Window of the flash-move check, minutes."
    )

    @model_validator(mode="after")
    def _consistent(self) -> DeltaNeutralStrategyConfig:
        if self.long_exit_dte >= self.long_straddle_target_dte:
            raise ValueError(
                f"long_exit_dte ({self.long_exit_dte}) must be below long_straddle_target_dte "
                f"({self.long_straddle_target_dte})"
            )
        if self.long_straddle_target_dte - self.long_exit_dte < self.short_target_dte:
            raise ValueError(
                "long_straddle_target_dte - long_exit_dte must leave room for at least one "
                f"weekly short (short_target_dte {self.short_target_dte})"
            )
        if self.strangle_multiplier_min > self.strangle_multiplier_max:
            raise ValueError(
                f"strangle_multiplier_min ({self.strangle_multiplier_min}) must not exceed "
                f"strangle_multiplier_max ({self.strangle_multiplier_max})"
            )
        low, high = RECENTER_BOUNDS[self.recenter_threshold_unit]
        if not low <= self.recenter_threshold <= high:
            raise ValueError(
                f"recenter_threshold ({self.recenter_threshold}) must be within {low}-{high} "
                f"{self.recenter_threshold_unit}"
            )
        if self.max_vix_new_shorts < self.max_vix_entry:
            raise ValueError(
                f"max_vix_new_shorts ({self.max_vix_new_shorts}) must be at least "
                f"max_vix_entry ({self.max_vix_entry})"
            )
        return self

    def recenter_distance_usd(self, straddle_strike: Decimal) -> Decimal:
        """SPY's distance from `straddle_strike` (USD per share) at which the straddle recenters."""
        if self.recenter_threshold_unit == "points":
            return self.recenter_threshold
        return straddle_strike * self.recenter_threshold / Decimal(100)


class DeltaNeutralConfig(BotConfigBase[DeltaNeutralStrategyConfig]):
    """The delta neutral bot's config file. A slower loop than the 0DTE bot by default."""

    bot_name: ClassVar[str] = BOT_NAME

    loop: LoopSection = LoopSection(poll_seconds_idle=30.0, poll_seconds_in_position=10.0)


# Looked up by name by shared.config_loader.BOT_CONFIG_MODELS.
CONFIG_MODEL = DeltaNeutralConfig
