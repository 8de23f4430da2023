"""The config envelope shared by the three bots: every section except `strategy`.

A bot's config class is `BotConfigBase[ItsStrategyModel]` with `bot_name` set. Units are in
the key names; times are America/New_York; money is USD as Decimal.
"""

from __future__ import annotations

import itertools
from decimal import Decimal
from pathlib import Path
from typing import ClassVar, Generic, Literal, TypeVar

from pydantic import Field, field_validator, model_validator

from shared.alerts.config import AlertsSection
from shared.circuit_breaker import BreakerSettings
from shared.config.base import SecretName, ShortText, StrictModel
from shared.config.secret_names import ACCOUNT_CONFIG, SAXO_CREDENTIALS

Environment = Literal["live", "sim", "local"]
# Environments that talk to Saxo and therefore need the account's secrets.
SAXO_ENVIRONMENTS: frozenset[str] = frozenset({"live", "sim"})

MAX_LADDER_SECONDS = 1800.0


class BotSection(StrictModel):
    """Which bot, against which environment, and whether orders are only simulated."""

    name: str = Field(
        description="The bot this file configures; must equal the bot being started "
        "(guards against a config copied to the wrong bot)."
    )
    environment: Environment = Field(
        description="live: Saxo LIVE; sim: Saxo SIM (paper); local: the built-in simulator "
        "(needs no secrets)."
    )
    dry_run: bool = Field(
        default=False,
        description="True: orders are filled locally at quoted prices and marked simulated; "
        "nothing is sent to the broker.",
    )


class AccountSection(StrictModel):
    """Names of the secrets that hold the Saxo app credentials and the account ids.

    Values never live in the config file; they come from the secret store at start.
    """

    saxo_credentials_secret: SecretName = Field(
        default=SAXO_CREDENTIALS,
        description="Secret holding the Saxo app key/secret and tokens (live and sim only).",
    )
    account_secret: SecretName = Field(
        default=ACCOUNT_CONFIG,
        description="Secret holding the Saxo AccountKey and ClientKey (live and sim only).",
    )


class ExecutionSection(StrictModel):
    """How orders are worked: a limit ladder then MARKET, or MARKET at once; emergency closes."""

    order_style: Literal["market", "limit_ladder"] = Field(
        default="limit_ladder",
        description="market: one MARKET order per leg; limit_ladder: limit orders stepped "
        "through ladder_steps_percent, then MARKET if market_after_ladder.",
    )
    ladder_steps_percent: tuple[Decimal, ...] = Field(
        default=(Decimal(0), Decimal(0), Decimal(5), Decimal(5), Decimal(10), Decimal(10)),
        min_length=1,
        max_length=12,
        description="Slippage per limit step, percent of the touch price: a buy pays "
        "ask x (1 + s/100), a sell receives bid x (1 - s/100). Each 0-25, non-decreasing.",
    )
    ladder_step_seconds: float = Field(
        default=60.0,
        ge=1.0,
        le=600.0,
        description="Seconds each limit step may rest before it is cancelled and re-priced.",
    )
    market_after_ladder: bool = Field(
        default=True,
        description="After the last limit step, send a MARKET order (spread guard applies).",
    )
    max_market_spread_usd: Decimal = Field(
        default=Decimal("2.00"),
        ge=Decimal("0.01"),
        le=Decimal("100"),
        decimal_places=2,
        description="USD per share: a non-emergency MARKET order is refused when ask - bid "
        "is wider than this.",
    )
    fill_check_timeout_seconds: float = Field(
        default=30.0,
        ge=1.0,
        le=300.0,
        description="Seconds to confirm a fill (order status, activities, positions) before "
        "the order is cancelled and its outcome reconciled.",
    )
    emergency_close_attempts: int = Field(
        default=5,
        ge=1,
        le=20,
        description="MARKET attempts per leg when closing for a stop (no spread guard).",
    )
    emergency_close_spacing_seconds: float = Field(
        default=2.0,
        ge=0.5,
        le=60.0,
        description="Seconds between emergency close attempts of one leg.",
    )
    assumed_commission_per_contract_usd: Decimal = Field(
        default=Decimal("0.65"),
        ge=Decimal(0),
        le=Decimal(50),
        decimal_places=2,
        description="USD per contract (or share) recorded for a fill whose commission Saxo does "
        "not report, so P&L never silently leaves costs out; each use raises a "
        "commission_assumed safety event. Set it to your Saxo rate card. A reported commission "
        "is always used as reported.",
    )

    @field_validator("ladder_steps_percent")
    @classmethod
    def _steps_in_range_and_rising(cls, steps: tuple[Decimal, ...]) -> tuple[Decimal, ...]:
        for step in steps:
            if not Decimal(0) <= step <= Decimal(25):
                raise ValueError(f"each step must be between 0 and 25 percent (got {step})")
        if any(later < earlier for earlier, later in itertools.pairwise(steps)):
            raise ValueError("steps must not decrease (each re-price concedes as much or more)")
        return steps

    @model_validator(mode="after")
    def _ladder_not_endless(self) -> ExecutionSection:
        total = len(self.ladder_steps_percent) * self.ladder_step_seconds
        if self.order_style == "limit_ladder" and total > MAX_LADDER_SECONDS:
            raise ValueError(
                f"ladder_steps_percent x ladder_step_seconds = {total:.0f} s; "
                f"one order may be worked for at most {MAX_LADDER_SECONDS:.0f} s"
            )
        return self


class CircuitBreakerSection(StrictModel):
    """Stops NEW entries after repeated failures; open positions stay protected."""

    max_consecutive_failures: int = Field(
        default=5, ge=1, le=50, description="Consecutive failed broker actions that trip it."
    )
    window_size: int = Field(
        default=10, ge=2, le=100, description="Length of the sliding window of recent results."
    )
    max_failures_in_window: int = Field(
        default=5, ge=1, le=100, description="Failures within the window that trip it."
    )
    cooldown_minutes: int = Field(
        default=5, ge=1, le=1440, description="Minutes after a trip before entries may resume."
    )
    trips_before_daily_halt: int = Field(
        default=3,
        ge=1,
        le=20,
        description="Trips in one session that halt new entries until the next session.",
    )

    def breaker_settings(self) -> BreakerSettings:
        """These thresholds in the form `shared.circuit_breaker.CircuitBreaker` takes."""
        return BreakerSettings(
            consecutive_failures=self.max_consecutive_failures,
            window=self.window_size,
            failures_in_window=self.max_failures_in_window,
            cooldown_seconds=self.cooldown_minutes * 60.0,
            trips_before_halt=self.trips_before_daily_halt,
        )

    @model_validator(mode="after")
    def _window_fits(self) -> CircuitBreakerSection:
        if self.max_failures_in_window > self.window_size:
            raise ValueError(
                f"max_failures_in_window ({self.max_failures_in_window}) cannot exceed "
                f"window_size ({self.window_size})"
            )
        return self


class LoopSection(StrictModel):
    """Cadence of the bot's main loop while the market is open."""

    poll_seconds_idle: float = Field(
        default=5.0,
        ge=1.0,
        le=300.0,
        description="Seconds between strategy evaluations without a position.",
    )
    poll_seconds_in_position: float = Field(
        default=2.0,
        ge=0.5,
        le=60.0,
        description="Seconds between evaluations (and REST price polls when the stream is "
        "stale) with a position open.",
    )
    heartbeat_seconds: float = Field(
        default=30.0, ge=5.0, le=600.0, description="Seconds between heartbeat log lines."
    )
    health_line_seconds: float = Field(
        default=300.0,
        ge=30.0,
        le=3600.0,
        description="Seconds between status lines (state, position, P&L).",
    )
    reconcile_interval_seconds: float = Field(
        default=600.0,
        ge=60.0,
        le=3600.0,
        description="Seconds between reconciliations of journal and broker positions.",
    )
    max_consecutive_errors: int = Field(
        default=5,
        ge=1,
        le=100,
        description="Failed loop iterations in a row after which a flat bot exits non-zero "
        "(systemd restarts it); holding a position it never exits: it retries with a backoff, "
        "raises `loop_failing_in_position` and the breaker blocks entries.",
    )

    @model_validator(mode="after")
    def _cadences_ordered(self) -> LoopSection:
        if self.poll_seconds_in_position > self.poll_seconds_idle:
            raise ValueError(
                f"poll_seconds_in_position ({self.poll_seconds_in_position}) must not exceed "
                f"poll_seconds_idle ({self.poll_seconds_idle}): a position is watched more often"
            )
        if self.health_line_seconds < self.heartbeat_seconds:
            raise ValueError(
                f"health_line_seconds ({self.health_line_seconds}) must be at least "
                f"heartbeat_seconds ({self.heartbeat_seconds})"
            )
        return self


class MarketDataSection(StrictModel):
    """When streamed prices count as stale, and when having no price forces a close."""

    stream_stale_seconds: float = Field(
        default=10.0,
        ge=2.0,
        le=300.0,
        description="A streamed price older than this is replaced by REST polling.",
    )
    no_price_close_seconds: float = Field(
        default=60.0,
        ge=10.0,
        le=900.0,
        description="With a position open and no price from any source for this long, the "
        "position is closed.",
    )

    @model_validator(mode="after")
    def _close_after_stale(self) -> MarketDataSection:
        if self.no_price_close_seconds <= self.stream_stale_seconds:
            raise ValueError(
                f"no_price_close_seconds ({self.no_price_close_seconds}) must be greater than "
                f"stream_stale_seconds ({self.stream_stale_seconds})"
            )
        return self


class SheetsSection(StrictModel):
    """The Google Sheets mirror of the journal (never blocks trading)."""

    enabled: bool = Field(default=False, description="Mirror journal rows to Google Sheets.")
    spreadsheet_name: ShortText | None = Field(
        default=None, description="Title of the bot's spreadsheet (required when enabled)."
    )
    credentials_secret: SecretName | None = Field(
        default=None,
        description="Secret holding the service-account JSON (set this or credentials_file).",
    )
    credentials_file: Path | None = Field(
        default=None,
        description="Service-account JSON file, absolute or relative to CALYPSO_HOME "
        "(set this or credentials_secret).",
    )

    @model_validator(mode="after")
    def _credentials_consistent(self) -> SheetsSection:
        if self.credentials_secret is not None and self.credentials_file is not None:
            raise ValueError("set credentials_secret or credentials_file, not both")
        if self.enabled:
            if self.spreadsheet_name is None:
                raise ValueError("enabled is true but spreadsheet_name is not set")
            if self.credentials_secret is None and self.credentials_file is None:
                raise ValueError(
                    "enabled is true but neither credentials_secret nor credentials_file is set"
                )
        return self


class LoggingSection(StrictModel):
    """Log verbosity."""

    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(
        default="INFO", description="Lowest level written to the journal and log file."
    )


StrategyT = TypeVar("StrategyT", bound=StrictModel)


class BotConfigBase(StrictModel, Generic[StrategyT]):
    """The whole config file of one bot. Subclasses set `bot_name` and the strategy type."""

    bot_name: ClassVar[str] = ""

    config_version: Literal[1] = Field(description="Schema version of this file (1).")
    bot: BotSection
    account: AccountSection = AccountSection()
    strategy: StrategyT
    execution: ExecutionSection = ExecutionSection()
    circuit_breaker: CircuitBreakerSection = CircuitBreakerSection()
    loop: LoopSection = LoopSection()
    market_data: MarketDataSection = MarketDataSection()
    sheets: SheetsSection = SheetsSection()
    alerts: AlertsSection = AlertsSection()
    logging: LoggingSection = LoggingSection()

    @field_validator("bot")
    @classmethod
    def _bot_name_matches(cls, section: BotSection) -> BotSection:
        if cls.bot_name and section.name != cls.bot_name:
            raise ValueError(
                f"name is {section.name!r} but this config is being loaded for "
                f"{cls.bot_name!r}; is this the right file?"
            )
        return section

    @property
    def needs_saxo_secrets(self) -> bool:
        """True in live and sim; local mode uses the simulator's fixed public test app."""
        return self.bot.environment in SAXO_ENVIRONMENTS
