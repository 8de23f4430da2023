"""The opening range: SPX high/low and VIX open/high observed from the snapshots of one morning.

Prices are index points (Decimal); times are UTC. VIX may be missing on some snapshots; the
range then keeps the VIX values it did see.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from shared.strategy.codec import dec, opt_dec, opt_str, parse_utc


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
