"""SimState: everything one simulator owns (clock, market, auth, exchange, faults, stats).

One instance per server, touched only from the server's event loop, so nothing here locks.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from shared.clock import Clock, WallClock
from shared.logger_service import kv
from shared.saxo_sim import saxo_shapes
from shared.saxo_sim.auth import AuthService
from shared.saxo_sim.config import SimConfig
from shared.saxo_sim.errors import SimApiError
from shared.saxo_sim.exchange import Exchange
from shared.saxo_sim.faults import FaultInjector
from shared.saxo_sim.rate_limits import RateLimiter

if TYPE_CHECKING:
    from shared.saxo_sim.instruments import InstrumentCatalog, OptionContract, Underlying
    from shared.saxo_sim.market_model import MarketModel
    from shared.saxo_sim.pricing import PricingEngine, Quote
    from shared.saxo_sim.sim_clock import SimClock

logger = logging.getLogger(__name__)

ASSET_TYPES = (
    "CfdOnIndex",
    "StockIndex",
    "Etf",
    "Stock",
    "StockOption",
    "StockIndexOption",
)


def canonical_asset_type(raw: str) -> str:
    """The canonical spelling of an AssetType ("etf" -> "Etf"); unknown values pass through."""
    by_lower = {a.lower(): a for a in ASSET_TYPES}
    return by_lower.get(raw.strip().lower(), raw.strip())


@dataclass(frozen=True)
class Instrument:
    """A resolved tradable thing: exactly one of `underlying` / `option` is set."""

    uic: int
    asset_type: str
    underlying: Underlying | None = None
    option: OptionContract | None = None

    @property
    def symbol(self) -> str:
        if self.option is not None:
            return saxo_shapes.option_symbol(self.option)
        assert self.underlying is not None
        return self.underlying.symbol


class SimStats:
    """Request counters for `GET /sim/v1/stats`."""

    def __init__(self) -> None:
        self.routes: Counter[str] = Counter()
        self.statuses: Counter[int] = Counter()

    def count(self, route: str, status: int) -> None:
        self.routes[route] += 1
        self.statuses[status] += 1


class SimState:
    """The simulator's world. Construct with `SimState.create(config)` for the real market."""

    def __init__(
        self,
        config: SimConfig,
        *,
        clock: SimClock,
        catalog: InstrumentCatalog,
        model: MarketModel,
        pricing: PricingEngine,
        real: Clock | None = None,
    ) -> None:
        self.config = config
        self.clock = clock
        self.catalog = catalog
        self.model = model
        self.pricing = pricing
        self.real: Clock = real or WallClock()
        self.auth = AuthService(
            app_key=config.app_key,
            app_secret=config.app_secret,
            token_lifetime_s=config.token_lifetime_s,
            refresh_token_lifetime_s=config.refresh_token_lifetime_s,
            code_lifetime_s=config.authorization_code_lifetime_s,
            real=self.real,
        )
        self.rate_limiter = RateLimiter(enabled=config.rate_limits, real=self.real)
        self.faults = FaultInjector()
        self.stats = SimStats()
        self.trade_levels: dict[str, str] = {}
        self.exchange = Exchange(self)
        self._tick_listeners: list[Callable[[], None]] = []
        self._step_at: datetime | None = None
        self._day_stats_cache: dict[tuple[int, str], dict[str, float | None]] = {}
        self.unpriced: dict[int, datetime] = {}  # uic -> when its prices went away (control API)
        self.margin_refusal: str | None = None  # precheck answers this ErrorCode (control API)

    @classmethod
    def create(cls, config: SimConfig, *, real: Clock | None = None) -> SimState:
        """A state wired to SIM-MARKET's clock, catalog, model and pricing engine."""
        from shared.saxo_sim.instruments import InstrumentCatalog
        from shared.saxo_sim.market_model import MarketModel
        from shared.saxo_sim.pricing import PricingEngine
        from shared.saxo_sim.sim_clock import SimClock

        clock = SimClock(config.start_at, config.speed, real=real)
        catalog = InstrumentCatalog(config.seed)
        model = MarketModel(config.seed, clock, catalog)
        pricing = PricingEngine(model, catalog)
        return cls(config, clock=clock, catalog=catalog, model=model, pricing=pricing, real=real)

    # --- market stepping ---------------------------------------------------------------------
    def add_tick_listener(self, callback: Callable[[], None]) -> None:
        """Call `callback()` on the loop after every market step."""
        self._tick_listeners.append(callback)

    def step(self) -> None:
        """One market step: match resting orders, settle expiries, then tell the listeners.

        The whole step sees one instant: every quote priced during it (matching, streaming) is
        consistent with every other, and per-expiry pricing work is shared.
        """
        step_at = self.clock.now()
        self._step_at = step_at
        try:
            with self.pricing.batch(step_at):
                self.exchange.on_market_step()
                for callback in list(self._tick_listeners):
                    try:
                        callback()
                    except Exception:
                        logger.exception(kv("tick_listener_failed", callback=callback))
        finally:
            self._step_at = None

    def now(self) -> datetime:
        """Simulated now: the current market step's instant while a step runs, else the clock."""
        return self._step_at or self.clock.now()

    # --- instruments and prices --------------------------------------------------------------
    def resolve(self, uic: int, asset_type: str) -> Instrument:
        """The instrument for (Uic, AssetType); SimApiError 400 IllegalInstrumentId if unknown,
        404-style mismatch errors when the Uic exists under another AssetType."""
        asset_type = canonical_asset_type(asset_type)
        underlying = self.catalog.underlying(uic)
        if underlying is not None:
            if underlying.asset_type != asset_type:
                raise _mismatch(uic, asset_type, underlying.asset_type)
            return Instrument(uic, asset_type, underlying=underlying)
        option = self.catalog.option(uic)
        if option is not None:
            if option.asset_type != asset_type:
                raise _mismatch(uic, asset_type, option.asset_type)
            return Instrument(uic, asset_type, option=option)
        raise SimApiError(400, "IllegalInstrumentId", f"Instrument ID is invalid: Uic {uic}")

    def quote(self, instrument: Instrument, at: datetime | None = None) -> Quote:
        """The current quote of an instrument (an OptionQuote for options)."""
        if instrument.option is not None:
            return self.pricing.option_quote(instrument.option, at)
        return self.pricing.underlying_quote(instrument.uic, at)

    def info_price(
        self, uic: int, asset_type: str, field_groups: Sequence[str], amount: int = 1
    ) -> dict[str, Any]:
        """The Saxo InfoPrice object with only the requested field groups (SimApiError if bad)."""
        instrument = self.resolve(uic, asset_type)
        now = self.now()
        if uic in self.unpriced:
            return saxo_shapes.unpriced_info_price(
                uic=uic, asset_type=instrument.asset_type, field_groups=field_groups,
                since=self.unpriced[uic], amount=amount,
            )  # fmt: skip
        quote = self.quote(instrument, now)
        if instrument.option is not None:
            display = saxo_shapes.option_display(instrument.option)
            day_stats: dict[str, float | None] = {}
        else:
            assert instrument.underlying is not None
            display = saxo_shapes.underlying_display(instrument.underlying)
            day_stats = self._day_stats(uic, now)
        return saxo_shapes.info_price(
            uic=uic,
            asset_type=instrument.asset_type,
            quote=quote,
            field_groups=field_groups,
            now=now,
            display=display,
            day_stats=day_stats,
            amount=amount,
        )

    def trade_price(
        self, uic: int, asset_type: str, field_groups: Sequence[str], amount: int = 1
    ) -> dict[str, Any]:
        """The `/trade/v1/prices` object: same blocks as an InfoPrice (tradable quotes)."""
        return self.info_price(uic, asset_type, field_groups, amount)

    def _day_stats(self, uic: int, now: datetime) -> dict[str, float | None]:
        """Open/high/low/previous close from daily bars, cached per sim minute."""
        key = (uic, now.strftime("%Y%m%d%H%M"))
        cached = self._day_stats_cache.get(key)
        if cached is not None:
            return cached
        stats: dict[str, float | None] = {}
        try:
            bars = self.model.bars(uic, 1440, 2, now)
        except Exception:
            logger.exception(kv("day_stats_failed", uic=uic))
            bars = []
        if bars:
            today = bars[-1]
            stats = {
                "open": round(today.open, 2),
                "high": round(today.high, 2),
                "low": round(today.low, 2),
            }
            if len(bars) >= 2:
                stats["last_close"] = round(bars[-2].close, 2)
        if len(self._day_stats_cache) > 256:
            self._day_stats_cache.clear()
        self._day_stats_cache[key] = stats
        return stats

    # --- stats -------------------------------------------------------------------------------
    def describe_stats(self) -> dict[str, Any]:
        """Counters for `GET /sim/v1/stats` (without the streaming part, which app.py adds)."""
        return {
            "routes": dict(sorted(self.stats.routes.items())),
            "statuses": {str(k): v for k, v in sorted(self.stats.statuses.items())},
            **self.auth.stats(),
            "rate_limits": self.rate_limiter.stats(),
            "faults_triggered": self.faults.triggered,
            **self.exchange.stats(),
        }


def _mismatch(uic: int, asked: str, actual: str) -> SimApiError:
    return SimApiError(
        400,
        "IllegalInstrumentId",
        f"Instrument ID is invalid: Uic {uic} is not a {asked} (it is a {actual})",
    )
