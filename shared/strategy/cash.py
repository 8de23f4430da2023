"""Money of verified fills, for any bot: USD per position, sells positive, commissions apart.

A fill is price per share x multiplier x contracts; the commission the executor reports (USD)
is kept beside the gross so a P&L can be shown before and after costs. Quotes never enter here.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from shared.domain import Side
from shared.strategy.codec import dec
from shared.strategy_contract import LegFill


@dataclass(frozen=True)
class CashFlow:
    """`gross_usd` is + for sells and - for buys; `commission_usd` is what was charged (>= 0)."""

    gross_usd: Decimal = Decimal(0)
    commission_usd: Decimal = Decimal(0)

    @property
    def net_usd(self) -> Decimal:
        return self.gross_usd - self.commission_usd

    def __add__(self, other: CashFlow) -> CashFlow:
        return CashFlow(
            self.gross_usd + other.gross_usd, self.commission_usd + other.commission_usd
        )

    def to_json(self) -> dict[str, str]:
        return {"gross_usd": str(self.gross_usd), "commission_usd": str(self.commission_usd)}

    @classmethod
    def from_json(cls, data: Any, name: str) -> CashFlow:
        if not isinstance(data, dict):
            raise ValueError(f"{name}: expected an object, got {data!r}")
        return cls(
            dec(data.get("gross_usd"), f"{name}.gross_usd"),
            dec(data.get("commission_usd"), f"{name}.commission_usd"),
        )


def cash_flow(fills: Iterable[LegFill]) -> CashFlow:
    """The cash flow of `fills`, each at its own multiplier and quantity."""
    gross = Decimal(0)
    commission = Decimal(0)
    for fill in fills:
        sign = 1 if fill.side is Side.SELL else -1
        gross += sign * fill.price * fill.multiplier * fill.quantity
        commission += fill.commission_usd
    return CashFlow(gross, commission)
