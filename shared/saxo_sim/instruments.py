"""The simulator's instrument catalog: underlyings, option roots, listed expiries and contracts.

UICs of underlyings follow CALYPSO's Saxo mapping (US500.I 4913, VIX.I 10606, SPY 36590,
QQQ 4328771; SPXW option root 128). Option contract UICs are computed from (root, expiry,
strike, put/call), so they are the same in every run and never collide with underlying UICs.
Expiry dates are New York calendar dates.
"""

from __future__ import annotations

import calendar
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from typing import Literal

from shared import market_hours
from shared.logger_service import kv

logger = logging.getLogger(__name__)

PutCall = Literal["Call", "Put"]
_SIDES: tuple[PutCall, PutCall] = ("Call", "Put")
CONTRACT_SIZE = 100

US500_UIC = 4913
VIX_UIC = 10606
SPY_UIC = 36590
QQQ_UIC = 4328771
SPXW_ROOT_ID = 128
SPY_ROOT_ID = 6044  # invented: real Saxo root ids for SPY/QQQ are found via instrument details
QQQ_ROOT_ID = 6045


@dataclass(frozen=True)
class Underlying:
    """An underlying instrument (index CFD, index or ETF)."""

    uic: int
    symbol: str
    asset_type: str
    description: str
    currency: str
    tick_size: Decimal
    option_root_id: int | None
    exchange_id: str


@dataclass(frozen=True)
class OptionRoot:
    """An option root (Saxo ContractOptionRoot): one chain on one underlying."""

    root_id: int
    symbol: str
    underlying_uic: int
    asset_type: str
    strike_increment: Decimal


@dataclass(frozen=True)
class OptionContract:
    """One listed option series; `expiry` is the New York expiry date, `strike` in index points."""

    uic: int
    root_id: int
    root: str
    underlying_uic: int
    expiry: date
    strike: Decimal
    put_call: PutCall
    asset_type: str
    contract_size: int
    symbol: str


@dataclass(frozen=True)
class _ListingRules:
    """How a root lists expiries (calendar days ahead of `as_of`) and strikes."""

    index: int  # position in the UIC encoding, never reused
    daily_days: int
    weekly_days: int
    monthly_days: int
    strike_range: float  # fraction of the reference price either side of it


_UNDERLYINGS: tuple[Underlying, ...] = (
    Underlying(US500_UIC, "US500.I", "CfdOnIndex", "US 500 (SPX proxy)", "USD",
               Decimal("0.01"), SPXW_ROOT_ID, "SBCFD"),
    Underlying(VIX_UIC, "VIX.I", "StockIndex", "CBOE Volatility Index", "USD",
               Decimal("0.01"), None, "CBOE"),
    Underlying(SPY_UIC, "SPY:arcx", "Etf", "SPDR S&P 500 ETF Trust", "USD",
               Decimal("0.01"), SPY_ROOT_ID, "NYSE_ARCA"),
    Underlying(QQQ_UIC, "QQQ:xnas", "Etf", "Invesco QQQ Trust Series 1", "USD",
               Decimal("0.01"), QQQ_ROOT_ID, "NASDAQ"),
)  # fmt: skip

_ROOTS: tuple[OptionRoot, ...] = (
    OptionRoot(SPXW_ROOT_ID, "SPXW", US500_UIC, "StockIndexOption", Decimal("5")),
    OptionRoot(SPY_ROOT_ID, "SPY", SPY_UIC, "StockOption", Decimal("1")),
    OptionRoot(QQQ_ROOT_ID, "QQQ", QQQ_UIC, "StockOption", Decimal("1")),
)

_RULES: dict[int, _ListingRules] = {
    SPXW_ROOT_ID: _ListingRules(index=0, daily_days=45, weekly_days=0, monthly_days=0,
                                strike_range=0.08),
    SPY_ROOT_ID: _ListingRules(index=1, daily_days=14, weekly_days=70, monthly_days=400,
                               strike_range=0.15),
    QQQ_ROOT_ID: _ListingRules(index=2, daily_days=14, weekly_days=70, monthly_days=400,
                               strike_range=0.15),
}  # fmt: skip

# Option UIC layout: BASE + ((root_index * 2^14 + days since EPOCH) * 2^13 + strike steps) * 2 + pc
_UIC_BASE = 100_000_000
_UIC_EPOCH = date(2000, 1, 1)
_DAY_SLOTS = 1 << 14
_STRIKE_SLOTS = 1 << 13


def option_uic(root_id: int, expiry: date, strike: Decimal, put_call: PutCall) -> int:
    """The stable UIC of a series. Raises ValueError if it cannot be encoded."""
    rules = _RULES.get(root_id)
    root = _root_by_id(root_id)
    if rules is None or root is None:
        raise ValueError(f"unknown option root id {root_id}")
    days = (expiry - _UIC_EPOCH).days
    steps = strike / root.strike_increment
    if not 0 <= days < _DAY_SLOTS:
        raise ValueError(f"expiry {expiry} outside the encodable range")
    if steps != steps.to_integral_value() or not 0 < steps < _STRIKE_SLOTS:
        raise ValueError(f"strike {strike} is not a listable {root.symbol} strike")
    pc = 0 if put_call == "Call" else 1
    return _UIC_BASE + ((rules.index * _DAY_SLOTS + days) * _STRIKE_SLOTS + int(steps)) * 2 + pc


def _root_by_id(root_id: int) -> OptionRoot | None:
    return next((r for r in _ROOTS if r.root_id == root_id), None)


def _third_friday(year: int, month: int) -> date:
    first_weekday, _ = calendar.monthrange(year, month)
    first_friday = 1 + (calendar.FRIDAY - first_weekday) % 7
    return date(year, month, first_friday + 14)


def _on_or_before_trading_day(day: date) -> date:
    """`day` if NYSE trades then, else the previous trading day (holiday Friday -> Thursday)."""
    while not market_hours.is_trading_day(day):
        day -= timedelta(days=1)
    return day


def _fridays(start: date, end: date) -> Iterable[date]:
    day = start + timedelta(days=(calendar.FRIDAY - start.weekday()) % 7)
    while day <= end:
        yield day
        day += timedelta(days=7)


def _months(start: date, end: date) -> Iterable[tuple[int, int]]:
    year, month = start.year, start.month
    while (year, month) <= (end.year, end.month):
        yield year, month
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)


class InstrumentCatalog:
    """Underlyings, roots, listed expiries and lazily listed contracts. Not thread-safe: it
    lives on the simulator's event loop. `seed` is recorded for reproducibility; listings and
    UICs do not depend on it."""

    def __init__(self, seed: int) -> None:
        self.seed = seed
        self._contracts: dict[int, OptionContract] = {}
        self._strikes: dict[tuple[int, date], list[Decimal]] = {}
        self._expiry_cache: dict[tuple[int, date], list[date]] = {}

    # ------------------------------------------------------------------ underlyings and roots

    def underlyings(self) -> list[Underlying]:
        """All underlyings, in a fixed order."""
        return list(_UNDERLYINGS)

    def underlying(self, uic: int) -> Underlying | None:
        """The underlying with this UIC, or None."""
        return next((u for u in _UNDERLYINGS if u.uic == uic), None)

    def underlying_by_symbol(self, symbol: str) -> Underlying | None:
        """Lookup by symbol, case-insensitive; "SPY" matches "SPY:arcx". None if unknown."""
        wanted = symbol.strip().upper()
        for item in _UNDERLYINGS:
            full = item.symbol.upper()
            if wanted in (full, full.split(":")[0]):
                return item
        return None

    def roots(self) -> list[OptionRoot]:
        """All option roots, in a fixed order."""
        return list(_ROOTS)

    def root(self, root_id: int) -> OptionRoot | None:
        """The option root with this id, or None."""
        return _root_by_id(root_id)

    # ------------------------------------------------------------------ expiries

    def expiries(self, root_id: int, as_of: date) -> list[date]:
        """Listed expiries on New York date `as_of`, unexpired (>= as_of), ascending.

        SPXW: every trading day up to 45 days ahead. SPY/QQQ: every trading day up to 14 days,
        Fridays up to 70 days and third Fridays up to 400 days (a holiday moves an expiry to
        the previous trading day). Raises ValueError for an unknown root.
        """
        rules = self._rules(root_id)
        key = (root_id, as_of)
        cached = self._expiry_cache.get(key)
        if cached is not None:
            return list(cached)
        found: set[date] = set()
        dailies_end = as_of + timedelta(days=rules.daily_days)
        found.update(market_hours.trading_days_between(as_of, dailies_end))
        if rules.weekly_days:
            for friday in _fridays(as_of, as_of + timedelta(days=rules.weekly_days)):
                found.add(_on_or_before_trading_day(friday))
        if rules.monthly_days:
            end = as_of + timedelta(days=rules.monthly_days)
            for year, month in _months(as_of, end):
                third = _third_friday(year, month)
                if third <= end:
                    found.add(_on_or_before_trading_day(third))
        listed = sorted(day for day in found if day >= as_of)
        if len(self._expiry_cache) > 64:
            self._expiry_cache.clear()
        self._expiry_cache[key] = listed
        return list(listed)

    # ------------------------------------------------------------------ contracts

    def contracts(self, root_id: int, expiry: date, reference_price: float) -> list[OptionContract]:
        """Listed series of one expiry, sorted by strike (Call before Put).

        The first call lists strikes at the root's increment within +-8 % (SPXW) or +-15 %
        (SPY/QQQ) of `reference_price`; later calls return the same series. If a later
        reference price gets within half that range of the listed edge, strikes are added on
        that side (never removed), so the money stays covered in long runs. An expiry that is
        not a trading day lists nothing. Raises ValueError for an unknown root or a
        reference price that is not > 0.
        """
        rules = self._rules(root_id)
        root = _root_by_id(root_id)
        assert root is not None
        if not reference_price > 0:
            raise ValueError(f"reference_price must be > 0, got {reference_price!r}")
        if not market_hours.is_trading_day(expiry):
            return []
        key = (root_id, expiry)
        wanted = self._strike_span(root, reference_price, rules.strike_range)
        listed = self._strikes.get(key)
        if listed is None:
            listed = self._list(root, expiry, wanted[0], wanted[1])
            logger.debug(kv(
                "sim_chain_listed", root=root.symbol, expiry=expiry, strikes=len(listed)
            ))
        else:
            inner = self._strike_span(root, reference_price, rules.strike_range / 2)
            low = wanted[0] if inner[0] < listed[0] else listed[0]
            high = wanted[1] if inner[1] > listed[-1] else listed[-1]
            if low < listed[0] or high > listed[-1]:
                listed = self._list(root, expiry, low, high)
                logger.info(kv(
                    "sim_chain_extended", root=root.symbol, expiry=expiry, strikes=len(listed)
                ))
        self._strikes[key] = listed
        return [
            self._contracts[option_uic(root_id, expiry, strike, pc)]
            for strike in listed
            for pc in _SIDES
        ]

    def option(self, uic: int) -> OptionContract | None:
        """A contract listed so far in this run, or None."""
        return self._contracts.get(uic)

    def contract_for(
        self, root_id: int, expiry: date, strike: Decimal, put_call: str
    ) -> OptionContract | None:
        """The listed series for these terms, or None if it was not listed in this run."""
        if put_call not in ("Call", "Put") or root_id not in _RULES:
            return None
        side: PutCall = "Call" if put_call == "Call" else "Put"
        try:
            uic = option_uic(root_id, expiry, Decimal(str(strike)), side)
        except (ValueError, ArithmeticError):
            return None
        return self._contracts.get(uic)

    # ------------------------------------------------------------------ internals

    @staticmethod
    def _rules(root_id: int) -> _ListingRules:
        rules = _RULES.get(root_id)
        if rules is None:
            known = ", ".join(str(r) for r in _RULES)
            raise ValueError(f"unknown option root id {root_id} (known: {known})")
        return rules

    @staticmethod
    def _strike_span(
        root: OptionRoot, reference: float, fraction: float
    ) -> tuple[Decimal, Decimal]:
        step = root.strike_increment
        low = (Decimal(repr(reference * (1 - fraction))) / step).to_integral_value(ROUND_CEILING)
        high = (Decimal(repr(reference * (1 + fraction))) / step).to_integral_value(ROUND_FLOOR)
        return max(low, Decimal(1)) * step, high * step

    def _list(self, root: OptionRoot, expiry: date, low: Decimal, high: Decimal) -> list[Decimal]:
        strikes: list[Decimal] = []
        strike = low
        while strike <= high:
            strikes.append(strike)
            for put_call in _SIDES:
                uic = option_uic(root.root_id, expiry, strike, put_call)
                if uic not in self._contracts:
                    self._contracts[uic] = OptionContract(
                        uic=uic,
                        root_id=root.root_id,
                        root=root.symbol,
                        underlying_uic=root.underlying_uic,
                        expiry=expiry,
                        strike=strike,
                        put_call=put_call,
                        asset_type=root.asset_type,
                        contract_size=CONTRACT_SIZE,
                        symbol=_contract_symbol(root.symbol, expiry, strike, put_call),
                    )
            strike += root.strike_increment
        return strikes


def _contract_symbol(root: str, expiry: date, strike: Decimal, put_call: PutCall) -> str:
    """A readable Saxo-like symbol, e.g. "SPXW/02Mar26C6000" (strike without trailing zeros)."""
    text = format(strike.normalize(), "f")
    return f"{root}/{expiry:%d%b%y}{put_call[0]}{text}"
