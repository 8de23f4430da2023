"""The money of verified fills, for any bot: USD per position, from fill prices, with
commissions; never from quotes.

A cash flow is + for what was received (sells) and - for what was paid (buys): price per share
x multiplier x contracts; commissions are what the broker charged (USD, >= 0), kept beside it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from shared.domain import Side
from shared.strategy_contract import LegFill


@dataclass(frozen=True)
class CashFlow:
    """Money of a set of fills (USD per position): `gross_usd` before commissions,
    `commission_usd` the commissions charged."""

    gross_usd: Decimal
    commission_usd: Decimal

    @property
    def net_usd(self) -> Decimal:
        """Gross less commissions (USD)."""
        return self.gross_usd - self.commission_usd

    def __add__(self, other: CashFlow) -> CashFlow:
        return CashFlow(
            self.gross_usd + other.gross_usd, self.commission_usd + other.commission_usd
        )


NO_CASH = CashFlow(Decimal(0), Decimal(0))


def cash_flow(fills: Iterable[LegFill]) -> CashFlow:
    """The cash flow of `fills`, each at its own price, multiplier and quantity. Exact."""
    gross = Decimal(0)
    commission = Decimal(0)
    for fill in fills:
        sign = 1 if fill.side is Side.SELL else -1
        gross += sign * fill.price * fill.multiplier * fill.quantity
        commission += fill.commission_usd
    return CashFlow(gross, commission)
