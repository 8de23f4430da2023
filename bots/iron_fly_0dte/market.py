"""The iron fly's view of a snapshot: which prices are usable for which decision.

Every price goes through the toolkit's one usable-quote rule (`shared.strategy.quotes`):
entries and P&L marks accept quotes up to `market_data.stream_stale_seconds` old; the stops
accept an underlying price up to `market_data.no_price_close_seconds` old (the age at which
the runtime's no-price guard calls a position blind). Prices are index points (Decimal).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta
from decimal import Decimal

from bots.iron_fly_0dte.config import IronFlyStrategyConfig
from shared.config.envelope import MarketDataSection
from shared.domain import Quote
from shared.strategy.exits import FlashMonitor
from shared.strategy.quotes import usable_price, usable_snapshot_quote
from shared.strategy_contract import InstrumentRef, Snapshot


class MarketView:
    """Usable prices of the underlying, VIX and the fly's legs, and the flash-move window
    fed from every usable underlying price the stops see."""

    def __init__(self, config: IronFlyStrategyConfig, market_data: MarketDataSection) -> None:
        self._vix_fallback = config.vix_fallback_yahoo
        self.max_quote_age_s = market_data.stream_stale_seconds
        self._stop_price_max_age_s = market_data.no_price_close_seconds
        inst = config.instruments
        self.underlying = InstrumentRef(inst.underlying_uic, inst.underlying_asset_type)
        self.vix_ref = InstrumentRef(inst.vix_uic, "StockIndex")
        self.flash = FlashMonitor(timedelta(minutes=config.flash_move_window_minutes))

    def observe(self, snapshot: Snapshot) -> Decimal | None:
        """The underlying's price for the stops when usable; feeds the flash window."""
        price = usable_price(snapshot, self.underlying.uic, self._stop_price_max_age_s)
        if price is not None:
            self.flash.add(snapshot.now, price)
        return price

    def fresh_price(self, snapshot: Snapshot) -> Decimal | None:
        """The underlying's price when usable within the stale limit (entry decisions)."""
        return usable_price(snapshot, self.underlying.uic, self.max_quote_age_s)

    def vix(self, snapshot: Snapshot) -> Decimal | None:
        """VIX from the usable Saxo quote of vix_uic; else the runtime's level if the fallback
        is on."""
        vix = usable_price(snapshot, self.vix_ref.uic, self.max_quote_age_s)
        if vix is not None:
            return vix
        return snapshot.vix if self._vix_fallback else None

    def leg_quotes(self, snapshot: Snapshot, uics: Iterable[int]) -> dict[int, Quote]:
        """The usable quotes of `uics` (a leg without one is left out)."""
        quotes: dict[int, Quote] = {}
        for uic in uics:
            quote = usable_snapshot_quote(snapshot, uic, self.max_quote_age_s)
            if quote is not None:
                quotes[uic] = quote
        return quotes
