"""Builds a simulator market (clock, catalog, model, pricing) driven by a manual real clock."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from shared.clock import ManualClock
from shared.saxo_sim.instruments import InstrumentCatalog
from shared.saxo_sim.market_model import MarketModel
from shared.saxo_sim.pricing import PricingEngine
from shared.saxo_sim.sim_clock import SimClock

NY = ZoneInfo("America/New_York")
# Monday 2026-03-02 09:25 ET, the simulator's documented default start.
START = datetime(2026, 3, 2, 9, 25, tzinfo=NY)
SEED = 7


@dataclass
class Market:
    real: ManualClock
    clock: SimClock
    catalog: InstrumentCatalog
    model: MarketModel
    pricing: PricingEngine

    def advance_sim(self, delta: timedelta) -> None:
        """Let `delta` of simulated time pass (real time advanced by delta / speed)."""
        self.real.advance(delta / self.clock.speed)

    def go_to(self, at: datetime) -> None:
        """Advance real time until the simulated clock reads `at` (same active window)."""
        self.advance_sim(at - self.clock.now())


def build_market(seed: int = SEED, start: datetime = START, speed: float = 1.0) -> Market:
    real = ManualClock(datetime(2030, 1, 1, tzinfo=UTC))
    clock = SimClock(start, speed, real=real)
    catalog = InstrumentCatalog(seed)
    model = MarketModel(seed, clock, catalog)
    return Market(real, clock, catalog, model, PricingEngine(model, catalog))


def ny(year: int, month: int, day: int, hour: int, minute: int = 0, second: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=NY)
