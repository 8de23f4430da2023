"""HTTP routes of the simulator, one module per Saxo service group, plus shared request helpers."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from aiohttp import web

from shared.saxo_sim.errors import SimApiError, invalid_model_state

if TYPE_CHECKING:
    from shared.saxo_sim.auth import AccessGrant
    from shared.saxo_sim.state import SimState

STATE_KEY: web.AppKey[SimState] = web.AppKey("sim_state")
# The caller's AccessGrant, stored by the middleware (a typed RequestKey named "grant": aiohttp
# warns on plain string keys). Read it with get_grant(request) or request[GRANT_KEY].
GRANT_KEY: web.RequestKey[AccessGrant] = web.RequestKey("grant")


def get_state(request: web.Request) -> SimState:
    """The SimState of the app serving `request`."""
    return request.app[STATE_KEY]


def get_grant(request: web.Request) -> AccessGrant | None:
    """The caller's AccessGrant (set by the auth middleware on /openapi routes)."""
    return request.get(GRANT_KEY)


def query_param(request: web.Request, name: str) -> str | None:
    """A query parameter looked up case-insensitively (Saxo accepts `uic` and `Uic`)."""
    lower = name.lower()
    for key, value in request.query.items():
        if key.lower() == lower:
            return value
    return None


def require_param(request: web.Request, name: str) -> str:
    """A required query parameter, or 400 InvalidModelState naming it."""
    value = query_param(request, name)
    if value is None or value == "":
        raise invalid_model_state({name: [f"The {name} field is required."]})
    return value


def int_param(request: web.Request, name: str, default: int | None = None) -> int | None:
    """An integer query parameter (None/default when absent), 400 if not an integer."""
    value = query_param(request, name)
    if value is None or value == "":
        return default
    try:
        return int(value)
    except ValueError:
        raise invalid_model_state(
            {name: [f"The value '{value}' is not valid for {name}."]}
        ) from None


def int_list_param(request: web.Request, name: str) -> list[int]:
    """A required comma-separated integer list (e.g. `Uics=1,2,3`)."""
    raw = require_param(request, name)
    try:
        return [int(part) for part in raw.split(",") if part.strip()]
    except ValueError:
        raise invalid_model_state({name: [f"The value '{raw}' is not valid for {name}."]}) from None


async def json_body(request: web.Request) -> dict[str, Any]:
    """The request's JSON object body, or 400 naming the problem."""
    raw = await request.read()
    if not raw:
        raise SimApiError(400, "InvalidRequest", "Request body is empty")
    try:
        body = json.loads(raw)
    except ValueError:
        raise SimApiError(400, "InvalidRequest", "Request body is not valid JSON") from None
    if not isinstance(body, dict):
        raise SimApiError(400, "InvalidRequest", "Request body must be a JSON object")
    return body


def feed(rows: list[dict[str, Any]], *, with_count: bool = True) -> dict[str, Any]:
    """An OData-like feed `{"__count": n, "Data": [...]}`."""
    if with_count:
        return {"__count": len(rows), "Data": rows}
    return {"Data": rows}
