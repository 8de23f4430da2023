"""Builds the simulator's aiohttp application: middleware, every route group, the market loop.

The app-wide middleware authenticates `/openapi/*` and `/oapi/*` (401, empty body), applies
injected faults and rate limits, rejects duplicate orders (409, empty body), adds
`X-Correlation`, echoes `X-Request-ID`, counts requests per route and stores the caller's grant
at `request["grant"]`. Control routes (`/sim/...`) skip all of that except counting.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable

from aiohttp import web

from shared.logger_service import kv
from shared.saxo_sim.errors import SimApiError, empty_response, json_response, not_found_response
from shared.saxo_sim.faults import FaultRule
from shared.saxo_sim.routes import GRANT_KEY, STATE_KEY, get_state
from shared.saxo_sim.state import SimState

logger = logging.getLogger(__name__)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

# WebSocket connect routes authenticate themselves (token may come in the query string).
WS_CONNECT_PATHS = ("/openapi/streamingws/connect", "/oapi/streaming/ws/connect")
ORDER_PATH = "/openapi/trade/v2/orders"


def _needs_auth(path: str) -> bool:
    return path.startswith(("/openapi/", "/oapi/")) and path not in WS_CONNECT_PATHS


def service_group(path: str) -> str:
    """Service group: `/openapi/trade/v2/orders` -> "trade"; `/oapi/...` -> "streaming"."""
    parts = path.split("/")
    if len(parts) > 2 and parts[1] == "openapi":
        return parts[2]
    return "streaming" if path.startswith("/oapi/") else ""


def _is_order_request(method: str, path: str) -> bool:
    return (
        method in ("POST", "PATCH", "DELETE")
        and path.startswith(ORDER_PATH)
        and "precheck" not in path
    )


def _route_name(request: web.Request) -> str:
    resource = request.match_info.route.resource
    name = resource.canonical if resource is not None else "unmatched"
    return f"{request.method} {name}"


async def _apply_fault(rule: FaultRule) -> web.StreamResponse | None:
    """The response an armed fault produces, or None to continue (timeout then process)."""
    if rule.kind == "status":
        return empty_response(rule.status)
    if rule.kind == "rate_limit":
        headers = {
            "X-RateLimit-Session-Limit": "120",
            "X-RateLimit-Session-Remaining": "0",
            "X-RateLimit-Session-Reset": "60",
        }
        return json_response(
            {"ErrorCode": "RateLimitExceeded", "Message": "Request rate limit exceeded"},
            status=429,
            headers=headers,
        )
    await asyncio.sleep(rule.hold_s)  # the loop keeps serving other requests meanwhile
    return None if rule.then_process else empty_response(504)


@web.middleware
async def saxo_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Auth, faults, rate limits, duplicate orders, headers and counting for every request."""
    state = get_state(request)
    path = request.path
    response: web.StreamResponse | None = None
    rate_headers: dict[str, str] = {}
    try:
        if path.startswith("/sim/"):
            response = await _call(handler, request)
            return response
        if _needs_auth(path):
            grant = state.auth.validate(request.headers.get("Authorization", ""))
            if grant is None:
                response = empty_response(401)
                return response
            request[GRANT_KEY] = grant
        if request.body_exists:
            await request.read()  # the whole request arrives before any injected hold
        rule = state.faults.take(request.method, path)
        if rule is not None:
            response = await _apply_fault(rule)
            if response is not None:
                return response
        grant = request.get(GRANT_KEY)
        if grant is not None and path not in WS_CONNECT_PATHS:
            is_order = _is_order_request(request.method, path)
            decision = state.rate_limiter.check(
                grant.session_id, service_group(path), is_order=is_order
            )
            rate_headers = decision.headers
            if not decision.allowed:
                response = json_response(
                    {"ErrorCode": "RateLimitExceeded", "Message": "Request rate limit exceeded"},
                    status=429,
                )
                return response
            if is_order and request.method == "POST":
                body = await request.read()
                request_id = request.headers.get("X-Request-ID")
                if state.rate_limiter.is_duplicate_order(grant.session_id, body, request_id):
                    logger.info(kv("duplicate_order_rejected", path=path))
                    response = empty_response(409)
                    return response
        response = await _call(handler, request)
        return response
    finally:
        status = response.status if response is not None else 500
        state.stats.count(_route_name(request), status)
        if response is not None and not response.prepared:
            response.headers["X-Correlation"] = uuid.uuid4().hex
            if "X-Request-ID" in request.headers:
                response.headers["X-Request-ID"] = request.headers["X-Request-ID"]
            for key, value in rate_headers.items():
                response.headers[key] = value


async def _call(handler: Handler, request: web.Request) -> web.StreamResponse:
    try:
        return await handler(request)
    except SimApiError as exc:
        return exc.to_response()
    except web.HTTPNotFound:
        return not_found_response()
    except web.HTTPException as exc:
        if exc.status >= 400:
            return web.Response(status=exc.status, text=exc.reason, content_type="text/plain")
        raise
    except Exception:
        logger.exception(kv("handler_failed", method=request.method, path=request.path))
        return json_response(
            {"ErrorCode": "InternalServerError", "Message": "Simulator error (see the server log)"},
            status=500,
        )


async def _market_loop(app: web.Application) -> AsyncIterator[None]:
    """Step the market every `market_step_ms` real milliseconds while the app runs.

    Fixed-rate: the step's own work counts against the interval. A step that overruns starts
    the next one at once (after yielding to pending requests) instead of bursting to catch up.
    """
    state = app[STATE_KEY]
    interval_s = state.config.market_step_ms / 1000.0

    async def run() -> None:
        loop = asyncio.get_running_loop()
        next_at = loop.time() + interval_s
        while True:
            await asyncio.sleep(max(0.0, next_at - loop.time()))
            try:
                state.step()
            except Exception:
                logger.exception(kv("market_step_failed"))
            next_at += interval_s
            next_at = max(next_at, loop.time())

    task = asyncio.create_task(run(), name="sim-market-loop")
    yield
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


def build_app(state: SimState) -> web.Application:
    """The complete simulator app for `state` (streaming included when SIM-STREAM provides it)."""
    from shared.saxo_sim.routes import (
        audit_routes,
        auth_routes,
        chart_routes,
        control_routes,
        port_routes,
        ref_routes,
        root_routes,
        trade_routes,
    )

    app = web.Application(middlewares=[saxo_middleware])
    app[STATE_KEY] = state
    for module in (
        auth_routes,
        ref_routes,
        trade_routes,
        port_routes,
        chart_routes,
        audit_routes,
        root_routes,
        control_routes,
    ):
        module.add_routes(app)
    _install_streaming(app, state)
    app.cleanup_ctx.append(_market_loop)
    return app


def _install_streaming(app: web.Application, state: SimState) -> None:
    try:
        from shared.saxo_sim.streaming import install_streaming
    except ImportError as exc:
        logger.warning(kv("streaming_unavailable", reason=exc))
        return
    install_streaming(app, state)
