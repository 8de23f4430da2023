"""Strict config of the Iron Fly 0DTE bot (Doc Severson's 0DTE SPX iron butterfly).

Keys of the earlier implementation that are NOT carried over, and why:
- `saxo_api.*` credentials and URLs: credentials are secrets (see `account`); endpoints are
  fixed per environment in the Saxo client.
- `strategy.name`, `vix_symbol`, `underlying_symbol`, `_risk_metrics.*`: labels nothing read;
  the underlying is identified by `instruments.underlying_uic` and its asset type.
- `opening_range_minutes`: never read; the range runs from `opening_range_start_et` to
  `entry_time_et`.
- `strike_bias`, `wing_calculation`, `stop_loss_type`: never read; the ATM strike is always
  rounded up to the 5-point grid, wings are the expected move, the stop is the wing touch.
- `filters.check_opening_range`: never read (the range filters are the keys below).
- `circuit_breaker.max_disconnection_seconds`: the client's own breaker is gone; staleness is
  `market_data.*` and the one breaker is `circuit_breaker.*`.
- `google_sheets.strategy_type` / `include_opening_range`, `logging.log_file` /
  `console_output`: fixed by the bot and the log service.
- `external_price_feed.enabled`: now `strategy.vix_fallback_yahoo` (only VIX uses it).
- `calibrate` / `manual_expected_move`: now `strategy.manual_wing_width_points`.
"""

from __future__ import annotations

from datetime import time
from decimal import Decimal
from typing import ClassVar, Literal

from pydantic import Field, model_validator

from shared.config.base import EARLY_CLOSE_ET, SessionTimeET, StrictModel, minutes_between
from shared.config.envelope import BotConfigBase, ExecutionSection

BOT_NAME = "iron_fly_0dte"
STRIKE_STEP_POINTS = 5  # SPXW strikes near the money are 5 points apart


class IronFlyInstruments(StrictModel):
    """Saxo identifiers of what the bot trades and watches."""

    underlying_uic: int = Field(
        default=4913, ge=1, description="UIC of the SPX price source (US500.I)."
    )
    underlying_asset_type: Literal["CfdOnIndex", "StockIndex"] = Field(
        default="CfdOnIndex", description="Saxo AssetType of the underlying UIC."
    )
    option_root_uic: int = Field(
        default=128, ge=1, description="Option root UIC of SPXW (StockIndexOption)."
    )
    vix_uic: int = Field(default=10606, ge=1, description="UIC of VIX.I (StockIndex).")


class IronFlyStrategyConfig(StrictModel):
    """Entry filters, strikes and exits of the 0DTE iron butterfly. Times are ET."""

    instruments: IronFlyInstruments = IronFlyInstruments()
    position_size_contracts: int = Field(
        default=1, ge=1, le=20, description="Iron flies per trade (each leg this many)."
    )
    vix_fallback_yahoo: bool = Field(
        default=True,
        description="When Saxo has no VIX quote, use the runtime's best VIX level (which may "
        "come from Yahoo Finance ^VIX); false: only the Saxo quote of vix_uic counts.",
    )
    # --- opening range and entry filters
    opening_range_start_et: SessionTimeET = Field(
        default=time(9, 30), description="Start of the opening range (HH:MM ET)."
    )
    entry_time_et: SessionTimeET = Field(
        default=time(10, 0),
        description="End of the opening range; entry is decided at the first tick at or "
        "after it (HH:MM ET).",
    )
    max_range_late_start_minutes: int = Field(
        default=5,
        ge=0,
        le=30,
        description="No entry when the first price of the opening range came more than this "
        "many minutes after opening_range_start_et (a start mid-range sees only part of it).",
    )
    entry_window_minutes: int = Field(
        default=5,
        ge=1,
        le=30,
        description="The entry order must go out within this many minutes after entry_time_et "
        "(missing quotes, wide spreads or a tripped breaker are waited out until then); "
        "later the day is skipped.",
    )
    max_vix_entry: float = Field(
        default=20.0, ge=5.0, le=80.0, description="No entry when VIX is above this level."
    )
    max_vix_spike_percent: float = Field(
        default=5.0,
        ge=0.0,
        le=100.0,
        description="No entry when VIX rose more than this percent from its level at the "
        "range start to its high during the range.",
    )
    require_price_in_range: bool = Field(
        default=True, description="No entry when the price is outside the range (trend day)."
    )
    require_price_near_midpoint: bool = Field(
        default=True,
        description="No entry unless the price sits within midpoint_tolerance_percent of the "
        "half-range around the range midpoint.",
    )
    midpoint_tolerance_percent: float = Field(
        default=70.0,
        ge=1.0,
        le=100.0,
        description="Allowed distance from the midpoint, percent of half the range width.",
    )
    fomc_day_blackout: bool = Field(default=True, description="No entry on an FOMC decision day.")
    economic_data_blackout: bool = Field(
        default=True, description="No entry on a CPI, PPI or jobs-report release day."
    )
    max_entry_spread_percent: float = Field(
        default=20.0,
        ge=1.0,
        le=100.0,
        description="No entry while the fly's combined spread (the four legs' ask - bid "
        "summed) exceeds this percent of its mid credit.",
    )
    max_entry_attempts: int = Field(
        default=3, ge=1, le=10, description="Attempts to open the fly before giving up."
    )
    entry_attempt_spacing_seconds: float = Field(
        default=15.0, ge=1.0, le=300.0, description="Seconds between entry attempts."
    )
    entry_report_timeout_seconds: float = Field(
        default=300.0,
        ge=30.0,
        le=1800.0,
        description="Seconds after the last entry attempt is due without a final entry report; "
        "then any legs at the broker are closed and the day ends.",
    )
    # --- strikes
    min_wing_width_points: int = Field(
        default=5,
        ge=5,
        le=200,
        description="Smallest wing width (distance ATM to each long strike), SPX points.",
    )
    max_wing_width_points: int = Field(
        default=100, ge=5, le=500, description="Largest wing width, SPX points."
    )
    manual_wing_width_points: int | None = Field(
        default=None,
        ge=5,
        le=500,
        description="Fixed wing width in SPX points instead of the expected move (null: "
        "use the 0DTE ATM straddle price).",
    )
    # --- exits
    profit_target_usd_per_contract: Decimal = Field(
        default=Decimal(75),
        ge=Decimal(1),
        le=Decimal(5000),
        decimal_places=2,
        description="Close when the P&L (from fills, after commissions) reaches this many "
        "USD per fly.",
    )
    max_loss_usd_per_contract: Decimal = Field(
        default=Decimal(400),
        ge=Decimal(10),
        le=Decimal(50000),
        decimal_places=2,
        description="Close when the loss reaches this many USD per fly.",
    )
    max_hold_minutes: int = Field(
        default=60, ge=1, le=360, description="Close this many minutes after the entry fill."
    )
    wing_touch_tolerance_points: Decimal = Field(
        default=Decimal("0.10"),
        ge=Decimal(0),
        le=Decimal(5),
        decimal_places=2,
        description="Stop: close when the price comes within this many points of a wing.",
    )
    flash_move_percent: float = Field(
        default=2.0,
        ge=0.1,
        le=20.0,
        description="Emergency close on an underlying move of this percent within "
        "flash_move_window_minutes.",
    )
    flash_move_window_minutes: int = Field(
        default=5, ge=1, le=60, description="Window of the flash-move check, minutes."
    )
    close_retry_seconds: float = Field(
        default=60.0,
        ge=10.0,
        le=600.0,
        description="A close with no final report after this many seconds, or reported stuck, "
        "is re-issued this often for the legs the broker still shows (alert state).",
    )

    @model_validator(mode="after")
    def _consistent(self) -> IronFlyStrategyConfig:
        if self.entry_time_et <= self.opening_range_start_et:
            raise ValueError(
                f"entry_time_et ({self.entry_time_et:%H:%M}) must be after "
                f"opening_range_start_et ({self.opening_range_start_et:%H:%M})"
            )
        latest_exit = minutes_between(self.entry_time_et, EARLY_CLOSE_ET)
        if self.entry_window_minutes + self.max_hold_minutes > latest_exit:
            raise ValueError(
                f"entry_time_et {self.entry_time_et:%H:%M} + entry_window_minutes "
                f"{self.entry_window_minutes} + max_hold_minutes {self.max_hold_minutes} "
                "ends after 13:00 ET, the close on early-close days"
            )
        if self.profit_target_usd_per_contract >= self.max_loss_usd_per_contract:
            raise ValueError(
                f"profit_target_usd_per_contract ({self.profit_target_usd_per_contract}) must "
                f"be below max_loss_usd_per_contract ({self.max_loss_usd_per_contract})"
            )
        if self.min_wing_width_points > self.max_wing_width_points:
            raise ValueError(
                f"min_wing_width_points ({self.min_wing_width_points}) must not exceed "
                f"max_wing_width_points ({self.max_wing_width_points})"
            )
        for key in ("min_wing_width_points", "max_wing_width_points", "manual_wing_width_points"):
            value = getattr(self, key)
            if value is not None and value % STRIKE_STEP_POINTS:
                raise ValueError(f"{key} ({value}) must be a multiple of {STRIKE_STEP_POINTS}")
        manual = self.manual_wing_width_points
        if manual is not None and not (
            self.min_wing_width_points <= manual <= self.max_wing_width_points
        ):
            raise ValueError(
                f"manual_wing_width_points ({manual}) must lie within min_wing_width_points "
                f"({self.min_wing_width_points}) and max_wing_width_points "
                f"({self.max_wing_width_points})"
            )
        return self


class IronFlyConfig(BotConfigBase[IronFlyStrategyConfig]):
    """The iron fly's config file. Orders default to MARKET per leg, as the strategy is
    written; a limit ladder is allowed."""

    bot_name: ClassVar[str] = BOT_NAME

    execution: ExecutionSection = ExecutionSection(order_style="market")


# Looked up by name by shared.config_loader.BOT_CONFIG_MODELS.
CONFIG_MODEL = IronFlyConfig
