"""SimConfig: every knob of one simulator run (seed, start, speed, token lifetimes, limits)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

NEW_YORK = ZoneInfo("America/New_York")

# Monday 2026-03-02 09:25 America/New_York (14:25 UTC): five minutes before the open, so a run
# with the defaults reproduces exactly.
DEFAULT_START = datetime(2026, 3, 2, 9, 25, tzinfo=NEW_YORK)


@dataclass(frozen=True)
class SimConfig:
    """Settings of one simulator run. Lifetimes and lags are REAL (wall) seconds.

    `start` None means DEFAULT_START. `speed` is simulated seconds per real second.
    `commission_per_contract_usd` is charged on every option contract filled (shares are free).
    `activity_lag_s` hides `AveragePrice`/`ExecutionPrice` of fill activities for that long.
    """

    seed: int = 7
    start: datetime | None = None
    speed: float = 1.0
    token_lifetime_s: float = 1200.0
    refresh_token_lifetime_s: float = 3600.0
    rate_limits: bool = True
    commission_per_contract_usd: Decimal = Decimal("0.65")
    activity_lag_s: float = 0.0
    app_key: str = "calypso-local"
    app_secret: str = "calypso-local-secret"
    heartbeat_interval_s: float = 10.0
    market_step_ms: int = 100
    starting_cash_usd: Decimal = Decimal("1000000")
    authorization_code_lifetime_s: float = 300.0

    def __post_init__(self) -> None:
        if self.speed <= 0:
            raise ValueError(f"SimConfig.speed must be > 0, got {self.speed}")
        if self.token_lifetime_s <= 0 or self.refresh_token_lifetime_s <= 0:
            raise ValueError("SimConfig token lifetimes must be > 0 seconds")
        if self.start is not None and self.start.tzinfo is None:
            raise ValueError("SimConfig.start must be timezone-aware")
        if self.market_step_ms <= 0:
            raise ValueError(f"SimConfig.market_step_ms must be > 0, got {self.market_step_ms}")
        if not 0 <= self.activity_lag_s <= 60:
            raise ValueError(
                f"SimConfig.activity_lag_s must be within 0..60, got {self.activity_lag_s}"
            )
        if self.commission_per_contract_usd < 0:
            raise ValueError("SimConfig.commission_per_contract_usd must be >= 0")

    @property
    def start_at(self) -> datetime:
        """The configured start, or DEFAULT_START (tz-aware)."""
        return self.start if self.start is not None else DEFAULT_START
