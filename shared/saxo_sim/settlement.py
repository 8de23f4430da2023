"""Expiry settlement and assignment of option positions.

At the contract's expiry close (its venue's session close on the expiry date):
- SPXW (`StockIndexOption`, cash-settled): the position is closed at the settlement value
  (intrinsic at that close) and cash moves by amount x value x 100.
- SPY/QQQ (`StockOption`, physical): in-the-money positions (settlement value > 0) are exercised
  or assigned into 100 shares per contract at the strike (the option closes at 0); out-of-the-
  money positions expire worthless (closed at 0).
"""

from __future__ import annotations

import logging
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from shared.logger_service import kv
from shared.saxo_sim.portfolio import OPTION_MULTIPLIER, Fill

if TYPE_CHECKING:
    from shared.saxo_sim.exchange import Exchange
    from shared.saxo_sim.instruments import OptionContract

logger = logging.getLogger(__name__)


def settle_expired(exchange: Exchange, now: datetime) -> None:
    """Settle every option position whose expiry close is at or before `now`."""
    state = exchange._state
    for position in list(exchange.portfolio.positions.values()):
        contract = state.catalog.option(position.uic)
        if contract is None:
            continue
        close = state.pricing.expiry_close(contract)
        if now < close:
            continue
        value = state.pricing.settlement_value(contract)
        amount = position.amount
        if contract.asset_type == "StockIndexOption":
            exchange.portfolio.close_at(position.uic, abs(amount), value, close)
            kind = "cash_settled"
        elif value > 0:
            exchange.portfolio.close_at(position.uic, abs(amount), Decimal(0), close)
            _deliver_shares(exchange, contract, amount, close)
            kind = "exercised" if amount > 0 else "assigned"
            exchange.counts["assignments"] += 1
        else:
            exchange.portfolio.close_at(position.uic, abs(amount), Decimal(0), close)
            kind = "expired_worthless"
        exchange.counts["settlements"] += 1
        logger.info(kv(
            "option_settled",
            uic=contract.uic,
            symbol=contract.symbol,
            amount=amount,
            value=value,
            kind=kind,
        ))  # fmt: skip


def _deliver_shares(
    exchange: Exchange, contract: OptionContract, contracts: Decimal, at: datetime
) -> None:
    """Book the share leg of an exercise/assignment: long call or short put receive shares."""
    receives = (contracts > 0) == (contract.put_call == "Call")
    shares = abs(contracts) * contract.contract_size
    underlying = exchange._state.catalog.underlying(contract.underlying_uic)
    asset_type = underlying.asset_type if underlying is not None else "Etf"
    exchange.portfolio.book(
        Fill(
            order_id="",
            uic=contract.underlying_uic,
            asset_type=asset_type,
            buy_sell="Buy" if receives else "Sell",
            amount=shares,
            price=contract.strike,
            at=at,
            external_reference=None,
            commission=Decimal(0),
        )
    )


def assign_early(
    exchange: Exchange, position_id: str, amount: int | None, now: datetime
) -> dict[str, Any]:
    """Assign `amount` contracts (default all) of a short StockOption position now.

    Raises ValueError when the position is unknown, not an equity option, or not short.
    """
    position = next(
        (p for p in exchange.portfolio.positions.values() if p.position_id == position_id), None
    )
    if position is None:
        raise ValueError(f"no open position with PositionId {position_id}")
    contract = exchange._state.catalog.option(position.uic)
    if contract is None or contract.asset_type != "StockOption":
        raise ValueError("only StockOption (SPY/QQQ) positions can be assigned early")
    if position.amount >= 0:
        raise ValueError("only short option positions can be assigned")
    contracts = Decimal(amount) if amount is not None else abs(position.amount)
    if contracts > abs(position.amount):
        raise ValueError(
            f"cannot assign {contracts} contracts of a {abs(position.amount)}-lot position"
        )
    exchange.portfolio.close_at(position.uic, contracts, Decimal(0), now)
    _deliver_shares(exchange, contract, -contracts, now)
    exchange.counts["assignments"] += 1
    shares = contracts * OPTION_MULTIPLIER
    logger.info(kv("option_assigned_early", uic=contract.uic, contracts=contracts))
    return {
        "PositionId": position_id,
        "AssignedContracts": int(contracts),
        "Shares": int(shares if contract.put_call == "Put" else -shares),
        "Uic": contract.underlying_uic,
        "Price": float(contract.strike),
    }
