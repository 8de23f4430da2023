"""Quotes for the simulator: underlying bid/ask around the model level, options by Black-Scholes.

Options are priced on `VolSurface` (tied to VIX) with rate 4 % and dividend yields SPY 1.3 %,
QQQ 0.6 %, SPXW 0 (US500.I is a price index proxy). Spreads widen near the open and the close,
away from the money and at short expiry; bids round down and asks up on Cboe ticks, bids are
never negative and quotes never crossed. Outside the session the last session's prices stay.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_UP, Decimal
from functools import lru_cache

from shared import market_hours
from shared.market_hours import Venue
from shared.options_math import Right, bs_greeks, round_to_tick, tick_size, years_to_expiry
from shared.saxo_sim.instruments import (
    QQQ_ROOT_ID,
    SPXW_ROOT_ID,
    SPY_ROOT_ID,
    US500_UIC,
    VIX_UIC,
    InstrumentCatalog,
    OptionContract,
)
from shared.saxo_sim.market_model import QQQ_BETA, QQQ_CORRELATION, MarketModel
from shared.saxo_sim.sim_clock import ny_date, session_for
from shared.saxo_sim.volatility import (
    OVERNIGHT_VARIANCE_SHARE,
    TRADING_DAYS_PER_YEAR,
    VolSurface,
    remaining_intraday_variance,
)

logger = logging.getLogger(__name__)

RATE = 0.04
DIVIDEND_YIELD = {SPXW_ROOT_ID: 0.0, SPY_ROOT_ID: 0.013, QQQ_ROOT_ID: 0.006}
# QQQ moves about QQQ_BETA / QQQ_CORRELATION (~1.35) times as much as SPX, so its vols scale too
VOL_MULTIPLIER = {SPXW_ROOT_ID: 1.0, SPY_ROOT_ID: 1.0, QQQ_ROOT_ID: QQQ_BETA / QQQ_CORRELATION}
EXPIRY_VENUE: dict[int, Venue] = {
    SPXW_ROOT_ID: "index_options",  # SPXW PM-settled: 16:15 ET (13:15 on early closes)
    SPY_ROOT_ID: "equity_options",  # 16:00 ET (13:00)
    QQQ_ROOT_ID: "equity_options",
}
# Option spread (premium points) = 1 tick * time-of-day + REL * theo * time-of-day * expiry *
# moneyness: a worthless option is 0 bid / 1 tick offered
_REL_SPREAD = {SPXW_ROOT_ID: 0.006, SPY_ROOT_ID: 0.005, QQQ_ROOT_ID: 0.005}
_OPEN_WIDEN, _CLOSE_WIDEN, _WIDEN_MINUTES = 1.5, 0.75, 10.0
_SHORT_EXPIRY_WIDEN, _SHORT_EXPIRY_DAYS = 0.6, 1.0
_OTM_WIDEN = 1.5
# Underlying half-spreads in price points
_UNDERLYING_HALF_SPREAD = {US500_UIC: 0.25}
_DEFAULT_HALF_SPREAD = 0.005
_CENT = Decimal("0.01")


@dataclass(frozen=True)
class Quote:
    """A quote; prices in the instrument's currency (Decimal on tick), sizes in units/contracts."""

    bid: Decimal | None
    ask: Decimal | None
    mid: Decimal | None
    last: Decimal | None
    bid_size: int
    ask_size: int
    market_open: bool


@dataclass(frozen=True)
class OptionQuote(Quote):
    """An option quote plus the model's view: iv (annual, calendar time), theo and greeks
    (per share; theta per calendar day, vega per vol point)."""

    iv: float
    theo: float
    delta: float
    gamma: float
    theta_per_day: float
    vega_per_point: float


def _size(seed: int, salt: int, low: int, high: int) -> int:
    """A deterministic pseudo-random size in [low, high]."""
    mixed = (seed * 0x9E3779B1 + salt * 0x85EBCA77) & 0xFFFFFFFF
    mixed ^= mixed >> 15
    return low + mixed % (high - low + 1)


@lru_cache(maxsize=4096)
def _full_days_between(today: date, expiry: date) -> int:
    """Trading days strictly after `today` up to and including `expiry`."""
    if expiry <= today:
        return 0
    return len(market_hours.trading_days_between(today + timedelta(days=1), expiry))


@dataclass(frozen=True)
class _ExpiryContext:
    """Per-(root, underlying, expiry) pricing inputs at one instant."""

    is_open: bool
    priced_at: datetime
    expiry_close: datetime
    spot: float
    vol_index: float
    calendar_years: float
    trading_years: float
    time_of_day: float


class PricingEngine:
    """Quotes from the market model. Not thread-safe (lives on the simulator's event loop)."""

    def __init__(self, model: MarketModel, catalog: InstrumentCatalog) -> None:
        self._model = model
        self._catalog = catalog
        self.surface = VolSurface()
        # Within one market step every contract is priced at the same instant, so what depends
        # only on (root, underlying, expiry, instant) is computed once per step, not per contract.
        self._batch_at: datetime | None = None
        self._batch_contexts: dict[tuple[int, int, date], _ExpiryContext] = {}

    @contextmanager
    def batch(self, at: datetime) -> Iterator[None]:
        """Price everything inside at the single instant `at`, sharing per-expiry work.

        Only valid while nothing can change the model's overlays (one synchronous market step).
        """
        self._batch_at = at
        self._batch_contexts.clear()
        try:
            yield
        finally:
            self._batch_at = None
            self._batch_contexts.clear()

    # ------------------------------------------------------------------ underlyings

    def underlying_quote(self, uic: int, at: datetime | None = None) -> Quote:
        """Bid/ask around the level for US500.I, SPY and QQQ; VIX only has `last`.

        Raises ValueError for an unknown UIC.
        """
        when = self._model_now() if at is None else at
        level = self._model.spot(uic, when)
        is_open = self._model.market_open(uic, when)
        last = Decimal(repr(level)).quantize(_CENT, ROUND_HALF_UP)
        if uic == VIX_UIC:
            return Quote(None, None, None, last, 0, 0, is_open)
        half = _UNDERLYING_HALF_SPREAD.get(uic, _DEFAULT_HALF_SPREAD)
        half *= self._time_of_day_factor(when)
        bid = Decimal(repr(level - half)).quantize(_CENT, ROUND_FLOOR)
        ask = Decimal(repr(level + half)).quantize(_CENT, ROUND_CEILING)
        if ask <= bid:
            ask = bid + _CENT
        second = int(when.timestamp())
        bid_size = _size(self._model.seed, uic * 7 + second, 1, 30) * 100
        ask_size = _size(self._model.seed, uic * 11 + second, 1, 30) * 100
        return Quote(bid, ask, (bid + ask) / 2, last, bid_size, ask_size, is_open)

    # ------------------------------------------------------------------ options

    def option_quote(self, contract: OptionContract, at: datetime | None = None) -> OptionQuote:
        """Black-Scholes quote of a listed option at `at` (None: now).

        Outside its session the option is priced at its venue's last close; after the expiry
        close it is worth its intrinsic value at that close. Raises ValueError for an unknown root.
        """
        when = self._model_now() if at is None else at
        ctx = self._expiry_context(contract, when)
        priced_at, calendar_years = ctx.priced_at, ctx.calendar_years
        spot = ctx.spot
        strike = float(contract.strike)
        q = DIVIDEND_YIELD[contract.root_id]
        iv = self.surface.implied_vol(
            ctx.vol_index,
            spot,
            strike,
            calendar_years,
            ctx.trading_years,
            (RATE - q) * calendar_years,
        )
        right: Right = "call" if contract.put_call == "Call" else "put"
        greeks = bs_greeks(spot, strike, calendar_years, iv, RATE, right, q)
        bid, ask = self._option_bid_ask(
            contract, greeks.price, greeks.delta, priced_at, ctx.expiry_close, ctx.time_of_day
        )
        is_open = ctx.is_open
        salt = contract.uic + int(priced_at.timestamp())
        bid_size = _size(self._model.seed, salt, 1, 150) if bid > 0 else 0
        ask_size = _size(self._model.seed, salt + 1, 1, 150)
        last = round_to_tick(contract.root, max(greeks.price, 0.0), "nearest")
        return OptionQuote(
            bid=bid,
            ask=ask,
            mid=(bid + ask) / 2,
            last=last,
            bid_size=bid_size,
            ask_size=ask_size,
            market_open=is_open,
            iv=iv,
            theo=greeks.price,
            delta=greeks.delta,
            gamma=greeks.gamma,
            theta_per_day=greeks.theta_per_day,
            vega_per_point=greeks.vega_per_point,
        )

    def _expiry_context(self, contract: OptionContract, when: datetime) -> _ExpiryContext:
        """Everything about (root, underlying, expiry) at `when` that no single strike changes."""
        key = (contract.root_id, contract.underlying_uic, contract.expiry)
        batched = self._batch_at is not None and when == self._batch_at
        if batched:
            cached = self._batch_contexts.get(key)
            if cached is not None:
                return cached
        venue = self._venue(contract)
        expiry_close = self.expiry_close(contract)
        priced_at = min(self._model.effective_time(when, venue), expiry_close)
        context = _ExpiryContext(
            is_open=market_hours.is_market_open(when, venue) and when < expiry_close,
            priced_at=priced_at,
            expiry_close=expiry_close,
            spot=self._model.spot(contract.underlying_uic, priced_at),
            vol_index=self._model.vix(priced_at) * VOL_MULTIPLIER[contract.root_id],
            calendar_years=years_to_expiry(priced_at, expiry_close),
            trading_years=self._trading_years(priced_at, contract.expiry, expiry_close),
            time_of_day=self._time_of_day_factor(priced_at),
        )
        if batched:
            self._batch_contexts[key] = context
        return context

    def settlement_value(self, contract: OptionContract) -> Decimal:
        """Intrinsic value (per share, cents) at the expiry session's close, from the model's
        underlying level at that instant (deterministic, so it can be asked any time)."""
        spot = self._model.spot(contract.underlying_uic, self.expiry_close(contract))
        strike = float(contract.strike)
        value = spot - strike if contract.put_call == "Call" else strike - spot
        return Decimal(repr(max(value, 0.0))).quantize(_CENT, ROUND_HALF_UP)

    def expiry_close(self, contract: OptionContract) -> datetime:
        """The instant the contract expires: its venue's session close on the expiry day."""
        session = session_for(contract.expiry, self._venue(contract))
        if session is None:
            raise ValueError(f"{contract.symbol} expires on {contract.expiry}, not a trading day")
        return session.close

    # ------------------------------------------------------------------ internals

    def _model_now(self) -> datetime:
        return self._model.now()

    @staticmethod
    def _venue(contract: OptionContract) -> Venue:
        venue = EXPIRY_VENUE.get(contract.root_id)
        if venue is None:
            raise ValueError(f"unknown option root id {contract.root_id}")
        return venue

    @staticmethod
    def _trading_years(at: datetime, expiry: date, expiry_close: datetime) -> float:
        """Trading-time years to expiry: the rest of today's intraday variance plus one whole
        day (overnight gap + session) per trading day after today up to the expiry."""
        today = ny_date(at)
        days = float(_full_days_between(today, expiry))
        session = session_for(today)
        if session is not None and at < expiry_close:
            length = int((session.close - session.open).total_seconds())
            if at < session.open:
                days += 1.0
            elif expiry == today:
                span = (expiry_close - session.open).total_seconds()
                elapsed = (at - session.open).total_seconds()
                left = remaining_intraday_variance(length, elapsed)
                after = remaining_intraday_variance(length, span)
                days += (1.0 - OVERNIGHT_VARIANCE_SHARE) * max(left - after, 0.0)
            else:
                elapsed = (at - session.open).total_seconds()
                left = remaining_intraday_variance(length, elapsed)
                days += (1.0 - OVERNIGHT_VARIANCE_SHARE) * left
        return days / TRADING_DAYS_PER_YEAR

    @staticmethod
    def _time_of_day_factor(at: datetime) -> float:
        session = session_for(ny_date(at))
        if session is None:
            return 1.0 + _CLOSE_WIDEN
        since_open = max((at - session.open).total_seconds() / 60.0, 0.0)
        to_close = max((session.close - at).total_seconds() / 60.0, 0.0)
        return (
            1.0
            + _OPEN_WIDEN * math.exp(-since_open / _WIDEN_MINUTES)
            + _CLOSE_WIDEN * math.exp(-to_close / _WIDEN_MINUTES)
        )

    def _option_bid_ask(
        self,
        contract: OptionContract,
        theo: float,
        delta: float,
        at: datetime,
        expiry_close: datetime,
        time_of_day: float,
    ) -> tuple[Decimal, Decimal]:
        root = contract.root
        theo = max(theo, 0.0)
        days_left = max((expiry_close - at).total_seconds() / 86_400.0, 0.0)
        relative = _REL_SPREAD[contract.root_id] * theo * time_of_day
        relative *= 1.0 + _SHORT_EXPIRY_WIDEN * math.exp(-days_left / _SHORT_EXPIRY_DAYS)
        relative *= 1.0 + _OTM_WIDEN * (1.0 - min(2.0 * abs(delta), 1.0)) ** 2
        width = float(tick_size(root, theo)) * time_of_day + relative
        bid = round_to_tick(root, max(theo - width / 2.0, 0.0), "down")
        ask = round_to_tick(root, theo + width / 2.0, "up")
        floor = bid + tick_size(root, bid)
        if ask < floor:
            ask = round_to_tick(root, floor, "up")
        return bid, ask
