"""`trade` service group: info prices and single-leg orders (place, precheck, modify, cancel)."""

from __future__ import annotations

from decimal import Decimal

from aiohttp import web

from shared.saxo_sim.errors import SimApiError, invalid_model_state, json_response
from shared.saxo_sim.orders import parse_order, to_decimal
from shared.saxo_sim.routes import (
    get_state,
    int_list_param,
    int_param,
    json_body,
    query_param,
    require_param,
)
from shared.saxo_sim.saxo_shapes import parse_field_groups

DEFAULT_INFO_GROUPS = ("Quote",)


def _groups(request: web.Request) -> list[str]:
    return parse_field_groups(query_param(request, "FieldGroups"), DEFAULT_INFO_GROUPS)


async def info_price(request: web.Request) -> web.Response:
    """GET /trade/v1/infoprices?Uic&AssetType[&FieldGroups&Amount] -> one InfoPrice object."""
    state = get_state(request)
    uic = int_param(request, "Uic")
    if uic is None:
        raise invalid_model_state({"Uic": ["The Uic field is required."]})
    asset_type = require_param(request, "AssetType")
    amount = int_param(request, "Amount", 1) or 1
    return json_response(state.info_price(uic, asset_type, _groups(request), amount))


async def info_price_list(request: web.Request) -> web.Response:
    """GET /trade/v1/infoprices/list?Uics=1,2&AssetType -> `{"Data": [...]}` (one AssetType)."""
    state = get_state(request)
    uics = int_list_param(request, "Uics")
    asset_type = require_param(request, "AssetType")
    amount = int_param(request, "Amount", 1) or 1
    groups = _groups(request)
    rows = [state.info_price(uic, asset_type, groups, amount) for uic in uics]
    return json_response({"Data": rows})


async def place_order(request: web.Request) -> web.Response:
    """POST /trade/v2/orders -> 200 `{"OrderId"}` or 400 (ModelState / ErrorInfo)."""
    state = get_state(request)
    body = await json_body(request)
    return json_response(state.exchange.place(parse_order(body)))


async def precheck_order(request: web.Request) -> web.Response:
    """POST /trade/v2/orders/precheck -> 200 with `PreCheckResult` Ok or Error (+ErrorInfo).

    Runs only the syntactic checks plus instrument, market-hours, tick and margin rules; no
    order is created and no directive is consumed.
    """
    state = get_state(request)
    req = parse_order(await json_body(request))
    try:
        instrument = state.resolve(req.uic, req.asset_type)
        quote = state.quote(instrument)
    except SimApiError as exc:
        return json_response(
            {
                "ErrorInfo": {"ErrorCode": exc.error_code, "Message": exc.message},
                "EstimatedCashRequired": 0.0,
                "PreCheckResult": "Error",
            }
        )
    price = (quote.ask if req.buy_sell == "Buy" else quote.bid) or req.price or Decimal(0)
    mult = 100 if instrument.option is not None else 1
    body: dict[str, object] = {
        "EstimatedCashRequired": float(price * req.amount * mult),
        "EstimatedCashRequiredCurrency": "USD",
        "InstrumentToAccountConversionRate": 1.0,
        "PreCheckResult": "Ok",
    }
    if not quote.market_open:
        body["ErrorInfo"] = {"ErrorCode": "MarketClosed", "Message": "Market is closed"}
    elif state.margin_refusal is not None:
        body["PreCheckResult"] = "Error"
        body["ErrorInfo"] = {"ErrorCode": state.margin_refusal,
                             "Message": "Order would exceed the margin available"}
    return json_response(body)


async def modify_order(request: web.Request) -> web.Response:
    """PATCH /trade/v2/orders with `{AccountKey, OrderId, OrderPrice?, Amount?, OrderDuration?}`."""
    state = get_state(request)
    body = await json_body(request)
    problems: dict[str, list[str]] = {}
    for name in ("AccountKey", "OrderId"):
        if not body.get(name):
            problems[name] = [f"The {name} field is required."]
    price = to_decimal(body["OrderPrice"]) if body.get("OrderPrice") is not None else None
    if body.get("OrderPrice") is not None and (price is None or price < 0):
        problems["OrderPrice"] = ["Price cannot be negative or non-numeric."]
    amount = to_decimal(body["Amount"]) if body.get("Amount") is not None else None
    if body.get("Amount") is not None and amount is None:
        problems["Amount"] = ["Amount must be a number."]
    if problems:
        raise invalid_model_state(problems)
    return json_response(state.exchange.modify(body, price, amount))


async def cancel_orders(request: web.Request) -> web.Response:
    """DELETE /trade/v2/orders/{OrderIds}?AccountKey -> 200 `{"Orders": [...]}`; 404 if gone."""
    state = get_state(request)
    account_key = require_param(request, "AccountKey")
    ids = [part.strip() for part in request.match_info["order_ids"].split(",") if part.strip()]
    status, body = state.exchange.cancel(ids, account_key)
    return json_response(body, status=status)


def add_routes(app: web.Application) -> None:
    r = app.router
    r.add_get("/openapi/trade/v1/infoprices", info_price)
    r.add_get("/openapi/trade/v1/infoprices/list", info_price_list)
    r.add_post("/openapi/trade/v2/orders", place_order)
    r.add_post("/openapi/trade/v2/orders/precheck", precheck_order)
    r.add_patch("/openapi/trade/v2/orders", modify_order)
    r.add_delete("/openapi/trade/v2/orders/{order_ids}", cancel_orders)
