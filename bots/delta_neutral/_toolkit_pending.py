"""Generic strategy pieces the delta neutral bot needs before the shared toolkit lands.

Moves to the shared strategy toolkit (`shared/strategy/`, issue 12) once it is on main: the
saved-state codec (Decimals as strings, ISO dates), cash flows from verified fills, the
broker-book reading on restart and the flash-move monitor. Nothing here knows about straddles
or strangles.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from shared.domain import Position, PutCall, Side
from shared.strategy_contract import LegFill

# ------------------------------------------------------------------------------ state codec


def dec(value: Any, name: str) -> Decimal:
    """`value` (a string or int) as a finite Decimal; ValueError naming `name` otherwise."""
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise ValueError(f"{name}: expected a decimal string, got {value!r}")
    try:
        number = Decimal(value)
    except InvalidOperation:
        raise ValueError(f"{name}: not a number: {value!r}") from None
    if not number.is_finite():
        raise ValueError(f"{name}: not finite: {value!r}")
    return number


def parse_date(value: Any, name: str) -> date:
    """An ISO date string as a date; ValueError naming `name` otherwise."""
    if not isinstance(value, str):
        raise ValueError(f"{name}: expected an ISO date string, got {value!r}")
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{name}: not an ISO date: {value!r}") from None


def positive_int(value: Any, name: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
        raise ValueError(f"{name}: expected a positive integer, got {value!r}")
    return value


# ------------------------------------------------------------------------------ fills


@dataclass(frozen=True)
class CashFlow:
    """Money of a set of fills, USD per position: `gross_usd` is + for sells and - for buys
    (price x multiplier x quantity); `commission_usd` is what the broker charged (>= 0)."""

    gross_usd: Decimal
    commission_usd: Decimal

    @property
    def net_usd(self) -> Decimal:
        return self.gross_usd - self.commission_usd

    def __add__(self, other: CashFlow) -> CashFlow:
        return CashFlow(
            self.gross_usd + other.gross_usd, self.commission_usd + other.commission_usd
        )


NO_CASH = CashFlow(Decimal(0), Decimal(0))


def cash_flow(fills: Iterable[LegFill]) -> CashFlow:
    """The cash flow of `fills` (each at its own multiplier and quantity)."""
    gross = Decimal(0)
    commission = Decimal(0)
    for fill in fills:
        sign = 1 if fill.side is Side.SELL else -1
        gross += sign * fill.price * fill.multiplier * fill.quantity
        commission += fill.commission_usd
    return CashFlow(gross, commission)


# ------------------------------------------------------------------------------ broker book


@dataclass(frozen=True)
class BookLeg:
    """An option position at the broker, as the strategy sees it; `amount` signed contracts."""

    uic: int
    amount: Decimal
    strike: Decimal
    put_call: PutCall
    expiry: date
    open_price: Decimal | None


@dataclass(frozen=True)
class BrokerBook:
    """The broker's positions split into option legs and anything else (shares from an
    assignment, legs without strike or expiry): the latter are never guessed about."""

    legs: tuple[BookLeg, ...]
    other: tuple[Position, ...]


def read_book(positions: Sequence[Position]) -> BrokerBook:
    """Split `positions` (already this bot's) into option legs and the rest; zero amounts
    are dropped."""
    legs: list[BookLeg] = []
    other: list[Position] = []
    for position in positions:
        if position.amount == 0:
            continue
        if position.strike is None or position.expiry is None or position.put_call is None:
            other.append(position)
            continue
        legs.append(
            BookLeg(
                position.uic,
                position.amount,
                position.strike,
                position.put_call,
                position.expiry,
                position.open_price,
            )
        )
    return BrokerBook(tuple(legs), tuple(other))


# ------------------------------------------------------------------------------ flash move


class FlashMonitor:
    """Prices of the last `window` (UTC times), at most one a second; `move_percent` is the
    largest |latest - earlier| / earlier x 100 within it (0 without history)."""

    def __init__(self, window: timedelta) -> None:
        self._window = window
        self._points: deque[tuple[datetime, Decimal]] = deque()
        self._latest: Decimal | None = None

    def add(self, at: datetime, price: Decimal) -> None:
        self._latest = price
        if not self._points or at - self._points[-1][0] >= timedelta(seconds=1):
            self._points.append((at, price))
        while self._points and at - self._points[0][0] > self._window:
            self._points.popleft()

    def move_percent(self) -> Decimal:
        latest = self._latest
        if latest is None:
            return Decimal(0)
        return max(
            (abs(latest - p) / p * 100 for _, p in self._points if p > 0), default=Decimal(0)
        )

    def clear(self) -> None:
        self._points.clear()
        self._latest = None
