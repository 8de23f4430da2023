"""`port` service group: open orders, positions, closed positions, balances, accounts, users."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from shared.saxo_sim import portfolio_shapes as shapes
from shared.saxo_sim import saxo_shapes
from shared.saxo_sim.errors import SimApiError, json_response
from shared.saxo_sim.portfolio import Position, multiplier
from shared.saxo_sim.routes import feed, get_state, int_param, query_param
from shared.saxo_sim.saxo_shapes import ACCOUNT_KEY, CLIENT_KEY, parse_field_groups
from shared.saxo_sim.state import SimState

DEFAULT_POSITION_GROUPS = ("PositionBase", "PositionView")


def _check_keys(request: web.Request) -> None:
    """ClientKey / AccountKey, when given, must be this client's (else 404 like an unknown key)."""
    client = query_param(request, "ClientKey")
    account = query_param(request, "AccountKey")
    if (client and client != CLIENT_KEY) or (account and account != ACCOUNT_KEY):
        raise SimApiError(404, "NotFound", "Client or account not found")


def _page(request: web.Request, rows: list[dict[str, Any]]) -> dict[str, Any]:
    skip = int_param(request, "$skip", 0) or 0
    top = int_param(request, "$top")
    page = rows[skip:] if top is None else rows[skip : skip + top]
    body = {"__count": len(rows), "Data": page}
    return body


# --- orders ------------------------------------------------------------------------------------
def _order_rows(
    state: SimState, request: web.Request, order_ids: set[str] | None
) -> list[dict[str, Any]]:
    groups = parse_field_groups(query_param(request, "FieldGroups"), ())
    rows = []
    for order in state.exchange.orders.values():
        if order_ids is not None and order.order_id not in order_ids:
            continue
        instrument = state.resolve(order.uic, order.asset_type)
        display = None
        if "DisplayAndFormat" in groups:
            display = (
                saxo_shapes.option_display(instrument.option)
                if instrument.option is not None
                else saxo_shapes.underlying_display(instrument.underlying)  # type: ignore[arg-type]
            )
        rows.append(shapes.order_row(order, state.quote(instrument), instrument.option, display))
    return rows


async def orders(request: web.Request) -> web.Response:
    """GET /port/v1/orders[/me] -> feed of WORKING orders only (filled ones are gone)."""
    _check_keys(request)
    state = get_state(request)
    wanted = query_param(request, "OrderId")
    ids = {w.strip() for w in wanted.split(",")} if wanted else None
    return json_response(_page(request, _order_rows(state, request, ids)))


async def single_order(request: web.Request) -> web.Response:
    """GET /port/v1/orders/{ClientKey}/{OrderId} -> a FEED with 0 or 1 rows (never 404)."""
    state = get_state(request)
    if request.match_info["client_key"] != CLIENT_KEY:
        raise SimApiError(404, "NotFound", "Client not found")
    rows = _order_rows(state, request, {request.match_info["order_id"]})
    return json_response(feed(rows))


# --- positions ---------------------------------------------------------------------------------
def _position_row(state: SimState, position: Position, groups: list[str]) -> dict[str, Any]:
    instrument = state.resolve(position.uic, position.asset_type)
    quote = state.quote(instrument)
    display = (
        saxo_shapes.option_display(instrument.option)
        if instrument.option is not None
        else saxo_shapes.underlying_display(instrument.underlying)  # type: ignore[arg-type]
    )
    greeks = None
    if instrument.option is not None and hasattr(quote, "delta"):
        greeks = saxo_shapes.greeks_block(quote, int(position.amount))  # type: ignore[arg-type]
    return shapes.position_row(
        position,
        mark=state.exchange.mark(position),
        multiplier=multiplier(position.asset_type),
        market_open=quote.market_open,
        contract=instrument.option,
        symbol=instrument.symbol,
        field_groups=groups,
        display=display,
        greeks=greeks,
    )


async def positions(request: web.Request) -> web.Response:
    """GET /port/v1/positions[/me] -> feed; `PositionBase.Amount` is signed."""
    _check_keys(request)
    state = get_state(request)
    groups = parse_field_groups(query_param(request, "FieldGroups"), DEFAULT_POSITION_GROUPS)
    rows = [_position_row(state, p, groups) for p in state.exchange.portfolio.positions.values()]
    return json_response(_page(request, rows))


async def single_position(request: web.Request) -> web.Response:
    """GET /port/v1/positions/{PositionId} -> the bare position object, 404 if not open."""
    state = get_state(request)
    groups = parse_field_groups(query_param(request, "FieldGroups"), DEFAULT_POSITION_GROUPS)
    wanted = request.match_info["position_id"]
    for position in state.exchange.portfolio.positions.values():
        if position.position_id == wanted:
            return json_response(_position_row(state, position, groups))
    raise SimApiError(404, "NotFound", "Position not found")


async def closed_positions(request: web.Request) -> web.Response:
    """GET /port/v1/closedpositions[/me] -> feed, newest first."""
    _check_keys(request)
    state = get_state(request)
    rows = []
    for closed in state.exchange.portfolio.closed_newest_first():
        option = state.catalog.option(closed.uic)
        underlying = state.catalog.underlying(closed.uic)
        if option is not None:
            net_id = f"{closed.uic}__CO__{'L' if closed.amount > 0 else 'S'}"
        else:
            symbol = underlying.symbol if underlying is not None else str(closed.uic)
            net_id = f"{symbol}__{closed.asset_type}"
        rows.append(shapes.closed_position_row(closed, net_id))
    return json_response(_page(request, rows))


# --- balances and identity ---------------------------------------------------------------------
async def balances(request: web.Request) -> web.Response:
    """GET /port/v1/balances[/me] -> bare object with cash, total value and margin (USD)."""
    _check_keys(request)
    exchange = get_state(request).exchange
    summary = exchange.balances_summary()
    body = shapes.balances_body(
        cash=summary["cash"],
        positions_value=summary["positions_value"],
        margin_used=exchange.margin_required(),
        open_positions=len(exchange.portfolio.positions),
        orders=len(exchange.orders),
        closed_positions=len(exchange.portfolio.closed),
    )
    return json_response(body)


async def accounts_me(request: web.Request) -> web.Response:
    return json_response(feed([shapes.account_body()]))


async def account(request: web.Request) -> web.Response:
    if request.match_info["account_key"] != ACCOUNT_KEY:
        raise SimApiError(404, "NotFound", "Account not found")
    return json_response(shapes.account_body())


async def clients_me(request: web.Request) -> web.Response:
    return json_response(shapes.client_body())


async def users_me(request: web.Request) -> web.Response:
    return json_response(shapes.user_body(get_state(request).clock.now()))


def add_routes(app: web.Application) -> None:
    r = app.router
    p = "/openapi/port/v1"
    r.add_get(f"{p}/orders", orders)
    r.add_get(f"{p}/orders/me", orders)
    r.add_get(f"{p}/orders/{{client_key}}/{{order_id}}", single_order)
    r.add_get(f"{p}/positions", positions)
    r.add_get(f"{p}/positions/me", positions)
    r.add_get(f"{p}/positions/{{position_id}}", single_position)
    r.add_get(f"{p}/closedpositions", closed_positions)
    r.add_get(f"{p}/closedpositions/me", closed_positions)
    r.add_get(f"{p}/balances", balances)
    r.add_get(f"{p}/balances/me", balances)
    r.add_get(f"{p}/accounts/me", accounts_me)
    r.add_get(f"{p}/accounts/{{account_key}}", account)
    r.add_get(f"{p}/clients/me", clients_me)
    r.add_get(f"{p}/users/me", users_me)
