"""The iron fly strategy's shared core: its memory, the state machine driver and journal records.

`IronFlyStrategy` (strategy.py) is assembled from this core and the entry, closing and restore
parts (entry.py, closing.py, restoring.py); all of them read and write the same attributes.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from bots.iron_fly_0dte.book import Fly
from bots.iron_fly_0dte.config import BOT_NAME, IronFlyStrategyConfig
from bots.iron_fly_0dte.memory import Memory
from bots.iron_fly_0dte.opening_range import NY
from bots.iron_fly_0dte.rules import ExitInputs, ExitSignal, check_exit
from bots.iron_fly_0dte.states import IronFlyState, Trigger, next_state
from shared.config.envelope import MarketDataSection
from shared.domain import Position, Quote
from shared.logger_service import kv
from shared.strategy import recovery
from shared.strategy.closing import CloseTracker
from shared.strategy.events import bot_log_record, safety_record
from shared.strategy.exits import FlashMonitor
from shared.strategy.quotes import usable_price, usable_snapshot_quote
from shared.strategy_contract import (
    Action,
    ClosePosition,
    InstrumentRef,
    LegSpec,
    OrderStyle,
    Snapshot,
)

logger = logging.getLogger("bots.iron_fly_0dte.strategy")


class StrategyCore:
    """Configuration, memory and the helpers every part of the strategy uses.

    `market_data` gives `stream_stale_seconds` (the oldest quote used for an entry or a P&L
    mark) and `no_price_close_seconds` (the oldest underlying price a stop acts on; the
    runtime's guard closes a position blind that long).
    """

    def __init__(
        self,
        config: IronFlyStrategyConfig,
        *,
        market_data: MarketDataSection | None = None,
        order_style: OrderStyle = OrderStyle.MARKET,
    ) -> None:
        self._cfg = config
        data = market_data if market_data is not None else MarketDataSection()
        self._stop_price_max_age_s = data.no_price_close_seconds
        self._max_quote_age_s = data.stream_stale_seconds
        self._order_style = order_style
        self._state = IronFlyState.IDLE
        self._m = Memory()
        self._flash = FlashMonitor(timedelta(minutes=config.flash_move_window_minutes))
        inst = config.instruments
        self._underlying = InstrumentRef(inst.underlying_uic, inst.underlying_asset_type)
        self._vix_ref = InstrumentRef(inst.vix_uic, "StockIndex")

    def _fire(self, trigger: Trigger, reason: str) -> None:
        before = self._state
        self._state = next_state(before, trigger)
        logger.info(kv("state_change", from_state=before, to=self._state, trigger=trigger,
                       reason=reason))

    def _observe_price(self, snapshot: Snapshot) -> Decimal | None:
        """The underlying's price for the stops when usable (not delayed, age known and
        within `no_price_close_seconds`, the age at which the runtime's guard calls a
        position blind); feeds the flash window."""
        price = usable_price(snapshot, self._underlying.uic, self._stop_price_max_age_s)
        if price is not None:
            self._flash.add(snapshot.now, price)
        return price

    def _fresh(self, snapshot: Snapshot) -> Decimal | None:
        """The underlying's price when usable within the stale limit (entry decisions)."""
        return usable_price(snapshot, self._underlying.uic, self._max_quote_age_s)

    def _vix(self, snapshot: Snapshot) -> Decimal | None:
        """VIX from the usable Saxo quote of vix_uic; else the runtime's level if the fallback
        is on."""
        vix = usable_price(snapshot, self._vix_ref.uic, self._max_quote_age_s)
        if vix is not None:
            return vix
        return snapshot.vix if self._cfg.vix_fallback_yahoo else None

    def _exit_signal(self, snap: Snapshot, price: Decimal | None, fly: Fly) -> ExitSignal | None:
        """The first exit rule that fires for `fly` on this snapshot (logged), or None."""
        leg_quotes: dict[int, Quote] = {}
        for uic in fly.uics:
            quote = usable_snapshot_quote(snap, uic, self._max_quote_age_s)
            if quote is not None:
                leg_quotes[uic] = quote
        inputs = ExitInputs(now=snap.now, price=price,
                            leg_quotes=leg_quotes, flash_move_percent=self._flash.move_percent())
        signal = check_exit(self._cfg, fly, inputs)
        if signal is not None:
            logger.warning(kv("exit", reason=signal.reason, detail=signal.detail, price=price,
                              unrealized_usd=fly.unrealized_pnl_usd(leg_quotes),
                              tick=snap.triggered_by_tick, state=self._state))
        return signal

    @staticmethod
    def _credit_from_broker(fly: Fly, positions: Sequence[Position]) -> None:
        prices = {leg.uic: leg.open_price for leg in recovery.read_book(positions).legs
                  if leg.open_price is not None}
        if fly.set_credit_from_open_prices(prices):
            logger.warning(kv("credit_from_broker_open_prices", credit_usd=fly.credit_usd))

    def _close_prefix(self) -> str:
        return f"{BOT_NAME}:{self._m.day}:close:"

    def _next_close_intent(self, now: datetime) -> str:
        """A new close intent id: day, sequence and the New York time, so ids stay unique
        even after a restart that lost the saved sequence."""
        self._m.close_seq += 1
        return f"{self._close_prefix()}{self._m.close_seq}-{now.astimezone(NY):%H%M%S}"

    def _start_close(self, actions: list[Action], now: datetime, legs: tuple[LegSpec, ...],
                     reason: str, trigger: Trigger) -> None:
        intent = self._next_close_intent(now)
        self._m.close = CloseTracker(intent_id=intent, reason=reason, sent_at=now, legs=legs)
        actions.append(ClosePosition(intent_id=intent, legs=legs, exit_reason=reason, urgent=True))
        self._fire(trigger, reason)

    def _bot_log(self, actions: list[Action], now: datetime, name: str, **fields: Any) -> None:
        """Journal an operator-relevant line (the Sheets "Bot Logs" row kind `bot_log`)."""
        message = kv(name, **fields)
        logger.info(message)
        actions.append(bot_log_record(component=BOT_NAME, day=self._m.day, name=name, now=now,
                                      message=message))

    def _safety(self, actions: list[Action], now: datetime, name: str, description: str,
                *, day: date | None = None) -> None:
        logger.error(kv("safety_event", name=name, state=self._state, description=description))
        actions.append(safety_record(day=day or self._m.day, name=name, now=now,
                                     state=self._state.value, description=description))


def text(value: Decimal | None) -> str | None:
    return None if value is None else str(value)
