"""The opening range: SPX high/low and VIX open/high observed from every tick of one morning,
its start and entry times (America/New_York) and its Opening Range record.

Prices are index points (Decimal); times are UTC. VIX may be missing on some snapshots; the
range then keeps the VIX values it did see.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from bots.iron_fly_0dte.config import IronFlyStrategyConfig
from shared.strategy.codec import dec, opt_dec, opt_str, parse_utc

NY = ZoneInfo("America/New_York")

@dataclass
class OpeningRange:
    """High/low of the underlying and VIX between the range start and the entry time."""

    first_at: datetime
    open_price: Decimal
    high: Decimal
    low: Decimal
    vix_open: Decimal | None = None
    vix_high: Decimal | None = None
    observations: int = 1

    @classmethod
    def start(cls, now: datetime, price: Decimal, vix: Decimal | None) -> OpeningRange:
        """A range seeded with its first observation at `now` (UTC)."""
        return cls(first_at=now, open_price=price, high=price, low=price, vix_open=vix,
                   vix_high=vix)

    def observe(self, price: Decimal, vix: Decimal | None) -> None:
        """Widen the range with one more price (and VIX level when known)."""
        self.high = max(self.high, price)
        self.low = min(self.low, price)
        self.observations += 1
        if vix is not None:
            if self.vix_open is None:
                self.vix_open = vix
            self.vix_high = vix if self.vix_high is None else max(self.vix_high, vix)

    @property
    def width(self) -> Decimal:
        return self.high - self.low

    @property
    def midpoint(self) -> Decimal:
        return (self.high + self.low) / 2

    def vix_spike_percent(self) -> Decimal | None:
        """Rise of VIX from its first to its highest level in the range, percent.

        None when no VIX was seen; 0 when the opening VIX is 0 (no division, FILTER-005).
        """
        if self.vix_open is None or self.vix_high is None:
            return None
        if self.vix_open <= 0:
            return Decimal(0)
        return (self.vix_high - self.vix_open) / self.vix_open * 100

    def to_json(self) -> dict[str, Any]:
        return {
            "first_at": self.first_at.isoformat(),
            "open_price": str(self.open_price),
            "high": str(self.high),
            "low": str(self.low),
            "vix_open": opt_str(self.vix_open),
            "vix_high": opt_str(self.vix_high),
            "observations": self.observations,
        }

    @classmethod
    def from_json(cls, data: Any) -> OpeningRange:
        """Parse `to_json` output; raises ValueError naming the bad field."""
        if not isinstance(data, dict):
            raise ValueError("opening_range must be an object")
        observations = data.get("observations")
        if not isinstance(observations, int) or observations < 1:
            raise ValueError(f"opening_range.observations invalid: {observations!r}")
        return cls(
            first_at=parse_utc(data.get("first_at"), "opening_range.first_at"),
            open_price=dec(data.get("open_price"), "opening_range.open_price"),
            high=dec(data.get("high"), "opening_range.high"),
            low=dec(data.get("low"), "opening_range.low"),
            vix_open=opt_dec(data.get("vix_open"), "opening_range.vix_open"),
            vix_high=opt_dec(data.get("vix_high"), "opening_range.vix_high"),
            observations=observations,
        )


def range_start_at(settings: IronFlyStrategyConfig, now: datetime) -> datetime:
    """Today's (New York date of `now`) opening-range start, UTC-comparable."""
    day = now.astimezone(NY).date()
    return datetime.combine(day, settings.opening_range_start_et, tzinfo=NY)


def entry_at(settings: IronFlyStrategyConfig, now: datetime) -> datetime:
    """Today's (New York date of `now`) entry time."""
    day = now.astimezone(NY).date()
    return datetime.combine(day, settings.entry_time_et, tzinfo=NY)


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
