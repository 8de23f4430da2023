"""Builders of Saxo-shaped JSON for orders, positions, closed positions, activities, balances."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from shared.saxo_sim.saxo_shapes import (
    ACCOUNT_ID,
    ACCOUNT_KEY,
    CLIENT_ID,
    CLIENT_KEY,
    CURRENCY,
    USER_KEY,
    iso,
    iso_date_midnight,
    num,
)

if TYPE_CHECKING:
    from shared.saxo_sim.instruments import OptionContract
    from shared.saxo_sim.orders import Order
    from shared.saxo_sim.portfolio import Activity, ClosedPosition, Position
    from shared.saxo_sim.pricing import Quote


def _options_data_short(contract: OptionContract) -> dict[str, Any]:
    return {
        "ExpiryDate": iso_date_midnight(contract.expiry),
        "PutCall": contract.put_call,
        "Strike": float(contract.strike),
    }


def options_data(contract: OptionContract) -> dict[str, Any]:
    """`PositionBase.OptionsData` (note `Strike`, and `ExpiryDate` with a time part)."""
    index = contract.asset_type == "StockIndexOption"
    return {
        **_options_data_short(contract),
        "CanBeExercised": not index,
        "ExerciseStyle": "European" if index else "American",
        "ExpiryCut": "None",
        "SettlementStyle": "CashDelivery" if index else "PhysicalDelivery",
    }


def order_row(
    order: Order,
    quote: Quote | None,
    contract: OptionContract | None,
    display: dict[str, Any] | None,
) -> dict[str, Any]:
    """One open order as `/port/v1/orders` lists it (`OpenOrderType`, `Price`, `Duration`)."""
    side_price = None
    if quote is not None:
        side_price = quote.ask if order.buy_sell == "Buy" else quote.bid
    row: dict[str, Any] = {
        "AccountId": ACCOUNT_ID,
        "AccountKey": order.account_key,
        "Amount": float(order.amount),
        "AssetType": order.asset_type,
        "BuySell": order.buy_sell,
        "CalculationReliability": "Ok",
        "ClientKey": CLIENT_KEY,
        "CorrelationKey": order.correlation_key,
        "CurrentPriceDelayMinutes": 0,
        "CurrentPriceType": "Ask" if order.buy_sell == "Buy" else "Bid",
        "Duration": {"DurationType": order.duration},
        "FilledAmount": float(order.filled_amount),
        "IsMarketOpen": bool(quote.market_open) if quote is not None else False,
        "OpenOrderType": order.order_type,
        "OrderAmountType": "Quantity",
        "OrderId": order.order_id,
        "OrderRelation": "StandAlone",
        "OrderTime": iso(order.placed_at),
        "RelatedOpenOrders": [],
        "Status": "Working",
        "Uic": order.uic,
    }
    if side_price is not None:
        row["CurrentPrice"] = num(side_price)
        row["MarketPrice"] = num(side_price)
        if order.price is not None:
            row["DistanceToMarket"] = num(abs(side_price - order.price))
    if order.price is not None:
        row["Price"] = num(order.price)
    if order.external_reference:
        row["ExternalReference"] = order.external_reference
    if order.to_open_close:
        row["ToOpenClose"] = order.to_open_close
    if contract is not None:
        row["OptionsData"] = _options_data_short(contract)
        row["ExpiryDate"] = iso_date_midnight(contract.expiry)
    if display is not None:
        row["DisplayAndFormat"] = display
    return row


def net_position_id(position: Position, symbol: str, is_option: bool) -> str:
    if is_option:
        return f"{position.uic}__CO__{'L' if position.amount > 0 else 'S'}"
    return f"{symbol}__{position.asset_type}"


def position_row(
    position: Position,
    *,
    mark: Decimal,
    multiplier: int,
    market_open: bool,
    contract: OptionContract | None,
    symbol: str,
    field_groups: Sequence[str],
    display: dict[str, Any] | None,
    greeks: dict[str, Any] | None,
) -> dict[str, Any]:
    """One `/port/v1/positions` row: `PositionId` on top, `PositionBase`, `PositionView`."""
    groups = set(field_groups)
    base: dict[str, Any] = {
        "AccountId": ACCOUNT_ID,
        "AccountKey": ACCOUNT_KEY,
        "Amount": float(position.amount),
        "AssetType": position.asset_type,
        "CanBeClosed": True,
        "ClientId": CLIENT_ID,
        "CloseConversionRateSettled": False,
        "ExecutionTimeOpen": iso(position.opened_at),
        "IsMarketOpen": market_open,
        "OpenPrice": num(position.open_price),
        "RelatedOpenOrders": [],
        "SourceOrderId": position.source_order_id,
        "Status": "Open",
        "Uic": position.uic,
        "ValueDate": iso_date_midnight(position.opened_at.date()),
    }
    if position.external_reference:
        base["ExternalReference"] = position.external_reference
    if contract is not None:
        base["OptionsData"] = options_data(contract)
    row: dict[str, Any] = {
        "NetPositionId": net_position_id(position, symbol, contract is not None),
        "PositionId": position.position_id,
    }
    if "PositionBase" in groups:
        row["PositionBase"] = base
    if "PositionView" in groups:
        pnl = (mark - position.open_price) * position.amount * multiplier
        exposure = position.amount * mark * multiplier
        view: dict[str, Any] = {
            "CalculationReliability": "Ok" if market_open else "ApproximatedPrice",
            "ConversionRateCurrent": 1.0,
            "ConversionRateOpen": 1.0,
            "CurrentPrice": num(mark),
            "CurrentPriceDelayMinutes": 0,
            "CurrentPriceType": "Bid" if position.amount > 0 else "Ask",
            "Exposure": num(exposure),
            "ExposureCurrency": CURRENCY,
            "ExposureInBaseCurrency": num(exposure),
            "MarketValue": num(exposure),
            "ProfitLossOnTrade": num(round(pnl, 2)),
            "ProfitLossOnTradeInBaseCurrency": num(round(pnl, 2)),
            "TradeCostsTotal": num(round(position.costs_open, 2)),
            "TradeCostsTotalInBaseCurrency": num(round(position.costs_open, 2)),
        }
        if position.amount > 0:
            view["AverageOpenPrice"] = num(position.open_price)
        row["PositionView"] = view
    if "DisplayAndFormat" in groups and display is not None:
        row["DisplayAndFormat"] = display
    if "Greeks" in groups and greeks is not None:
        row["Greeks"] = greeks
    return row


def closed_position_row(closed: ClosedPosition, net_id: str) -> dict[str, Any]:
    """One `/port/v1/closedpositions` row (`BuyOrSell` is the opening direction)."""
    pnl = round(closed.profit_loss, 2)
    return {
        "ClosedPositionUniqueId": f"{closed.opening_position_id}-{closed.closing_position_id}",
        "NetPositionId": net_id,
        "ClosedPosition": {
            "AccountId": ACCOUNT_ID,
            "Amount": float(abs(closed.amount)),
            "AssetType": closed.asset_type,
            "BuyOrSell": "Buy" if closed.amount > 0 else "Sell",
            "ClientId": CLIENT_ID,
            "ClosedProfitLoss": num(pnl),
            "ClosedProfitLossInBaseCurrency": num(pnl),
            "ClosingMethod": closed.closing_method,
            "ClosingPositionId": closed.closing_position_id,
            "ClosingPrice": num(closed.closing_price),
            "CostClosing": num(round(closed.cost_closing, 2)),
            "CostOpening": num(round(closed.cost_opening, 2)),
            "ExecutionTimeClose": iso(closed.closed_at),
            "ExecutionTimeOpen": iso(closed.opened_at),
            "OpeningPositionId": closed.opening_position_id,
            "OpenPrice": num(closed.open_price),
            "Uic": closed.uic,
        },
    }


def activity_row(
    activity: Activity, *, prices_visible: bool, contract: OptionContract | None
) -> dict[str, Any]:
    """One `/cs/v1/audit/orderactivities` row; fill prices hidden unless `prices_visible`."""
    row: dict[str, Any] = {
        "AccountId": ACCOUNT_ID,
        "ActivityTime": iso(activity.activity_time),
        "Amount": float(activity.amount),
        "AssetType": activity.asset_type,
        "BuySell": activity.buy_sell,
        "ClientId": CLIENT_ID,
        "CorrelationKey": activity.correlation_key,
        "Duration": {"DurationType": activity.duration},
        "HandledBy": "System",
        "LogId": str(activity.log_id),
        "OrderId": activity.order_id,
        "OrderRelation": "StandAlone",
        "OrderType": activity.order_type,
        "Status": activity.status,
        "Uic": activity.uic,
    }
    if activity.sub_status:
        row["SubStatus"] = activity.sub_status
    if activity.price is not None:
        row["Price"] = num(activity.price)
    if activity.external_reference:
        row["ExternalReference"] = activity.external_reference
    if activity.fill_amount is not None:
        row["FillAmount"] = float(activity.fill_amount)
        row["FilledAmount"] = float(activity.filled_amount or 0)
        if activity.position_id:
            row["PositionId"] = activity.position_id
        if prices_visible:
            row["AveragePrice"] = num(round(activity.average_price or Decimal(0), 6))
            row["ExecutionPrice"] = num(activity.execution_price)
    if activity.error_code:
        row["ErrorInfo"] = {"ErrorCode": activity.error_code}
    if contract is not None:
        row["PutCall"] = contract.put_call
        row["Strike"] = float(contract.strike)
        row["ExpiryDate"] = iso_date_midnight(contract.expiry)
    return row


def balances_body(
    *,
    cash: Decimal,
    positions_value: Decimal,
    margin_used: Decimal,
    open_positions: int,
    orders: int,
    closed_positions: int,
) -> dict[str, Any]:
    """`/port/v1/balances` (a bare object) in USD."""
    total = cash + positions_value
    available = total - margin_used
    utilization = float(round(100 * margin_used / total, 2)) if total > 0 else 0.0
    return {
        "CalculationReliability": "Ok",
        "CashBalance": num(round(cash, 2)),
        "ChangesScheduled": False,
        "ClosedPositionsCount": closed_positions,
        "CostToClosePositions": 0.0,
        "Currency": CURRENCY,
        "CurrencyDecimals": 2,
        "InitialMargin": {
            "MarginAvailable": num(round(available, 2)),
            "MarginUsedByCurrentPositions": num(-round(margin_used, 2)),
            "MarginUtilizationPct": utilization,
            "NetEquityForMargin": num(round(total, 2)),
        },
        "IsPortfolioMarginModelSimple": True,
        "MarginAvailableForTrading": num(round(available, 2)),
        "MarginCollateralNotAvailable": 0.0,
        "MarginUsedByCurrentPositions": num(-round(margin_used, 2)),
        "MarginUtilizationPct": utilization,
        "NetEquityForMargin": num(round(total, 2)),
        "NetPositionsCount": open_positions,
        "NonMarginPositionsValue": 0.0,
        "OpenPositionsCount": open_positions,
        "OptionPremiumsMarketValue": num(round(positions_value, 2)),
        "OrdersCount": orders,
        "OtherCollateral": 0.0,
        "TotalValue": num(round(total, 2)),
        "TransactionsNotBooked": 0.0,
        "UnrealizedPositionsValue": num(round(positions_value, 2)),
    }


def account_body() -> dict[str, Any]:
    return {
        "AccountGroupKey": ACCOUNT_KEY,
        "AccountId": ACCOUNT_ID,
        "AccountKey": ACCOUNT_KEY,
        "AccountType": "Normal",
        "Active": True,
        "ClientId": CLIENT_ID,
        "ClientKey": CLIENT_KEY,
        "Currency": CURRENCY,
        "CurrencyDecimals": 2,
        "DisplayName": "CALYPSO simulator",
        "IsTrialAccount": False,
    }


def client_body() -> dict[str, Any]:
    return {
        "ClientId": CLIENT_ID,
        "ClientKey": CLIENT_KEY,
        "Currency": CURRENCY,
        "DefaultAccountId": ACCOUNT_ID,
        "DefaultAccountKey": ACCOUNT_KEY,
        "Name": "CALYPSO simulator",
        "PositionNettingMode": "Intraday",
        "PositionNettingProfile": "FifoRealTime",
    }


def user_body(now: datetime) -> dict[str, Any]:
    return {
        "ClientKey": CLIENT_KEY,
        "Culture": "en-US",
        "Language": "en",
        "LastLoginTime": iso(now),
        "MarketDataViaOpenApiTermsAccepted": True,
        "Name": "CALYPSO simulator",
        "UserId": CLIENT_ID,
        "UserKey": USER_KEY,
    }
