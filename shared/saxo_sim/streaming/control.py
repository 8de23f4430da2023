"""Control API of the streaming hub under `/sim/v1/streaming/...` (no bearer; tests and demos).

Bodies are JSON objects with snake_case keys, optional unless stated; `context_id` absent means
every context. Answers are JSON; a bad body is 400 `{"ErrorCode": "InvalidRequest", "Message"}`.

GET  /sim/v1/streaming                      settings, stats and every context with its subscriptions
POST /sim/v1/streaming/drop                 {context_id} abort sockets, no close frame (replayable)
POST /sim/v1/streaming/reset                {context_id, target_reference_ids, omit_targets=false}
     `_resetsubscriptions`; without targets it resets all ("TargetReferenceIds": [] or no key)
POST /sim/v1/streaming/disconnect           {context_id, end_session=true} `_disconnect`, close 1000
POST /sim/v1/streaming/reconnect            {context_id} `_reconnect`, then close 1000
POST /sim/v1/streaming/disable              {context_id*, reference_id*, reason} reason is
     "SubscriptionTemporarilyDisabled" | "SubscriptionPermanentlyDisabled" | null (re-enable)
POST /sim/v1/streaming/restart-message-ids  {context_id, with_reset=true} next message id is 1
POST /sim/v1/streaming/heartbeat            {context_id} a `_heartbeat` for every subscription now
POST /sim/v1/streaming/settings             any StreamingSettings field, e.g.
     {"heartbeat_interval_s": 0.5, "replay_buffer_size": 50, "min_infoprice_refresh_ms": 100}
POST /sim/v1/streaming/benchmark            {synthetic_prices*} benchmark mode: every tick nudges
     each subscription's Quote instead of pricing it (measures the streaming stack alone)
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from shared.logger_service import kv
from shared.saxo_sim.errors import json_response
from shared.saxo_sim.streaming import operations
from shared.saxo_sim.streaming.hub import DISCONNECT_REF, RECONNECT_REF, StreamingHub
from shared.saxo_sim.streaming.subscriptions import DISABLE_REASONS

logger = logging.getLogger(__name__)

PREFIX = "/sim/v1/streaming"


class ControlInputError(ValueError):
    """A control request with a bad body; the message names the problem."""


async def _body(request: web.Request) -> dict[str, Any]:
    raw = await request.read()
    if not raw.strip():
        return {}
    try:
        body = json.loads(raw)
    except ValueError:
        raise ControlInputError("body is not valid JSON") from None
    if not isinstance(body, dict):
        raise ControlInputError("body must be a JSON object")
    return body


def _opt_str(body: dict[str, Any], key: str) -> str | None:
    value = body.get(key)
    if value is not None and not isinstance(value, str):
        raise ControlInputError(f"{key} must be a string")
    return value


def _req_str(body: dict[str, Any], key: str) -> str:
    value = _opt_str(body, key)
    if not value:
        raise ControlInputError(f"{key} is required")
    return value


def _str_list(body: dict[str, Any], key: str) -> list[str] | None:
    value = body.get(key)
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ControlInputError(f"{key} must be a list of strings")
    return value


ControlHandler = Callable[[StreamingHub, dict[str, Any]], dict[str, Any]]


def _guarded(
    hub: StreamingHub, fn: ControlHandler
) -> Callable[[web.Request], Awaitable[web.Response]]:
    async def handler(request: web.Request) -> web.Response:
        try:
            return json_response(fn(hub, await _body(request)))
        except ValueError as exc:  # ControlInputError and settings validation
            return json_response({"ErrorCode": "InvalidRequest", "Message": str(exc)}, status=400)

    return handler


def _drop(hub: StreamingHub, body: dict[str, Any]) -> dict[str, Any]:
    return {"dropped": operations.drop_connections(hub, _opt_str(body, "context_id"))}


def _reset(hub: StreamingHub, body: dict[str, Any]) -> dict[str, Any]:
    targets = _str_list(body, "target_reference_ids")
    omit = body.get("omit_targets", False)
    if not isinstance(omit, bool):
        raise ControlInputError("omit_targets must be true or false")
    return {"contexts": hub.send_reset(_opt_str(body, "context_id"), targets, omit_targets=omit)}


def _disconnect(hub: StreamingHub, body: dict[str, Any]) -> dict[str, Any]:
    end_session = body.get("end_session", True)
    if not isinstance(end_session, bool):
        raise ControlInputError("end_session must be true or false")
    count = operations.send_control(
        hub, DISCONNECT_REF, _opt_str(body, "context_id"), end_session=end_session
    )
    return {"contexts": count}


def _reconnect(hub: StreamingHub, body: dict[str, Any]) -> dict[str, Any]:
    return {"contexts": operations.send_control(hub, RECONNECT_REF, _opt_str(body, "context_id"))}


def _disable(hub: StreamingHub, body: dict[str, Any]) -> dict[str, Any]:
    reason = _opt_str(body, "reason")
    if reason is not None and reason not in DISABLE_REASONS:
        raise ControlInputError(f"reason must be one of {list(DISABLE_REASONS)} or null")
    found = operations.set_disabled(
        hub, _req_str(body, "context_id"), _req_str(body, "reference_id"), reason
    )
    if not found:
        raise ControlInputError("no such subscription (context_id, reference_id)")
    return {"reference_id": body["reference_id"], "reason": reason}


def _restart_ids(hub: StreamingHub, body: dict[str, Any]) -> dict[str, Any]:
    with_reset = body.get("with_reset", True)
    if not isinstance(with_reset, bool):
        raise ControlInputError("with_reset must be true or false")
    count = operations.restart_message_ids(hub, _opt_str(body, "context_id"), with_reset=with_reset)
    return {"contexts": count}


def _heartbeat(hub: StreamingHub, body: dict[str, Any]) -> dict[str, Any]:
    return {"heartbeats": operations.heartbeat_now(hub, _opt_str(body, "context_id"))}


def _benchmark(hub: StreamingHub, body: dict[str, Any]) -> dict[str, Any]:
    synthetic = body.get("synthetic_prices")
    if not isinstance(synthetic, bool):
        raise ControlInputError("synthetic_prices (true or false) is required")
    hub.feed.synthetic = synthetic
    logger.warning(kv("stream_benchmark_mode", synthetic_prices=synthetic))
    return {"synthetic_prices": synthetic}


def _settings(hub: StreamingHub, body: dict[str, Any]) -> dict[str, Any]:
    return operations.apply_settings(hub, body)


def add_control_routes(app: web.Application, hub: StreamingHub) -> None:
    """Register the streaming control endpoints on `app`."""

    async def overview(request: web.Request) -> web.Response:
        return json_response(
            {
                "settings": hub.settings.as_dict(),
                "stats": hub.stats(),
                "contexts": operations.describe(hub),
            }
        )

    app.router.add_get(PREFIX, overview)
    for name, fn in (
        ("drop", _drop),
        ("reset", _reset),
        ("disconnect", _disconnect),
        ("reconnect", _reconnect),
        ("disable", _disable),
        ("restart-message-ids", _restart_ids),
        ("heartbeat", _heartbeat),
        ("settings", _settings),
        ("benchmark", _benchmark),
    ):
        app.router.add_post(f"{PREFIX}/{name}", _guarded(hub, fn))
