"""Strict config of the Rolling Put Diagonal bot (Bill Belt's QQQ put diagonal campaigns).

Keys of the earlier implementation that are NOT carried over, and why:
- `saxo_api.*`: credentials are secrets (see `account`); endpoints are fixed per environment.
- `strategy.underlying_symbol`: a label (the UIC identifies QQQ).
- `strategy.dry_run`: duplicated the command-line flag; now `bot.dry_run` only.
- `short_put.target_dte` / `target_delta`: logged, never used; the short is always the ATM put
  of the next expiry.
- `management.roll_time_hour`: never implemented; now `short_roll_time_et`, which the roll
  reads (the short is rolled on its expiry day, so it no longer rolls every iteration).
- `management.progressive_retry`, `order_timeout_seconds`, `max_market_spread` and
  `circuit_breaker.order_timeout_seconds`: now the shared `execution` section.
- `circuit_breaker.action_cooldown_seconds`: now `strategy.failed_action_cooldown_minutes`.
- `management.max_unrealized_loss`: now `max_loss_usd_per_contract` (explicit unit).
- `long_put.roll_bp_threshold`: now `long_roll_bp_threshold_usd` (same default, 1200 USD of the
  account's margin used from `/port/v1/balances`; 0 disables).
- weekly-trend filter: never computed; dropped. `close_short_only`: nothing triggered it.
- `email_alerts.*`: no email sink; alerts are log lines and Sheets rows.
- `external_price_feed.enabled`: the bot uses no VIX, so no fallback feed.
"""

from __future__ import annotations

from datetime import time
from decimal import Decimal
from typing import ClassVar, Literal

from pydantic import Field, model_validator

from shared.config.base import SessionTimeET, StrictModel
from shared.config.envelope import BotConfigBase, LoopSection

BOT_NAME = "rolling_put_diagonal"


class RollingPutDiagonalInstruments(StrictModel):
    """Saxo identifiers of what the bot trades."""

    underlying_uic: int = Field(default=4328771, ge=1, description="UIC of QQQ (QQQ:xnas).")
    underlying_asset_type: Literal["Etf", "Stock"] = Field(
        default="Etf", description="Saxo AssetType of QQQ (Stock on legacy-asset-type apps)."
    )


class RollingPutDiagonalStrategy(StrictModel):
    """Entry signal, leg selection, rolls and campaign exits. Times are ET; bars are daily."""

    instruments: RollingPutDiagonalInstruments = RollingPutDiagonalInstruments()
    position_size_contracts: int = Field(default=1, ge=1, le=20, description="Contracts per leg.")
    # --- entry gates
    market_open_delay_minutes: int = Field(
        default=3, ge=0, le=30, description="No entry in the first minutes after 09:30 ET."
    )
    max_opening_gap_percent: float = Field(
        default=2.0,
        ge=0.1,
        le=20.0,
        description="No entry before gap_check_until_et when QQQ gapped this percent or "
        "more from the previous session's close.",
    )
    gap_check_until_et: SessionTimeET = Field(
        default=time(10, 0), description="End of the opening-gap entry block (ET)."
    )
    max_entry_spread_percent: float = Field(
        default=10.0,
        ge=0.5,
        le=100.0,
        description="No entry when a leg's (ask - bid) / mid exceeds this percent.",
    )
    fomc_blackout_days: int = Field(
        default=1,
        ge=0,
        le=10,
        description="No entry, and close the campaign, within this many days of an FOMC decision.",
    )
    earnings_blackout_days: int = Field(
        default=1,
        ge=0,
        le=10,
        description="Same, for earnings of the largest QQQ holdings.",
    )
    # --- indicators (daily bars)
    ema_period: int = Field(default=9, ge=2, le=50, description="EMA length, daily bars.")
    min_green_candles_above_ema: int = Field(
        default=2,
        ge=1,
        le=10,
        description="Consecutive green daily candles closing above the EMA needed to enter.",
    )
    macd_fast_period: int = Field(default=12, ge=2, le=50, description="MACD fast EMA, bars.")
    macd_slow_period: int = Field(default=26, ge=3, le=100, description="MACD slow EMA, bars.")
    macd_signal_period: int = Field(default=9, ge=2, le=50, description="MACD signal, bars.")
    use_cci_filter: bool = Field(
        default=False, description="Block entry when CCI is above cci_overbought."
    )
    cci_period: int = Field(default=20, ge=5, le=100, description="CCI length, daily bars.")
    cci_overbought: float = Field(
        default=100.0, ge=50.0, le=300.0, description="CCI level that blocks entry."
    )
    # --- legs
    long_put_target_dte: int = Field(
        default=14, ge=3, le=90, description="Days to expiry sought for the long put."
    )
    long_put_target_delta: float = Field(
        default=-0.33, ge=-0.95, le=-0.05, description="Delta sought for the long put."
    )
    long_put_delta_tolerance: float = Field(
        default=0.05, ge=0.01, le=0.2, description="Accepted distance from the target delta."
    )
    long_roll_delta_threshold: float = Field(
        default=-0.20,
        ge=-0.9,
        le=-0.01,
        description="Roll the long put up when its delta is closer to zero than this.",
    )
    long_roll_bp_threshold_usd: Decimal = Field(
        default=Decimal(1200),
        ge=Decimal(0),
        le=Decimal(1_000_000),
        decimal_places=2,
        description="Roll the long put up when the account's margin used by current positions "
        "(Saxo's MarginUsedByCurrentPositions from /port/v1/balances, USD; the whole account, "
        "so other bots on it count) reaches this (0: off).",
    )
    short_roll_time_et: SessionTimeET = Field(
        default=time(12, 0),
        description="On the short put's expiry day, roll it to the next expiry at (ET).",
    )
    # --- campaign exits
    campaign_close_dte: int = Field(
        default=2,
        ge=0,
        le=30,
        description="Close the campaign when the long put has this many days to expiry or fewer.",
    )
    max_loss_usd_per_contract: Decimal = Field(
        default=Decimal(500),
        ge=Decimal(10),
        le=Decimal(50000),
        decimal_places=2,
        description="Close the campaign when its unrealized loss reaches this many USD per "
        "contract.",
    )
    # --- safety
    failed_action_cooldown_minutes: int = Field(
        default=5,
        ge=1,
        le=240,
        description="After a failed entry, roll or close, or an entry that found no put "
        "passing the spread gate, wait this long before retrying it.",
    )
    flash_move_percent: float = Field(
        default=2.0,
        ge=0.1,
        le=20.0,
        description="Raise a safety event on a QQQ move of this percent within "
        "flash_move_window_minutes.",
    )
    flash_move_window_minutes: int = Field(
        default=5, ge=1, le=60, description="Window of the flash-move check, minutes."
    )

    @model_validator(mode="after")
    def _consistent(self) -> RollingPutDiagonalStrategy:
        if self.macd_fast_period >= self.macd_slow_period:
            raise ValueError(
                f"macd_fast_period ({self.macd_fast_period}) must be below macd_slow_period "
                f"({self.macd_slow_period})"
            )
        if self.campaign_close_dte >= self.long_put_target_dte:
            raise ValueError(
                f"campaign_close_dte ({self.campaign_close_dte}) must be below "
                f"long_put_target_dte ({self.long_put_target_dte})"
            )
        lowest_bought = abs(self.long_put_target_delta) - self.long_put_delta_tolerance
        if abs(self.long_roll_delta_threshold) >= lowest_bought:
            raise ValueError(
                f"|long_roll_delta_threshold| ({abs(self.long_roll_delta_threshold):.2f}) must "
                "be below |long_put_target_delta| - long_put_delta_tolerance "
                f"({lowest_bought:.2f}), or a freshly bought put would be rolled at once"
            )
        return self


class RollingPutDiagonalConfig(BotConfigBase[RollingPutDiagonalStrategy]):
    """The rolling put diagonal's config file. Daily-bar signals: a slow loop by default."""

    bot_name: ClassVar[str] = BOT_NAME

    loop: LoopSection = LoopSection(
        poll_seconds_idle=60.0,
        poll_seconds_in_position=30.0,
        heartbeat_seconds=60.0,
        health_line_seconds=900.0,
        reconcile_interval_seconds=300.0,
    )


# Looked up by name by shared.config_loader.BOT_CONFIG_MODELS.
CONFIG_MODEL = RollingPutDiagonalConfig
