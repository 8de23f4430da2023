"""The simulated account: cash, net positions (one per Uic), closed positions, order activities.

Money is Decimal USD. Option amounts are contracts (x100 shares); ETF amounts are shares.
Commission: `commission_per_contract_usd` per option contract filled; shares trade free.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

logger = logging.getLogger(__name__)

OPTION_MULTIPLIER = 100


def multiplier(asset_type: str) -> int:
    """Currency per price point per unit: 100 for options, 1 for shares/ETFs."""
    return OPTION_MULTIPLIER if asset_type in ("StockOption", "StockIndexOption") else 1


@dataclass
class Position:
    """An open net position; `amount` is signed (negative = short)."""

    position_id: str
    uic: int
    asset_type: str
    amount: Decimal
    open_price: Decimal
    opened_at: datetime
    source_order_id: str
    external_reference: str | None
    costs_open: Decimal = Decimal(0)  # commissions paid to open, negative USD


@dataclass
class ClosedPosition:
    """A closed (part of a) position; `amount` is the closed size with the opening direction."""

    opening_position_id: str
    closing_position_id: str
    uic: int
    asset_type: str
    amount: Decimal  # signed like the opening position
    open_price: Decimal
    closing_price: Decimal
    opened_at: datetime
    closed_at: datetime
    cost_opening: Decimal
    cost_closing: Decimal
    closing_method: str = "Fifo"

    @property
    def profit_loss(self) -> Decimal:
        return (self.closing_price - self.open_price) * self.amount * multiplier(self.asset_type)


@dataclass
class Activity:
    """One `/cs/v1/audit/orderactivities` row. `created_real` is REAL monotonic seconds (lag)."""

    log_id: int
    order_id: str
    status: str
    activity_time: datetime
    created_real: float
    uic: int
    asset_type: str
    buy_sell: str
    amount: Decimal
    order_type: str
    price: Decimal | None
    duration: str
    external_reference: str | None
    correlation_key: str
    sub_status: str | None = None
    fill_amount: Decimal | None = None
    filled_amount: Decimal | None = None
    average_price: Decimal | None = None
    execution_price: Decimal | None = None
    position_id: str | None = None
    error_code: str | None = None


@dataclass
class Fill:
    """One execution to book: signed by `buy_sell`."""

    order_id: str
    uic: int
    asset_type: str
    buy_sell: str
    amount: Decimal
    price: Decimal
    at: datetime
    external_reference: str | None
    commission: Decimal  # positive USD charged


@dataclass
class Portfolio:
    """Cash and positions of the single simulated account."""

    cash: Decimal
    positions: dict[int, Position] = field(default_factory=dict)
    closed: list[ClosedPosition] = field(default_factory=list)
    _next_position_id: int = 6_000_000_001

    def new_position_id(self) -> str:
        value = self._next_position_id
        self._next_position_id += 1
        return str(value)

    def book(self, fill: Fill) -> str:
        """Apply a fill: cash, netting against the open position, closed rows. Returns the
        PositionId the fill ended up in (the closing trade's id when it only closed)."""
        mult = multiplier(fill.asset_type)
        signed = fill.amount if fill.buy_sell == "Buy" else -fill.amount
        self.cash -= signed * fill.price * mult + fill.commission
        position = self.positions.get(fill.uic)
        fill_id = self.new_position_id()
        cost = -fill.commission
        if position is None or (position.amount > 0) == (signed > 0):
            if position is None:
                self.positions[fill.uic] = Position(
                    fill_id, fill.uic, fill.asset_type, signed, fill.price, fill.at,
                    fill.order_id, fill.external_reference, cost,
                )  # fmt: skip
                return fill_id
            total = position.amount + signed
            position.open_price = (
                position.open_price * position.amount + fill.price * signed
            ) / total
            position.amount = total
            position.costs_open += cost
            return position.position_id
        closing = min(abs(signed), abs(position.amount))
        share = closing / abs(signed)
        opened_share = closing / abs(position.amount)
        direction = Decimal(1) if position.amount > 0 else Decimal(-1)
        self.closed.append(
            ClosedPosition(
                opening_position_id=position.position_id,
                closing_position_id=fill_id,
                uic=fill.uic,
                asset_type=fill.asset_type,
                amount=closing * direction,
                open_price=position.open_price,
                closing_price=fill.price,
                opened_at=position.opened_at,
                closed_at=fill.at,
                cost_opening=position.costs_open * opened_share,
                cost_closing=cost * share,
            )
        )
        position.costs_open -= position.costs_open * opened_share
        position.amount += signed
        remainder = signed + closing * direction  # what is left of the fill after closing
        if position.amount == 0:
            del self.positions[fill.uic]
        if remainder != 0:
            self.positions[fill.uic] = Position(
                fill_id, fill.uic, fill.asset_type, remainder, fill.price, fill.at,
                fill.order_id, fill.external_reference, cost * (1 - share),
            )  # fmt: skip
        return fill_id

    def close_at(self, uic: int, amount: Decimal, price: Decimal, at: datetime) -> Decimal:
        """Close `amount` (unsigned, capped at the position) of a position at `price` without
        commission (expiry, settlement, assignment). Cash moves by the closing value. Returns
        the signed amount that was closed (0 if there is no position)."""
        position = self.positions.get(uic)
        if position is None:
            return Decimal(0)
        closing = min(amount, abs(position.amount))
        direction = Decimal(1) if position.amount > 0 else Decimal(-1)
        fill = Fill(
            order_id="",
            uic=uic,
            asset_type=position.asset_type,
            buy_sell="Sell" if direction > 0 else "Buy",
            amount=closing,
            price=price,
            at=at,
            external_reference=None,
            commission=Decimal(0),
        )
        self.book(fill)
        return closing * direction

    def closed_newest_first(self) -> list[ClosedPosition]:
        return sorted(self.closed, key=lambda c: (c.closed_at, c.closing_position_id), reverse=True)
