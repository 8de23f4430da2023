"""OAuth endpoints: `GET /authorize` (auto-consent redirect) and `POST /token` (code, refresh)."""

from __future__ import annotations

import base64
import binascii
from urllib.parse import urlencode, urlsplit, urlunsplit

from aiohttp import web

from shared.saxo_sim.auth import OAuthError
from shared.saxo_sim.errors import json_response
from shared.saxo_sim.routes import get_state


def _error(exc: OAuthError) -> web.Response:
    return json_response(exc.body(), status=exc.status)


async def authorize(request: web.Request) -> web.Response:
    """Auto-consent: 302 to `redirect_uri?code=...&state=...` (state echoed verbatim)."""
    state = get_state(request)
    query = request.query
    if query.get("response_type", "code") != "code":
        return _error(OAuthError(400, "unsupported_response_type", "response_type must be code"))
    redirect_uri = query.get("redirect_uri", "")
    try:
        code = state.auth.authorize(query.get("client_id", ""), redirect_uri)
    except OAuthError as exc:
        return _error(exc)
    params = {"code": code}
    if "state" in query:
        params["state"] = query["state"]
    parts = urlsplit(redirect_uri)
    joined = f"{parts.query}&{urlencode(params)}" if parts.query else urlencode(params)
    location = urlunsplit((parts.scheme, parts.netloc, parts.path, joined, parts.fragment))
    return web.Response(status=302, headers={"Location": location})


def _basic_credentials(header: str | None) -> tuple[str, str] | None:
    if not header or not header.lower().startswith("basic "):
        return None
    try:
        decoded = base64.b64decode(header[6:].strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    client_id, sep, client_secret = decoded.partition(":")
    return (client_id, client_secret) if sep else None


async def token(request: web.Request) -> web.Response:
    """201 with access and refresh tokens; params from the form or the query string."""
    state = get_state(request)
    params: dict[str, str] = dict(request.query)
    if request.body_exists:
        form = await request.post()
        params.update({k: v for k, v in form.items() if isinstance(v, str)})
    basic = _basic_credentials(request.headers.get("Authorization"))
    client_id = params.get("client_id") or (basic[0] if basic else "")
    client_secret = params.get("client_secret") or (basic[1] if basic else "")
    grant_type = params.get("grant_type", "")
    try:
        if grant_type == "authorization_code":
            body = state.auth.exchange_code(
                params.get("code", ""), client_id, client_secret, params.get("redirect_uri")
            )
        elif grant_type == "refresh_token":
            body = state.auth.refresh(params.get("refresh_token", ""), client_id, client_secret)
        else:
            raise OAuthError(
                400,
                "unsupported_grant_type",
                "grant_type must be authorization_code or refresh_token",
            )
    except OAuthError as exc:
        return _error(exc)
    return json_response(body, status=201, headers={"Cache-Control": "no-store"})


def add_routes(app: web.Application) -> None:
    app.router.add_get("/authorize", authorize)
    app.router.add_post("/token", token)
