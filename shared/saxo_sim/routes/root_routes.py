"""`root` service group: session capabilities (TradeLevel per session)."""

from __future__ import annotations

from aiohttp import web

from shared.saxo_sim.errors import SimApiError, empty_response, json_response
from shared.saxo_sim.routes import get_grant, get_state, json_body

TRADE_LEVELS = ("OrdersOnly", "FullTradingAndChat")


def _session(request: web.Request) -> str:
    grant = get_grant(request)
    assert grant is not None  # the middleware authenticated this route
    return grant.session_id


async def get_capabilities(request: web.Request) -> web.Response:
    """`{"TradeLevel", "DataLevel"}` of the caller's session (default OrdersOnly)."""
    level = get_state(request).trade_levels.get(_session(request), "OrdersOnly")
    return json_response({"DataLevel": "Premium", "TradeLevel": level})


async def set_capabilities(request: web.Request) -> web.Response:
    """PATCH/PUT `{"TradeLevel": ...}` -> 202. Prices are real-time at either level here."""
    body = await json_body(request)
    level = body.get("TradeLevel")
    if level not in TRADE_LEVELS:
        raise SimApiError(
            400,
            "InvalidModelState",
            "One or more properties of the request are invalid!",
            {"TradeLevel": [f"TradeLevel must be one of {', '.join(TRADE_LEVELS)}"]},
        )
    get_state(request).trade_levels[_session(request)] = str(level)
    return empty_response(202)


def add_routes(app: web.Application) -> None:
    path = "/openapi/root/v1/sessions/capabilities"
    app.router.add_get(path, get_capabilities)
    app.router.add_patch(path, set_capabilities)
    app.router.add_put(path, set_capabilities)
