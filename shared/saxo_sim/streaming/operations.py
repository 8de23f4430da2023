"""Control operations on a running hub (used by the `/sim/v1/streaming/...` routes and tests).

All run on the simulator's loop; `context_id` None means every context.
"""

from __future__ import annotations

import logging
from typing import Any

from shared.logger_service import kv
from shared.saxo_sim.streaming.hub import DISCONNECT_REF, RECONNECT_REF, StreamingHub

logger = logging.getLogger(__name__)


def drop_connections(hub: StreamingHub, context_id: str | None = None) -> int:
    """Abort sockets without a close frame; subscriptions survive for a replay reconnect."""
    dropped = 0
    now = hub.real.monotonic()
    for ctx in hub.targets(context_id):
        if ctx.connection is not None:
            ctx.connection.abort()
            ctx.connection = None
            ctx.detached_since_real = now
            dropped += 1
    logger.info(kv("stream_sockets_dropped", count=dropped))
    return dropped


def send_control(
    hub: StreamingHub,
    reference_id: str,
    context_id: str | None = None,
    *,
    end_session: bool = False,
) -> int:
    """Send `_disconnect` or `_reconnect`, then close the socket normally (1000).

    `end_session` (for `_disconnect`) also logs the socket's session out, so REST answers
    401 until a new login, as Saxo does after a password change.
    """
    if reference_id not in (DISCONNECT_REF, RECONNECT_REF):
        raise ValueError(f"not a closing control message: {reference_id}")
    now = hub.real.monotonic()
    count = 0
    for ctx in hub.targets(context_id):
        if ctx.connection is None:
            continue
        if end_session:
            _end_session(hub, ctx.connection.token)
        hub.emit(ctx, [(reference_id, [{"ReferenceId": reference_id}])], now)
        ctx.connection.close_after_flush(1000, reference_id.lstrip("_"))
        count += 1
    logger.info(kv("stream_control_sent", ref=reference_id, count=count))
    return count


def _end_session(hub: StreamingHub, token: str) -> None:
    grant = hub.state.auth.validate(token)
    session_id = getattr(grant, "session_id", None)
    end = getattr(hub.state.auth, "end_session", None)
    if session_id is not None and end is not None:
        end(session_id)


def set_disabled(hub: StreamingHub, context_id: str, reference_id: str, reason: str | None) -> bool:
    """Mark a subscription Temporarily/Permanently disabled (None re-enables it)."""
    ctx = hub.contexts.get(context_id)
    sub = ctx.subscriptions.get(reference_id) if ctx is not None else None
    if sub is None:
        return False
    sub.disabled_reason = reason
    return True


def restart_message_ids(
    hub: StreamingHub, context_id: str | None = None, *, with_reset: bool = True
) -> int:
    """Next message id becomes 1 (announced by an all-reset unless with_reset is False)."""
    contexts = hub.targets(context_id)
    for ctx in contexts:
        ctx.restart_ids()
        if with_reset:
            hub.send_reset(ctx.context_id)
    return len(contexts)


def heartbeat_now(hub: StreamingHub, context_id: str | None = None) -> int:
    """Send a `_heartbeat` for every subscription now, idle or not; returns messages sent."""
    now = hub.real.monotonic()
    sent = 0
    for ctx in hub.targets(context_id):
        if ctx.connection is not None:
            ctx.last_heartbeat_real = now
            sent += int(hub.heartbeat(ctx, now, idle_s=0.0))
    return sent


def apply_settings(hub: StreamingHub, changes: dict[str, Any]) -> dict[str, Any]:
    """Update settings (ValueError on bad input) and return them all."""
    hub.settings.update(changes)
    if "replay_buffer_size" in changes:
        for ctx in hub.contexts.values():
            ctx.resize_buffer(hub.settings.replay_buffer_size)
    return hub.settings.as_dict()


def describe(hub: StreamingHub) -> list[dict[str, Any]]:
    """Every context with its subscriptions (for the control API)."""
    out: list[dict[str, Any]] = []
    for ctx in hub.contexts.values():
        subs = [
            {
                "reference_id": s.reference_id,
                "service": s.service,
                "uics": list(s.request.uics),
                "refresh_rate_ms": s.request.refresh_rate_ms,
                "tag": s.tag,
                "reset": s.reset,
                "disabled_reason": s.disabled_reason,
                "messages_sent": s.messages_sent,
            }
            for s in ctx.subscriptions.values()
        ]
        out.append(
            {
                "context_id": ctx.context_id,
                "connected": ctx.connection is not None,
                "last_message_id": ctx.last_id,
                "buffered_messages": ctx.buffered,
                "subscriptions": subs,
            }
        )
    return out
