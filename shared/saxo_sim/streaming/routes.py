"""HTTP + WebSocket routes of the simulator's streaming: subscriptions, connect, authorize.

REST paths mirror Saxo's under `/openapi` (§3.6, V3); the socket is served at both the legacy
`/openapi/streamingws/connect` and the newer `/oapi/streaming/ws/connect` (§1.1, §3.2).
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Awaitable, Callable

from aiohttp import WSMsgType, web

from shared.logger_service import kv
from shared.saxo_sim.errors import SimApiError, empty_response, json_response
from shared.saxo_sim.routes import get_grant, json_body, query_param
from shared.saxo_sim.streaming.hub import ConnectRejected, StreamingHub
from shared.saxo_sim.streaming.subscriptions import (
    SERVICE_INFOPRICES,
    SERVICE_PRICES,
    parse_subscription_request,
    valid_id,
)

logger = logging.getLogger(__name__)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

SUBSCRIPTION_BASES = {
    SERVICE_PRICES: "/openapi/trade/v1/prices/subscriptions",
    SERVICE_INFOPRICES: "/openapi/trade/v1/infoprices/subscriptions",
}
ROOT_SUBSCRIPTIONS = "/openapi/root/v1/subscriptions"
CONNECT_PATHS = ("/openapi/streamingws/connect", "/oapi/streaming/ws/connect")
AUTHORIZE_PATHS = ("/openapi/streamingws/authorize", "/oapi/streaming/ws/authorize")
MAX_CLIENT_MESSAGE_BYTES = 64 * 1024


def bearer_token(request: web.Request, *, allow_query: bool) -> str | None:
    """The raw token from `Authorization: Bearer <t>` or (sockets) `authorization=BEARER <t>`."""
    candidates = [request.headers.get("Authorization")]
    if allow_query:
        candidates.append(query_param(request, "authorization"))
    for raw in candidates:
        if not raw:
            continue
        value = raw.strip()
        if value[:7].lower() == "bearer ":
            value = value[7:].strip()
        if value:
            return value
    return None


def _saxo_errors(handler: Handler) -> Handler:
    """Render SimApiError as Saxo's error body even without the app-wide middleware."""

    @functools.wraps(handler)
    async def wrapped(request: web.Request) -> web.StreamResponse:
        try:
            return await handler(request)
        except SimApiError as exc:
            return exc.to_response()

    return wrapped


class StreamingRoutes:
    """Route handlers bound to one hub."""

    def __init__(self, hub: StreamingHub) -> None:
        self.hub = hub

    def _authorized(self, request: web.Request) -> str | None:
        """The caller's raw token when it is valid (middleware grant or own check), else None."""
        token = bearer_token(request, allow_query=False)
        if get_grant(request) is not None:
            return token or ""
        if token is None or self.hub.state.auth.validate(token) is None:
            return None
        return token

    def add_to(self, app: web.Application) -> None:
        router = app.router
        for service, base in SUBSCRIPTION_BASES.items():
            router.add_post(base, _saxo_errors(functools.partial(self.subscribe, service)))
            delete_one = _saxo_errors(functools.partial(self.unsubscribe, service))
            router.add_delete(base + "/{context_id}/{reference_id}", delete_one)
            router.add_delete(base + "/{context_id}", delete_one)
            router.add_delete(base + "/{context_id}/", delete_one)
        root_delete = _saxo_errors(functools.partial(self.unsubscribe, None))
        router.add_delete(ROOT_SUBSCRIPTIONS + "/{context_id}", root_delete)
        router.add_delete(ROOT_SUBSCRIPTIONS + "/{context_id}/", root_delete)
        for path in AUTHORIZE_PATHS:
            router.add_put(path, self.authorize)
        for path in CONNECT_PATHS:
            router.add_get(path, self.connect)

    async def subscribe(self, service: str, request: web.Request) -> web.StreamResponse:
        """POST …/subscriptions → 201 with Snapshot and a Location header (§3.6)."""
        if self._authorized(request) is None:
            return empty_response(401)
        settings = self.hub.settings
        min_ms = (
            settings.min_price_refresh_ms
            if service == SERVICE_PRICES
            else settings.min_infoprice_refresh_ms
        )
        req = parse_subscription_request(
            await json_body(request),
            service,
            default_refresh_ms=settings.default_refresh_rate_ms,
            min_refresh_ms=min_ms,
            max_refresh_ms=settings.max_refresh_rate_ms,
        )
        body = self.hub.create_subscription(req)
        location = request.url.with_query(None).with_path(
            f"{SUBSCRIPTION_BASES[service]}/{req.context_id}/{req.reference_id}"
        )
        return json_response(body, status=201, headers={"Location": str(location)})

    async def unsubscribe(self, service: str | None, request: web.Request) -> web.StreamResponse:
        """DELETE one, by context (optionally ?Tag=), or across services → always 202 (V3)."""
        if self._authorized(request) is None:
            return empty_response(401)
        self.hub.delete_subscriptions(
            request.match_info["context_id"],
            service=service,
            reference_id=request.match_info.get("reference_id"),
            tag=query_param(request, "Tag"),
        )
        return empty_response(202)

    async def authorize(self, request: web.Request) -> web.StreamResponse:
        """PUT …/authorize?contextid= with a fresh bearer extends the socket → 202 (§3.9)."""
        token = self._authorized(request)
        if not token:
            return empty_response(401)
        context_id = query_param(request, "contextid")
        if context_id:
            self.hub.authorize(context_id, token)
        return empty_response(202)

    async def connect(self, request: web.Request) -> web.StreamResponse:
        """GET …/connect: 401 bad token, 400 bad ContextId/messageid, 409 live ContextId."""
        token = bearer_token(request, allow_query=True)
        if token is None or self.hub.state.auth.validate(token) is None:
            self.hub.counters["connect_rejected"] += 1
            return empty_response(401)
        context_id = query_param(request, "contextid")
        if not valid_id(context_id):
            self.hub.counters["connect_rejected"] += 1
            return json_response(
                {"ErrorCode": "InvalidRequest", "Message": "contextId is missing or malformed"},
                status=400,
            )
        assert context_id is not None
        message_id: int | None = None
        raw_id = query_param(request, "messageid")
        if raw_id:
            if not raw_id.isdigit():
                return json_response(
                    {"ErrorCode": "InvalidRequest", "Message": "messageid must be an integer"},
                    status=400,
                )
            message_id = int(raw_id)
        try:
            self.hub.check_connect(context_id)
        except ConnectRejected as exc:
            return json_response(
                {"ErrorCode": "Conflict", "Message": exc.reason}, status=exc.status
            )
        ws = web.WebSocketResponse(autoping=True, max_msg_size=MAX_CLIENT_MESSAGE_BYTES)
        if not ws.can_prepare(request).ok:
            return json_response(
                {"ErrorCode": "InvalidRequest", "Message": "a WebSocket upgrade is required"},
                status=400,
            )
        await ws.prepare(request)
        send_heartbeats = (query_param(request, "sendHeartbeats") or "").lower() == "true"
        conn = self.hub.attach(
            context_id,
            ws,
            request.transport,
            token,
            send_heartbeats=send_heartbeats,
            message_id=message_id,
        )
        clean = False
        try:
            while True:
                msg = await ws.receive()
                if msg.type == WSMsgType.CLOSE:
                    clean = not conn.server_closing
                    break
                if msg.type in (WSMsgType.CLOSING, WSMsgType.CLOSED, WSMsgType.ERROR):
                    break
                # Saxo clients must not send data frames; ignore them.
                logger.debug(kv("stream_client_frame_ignored", context=context_id, type=msg.type))
        finally:
            self.hub.detach(conn, clean=clean)
            await conn.stop()
        return ws
