"""The streaming hub: contexts, subscriptions, deltas on market ticks, heartbeats, expiry, replay.

Everything here runs on the simulator's single event loop (no locks). Real-time intervals
(RefreshRate, heartbeats, token expiry, retention) use the injected real Clock's monotonic();
message timestamps use the simulator's clock.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any, Protocol

from aiohttp import web

from shared.clock import Clock, WallClock
from shared.logger_service import kv
from shared.saxo_sim.errors import SimApiError
from shared.saxo_sim.streaming.connection import (
    CLOSE_GOING_AWAY,
    CLOSE_TOKEN_EXPIRED,
    Connection,
)
from shared.saxo_sim.streaming.context import StreamContext
from shared.saxo_sim.streaming.feed import PriceFeed
from shared.saxo_sim.streaming.frames import encode_json_message
from shared.saxo_sim.streaming.settings import StreamingSettings
from shared.saxo_sim.streaming.subscriptions import (
    REASON_PERMANENTLY_DISABLED,
    SERVICE_PRICES,
    Subscription,
    SubscriptionRequest,
    duplicate_reference_error,
    subscription_limit_error,
)

logger = logging.getLogger(__name__)

HEARTBEAT_REF = "_heartbeat"
RESET_REF = "_resetsubscriptions"
DISCONNECT_REF = "_disconnect"
RECONNECT_REF = "_reconnect"
CONNECTION_HEARTBEAT_REF = "_connectionheartbeat"
NO_NEW_DATA = "NoNewData"


class TokenValidator(Protocol):
    def validate(self, bearer: str) -> object | None: ...


class StreamingState(Protocol):
    """What the hub needs from SimState."""

    @property
    def auth(self) -> TokenValidator: ...

    def info_price(
        self, uic: int, asset_type: str, field_groups: Sequence[str]
    ) -> dict[str, Any]: ...

    def trade_price(
        self, uic: int, asset_type: str, field_groups: Sequence[str]
    ) -> dict[str, Any]: ...

    def add_tick_listener(self, callback: Callable[[], None]) -> None: ...


class ConnectRejected(Exception):
    """A WebSocket connect refused before the upgrade with an HTTP status."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(f"{status} {reason}")
        self.status = status
        self.reason = reason


class StreamingHub:
    """Registry of streaming contexts and the engine that feeds their sockets."""

    def __init__(
        self,
        state: StreamingState,
        *,
        settings: StreamingSettings | None = None,
        real_clock: Clock | None = None,
    ) -> None:
        self.state = state
        self.settings = settings or StreamingSettings()
        self.settings.validate()
        self.real = real_clock or WallClock()
        self.contexts: dict[str, StreamContext] = {}
        self.counters: dict[str, int] = dict.fromkeys(
            (
                "connections_opened",
                "connect_rejected",
                "messages_generated",
                "messages_delivered",
                "frames_queued",
                "heartbeats",
                "connection_heartbeats",
                "resets",
                "replays",
                "token_expiry_closes",
                "subscriptions_created",
                "subscriptions_deleted",
                "tick_errors",
            ),
            0,
        )
        self.feed = PriceFeed(state, self._timestamp)
        self._housekeeping: asyncio.Task[None] | None = None

    # ----- subscriptions (REST side) -----

    def create_subscription(self, req: SubscriptionRequest) -> dict[str, Any]:
        """Register a subscription and return its 201 body with the Snapshot.

        Raises SimApiError: 409 duplicate ReferenceId or limit, or the state's pricing error.
        """
        now = self.real.monotonic()
        ctx = self.contexts.get(req.context_id)
        if ctx is not None and req.replace_reference_id is not None:
            old = ctx.subscriptions.get(req.replace_reference_id)
            if old is not None and old.service == req.service:
                del ctx.subscriptions[req.replace_reference_id]
                self.counters["subscriptions_deleted"] += 1
        if ctx is not None and req.reference_id in ctx.subscriptions:
            raise duplicate_reference_error()
        if ctx is not None:
            same = sum(1 for s in ctx.subscriptions.values() if s.service == req.service)
            if same >= self.settings.max_subscriptions_per_context:
                raise subscription_limit_error(self.settings.max_subscriptions_per_context)
        sub = Subscription(request=req, created_real=now, last_data_real=now)
        objects = [self.feed.fetch(req, uic) for uic in req.uics]  # may raise SimApiError
        for uic, obj in zip(req.uics, objects, strict=True):
            sub.last_sent[uic] = obj
        if ctx is None:
            ctx = StreamContext(
                req.context_id, buffer_size=self.settings.replay_buffer_size, now_real=now
            )
            self.contexts[req.context_id] = ctx
        ctx.subscriptions[req.reference_id] = sub
        self.counters["subscriptions_created"] += 1
        snapshot: Any = objects[0] if req.service == SERVICE_PRICES else {"Data": objects}
        body: dict[str, Any] = {
            "ContextId": req.context_id,
            "ReferenceId": req.reference_id,
            "Format": "application/json",
            "InactivityTimeout": self.settings.inactivity_timeout_s,
            "RefreshRate": req.refresh_rate_ms,
            "State": "Active",
            "Snapshot": snapshot,
        }
        if req.tag is not None:
            body["Tag"] = req.tag
        logger.info(kv(
            "stream_subscribed",
            context=req.context_id,
            ref=req.reference_id,
            service=req.service,
            uics=len(req.uics),
            refresh_ms=req.refresh_rate_ms,
        ))
        return body

    def delete_subscriptions(
        self,
        context_id: str,
        *,
        service: str | None = None,
        reference_id: str | None = None,
        tag: str | None = None,
    ) -> int:
        """Remove matching subscriptions (service None = every service); returns how many."""
        ctx = self.contexts.get(context_id)
        if ctx is None:
            return 0
        doomed = [
            ref
            for ref, sub in ctx.subscriptions.items()
            if (service is None or sub.service == service)
            and (reference_id is None or ref == reference_id)
            and (tag is None or sub.tag == tag)
        ]
        for ref in doomed:
            del ctx.subscriptions[ref]
        self.counters["subscriptions_deleted"] += len(doomed)
        if doomed:
            logger.info(kv("stream_unsubscribed", context=context_id, count=len(doomed)))
        return len(doomed)

    # ----- sockets -----

    def check_connect(self, context_id: str) -> None:
        """Raise ConnectRejected(409) when the ContextId already has a live socket."""
        ctx = self.contexts.get(context_id)
        if ctx is not None and ctx.connection is not None and not ctx.connection.closed:
            self.counters["connect_rejected"] += 1
            raise ConnectRejected(409, "ContextId already has a live connection")

    def attach(
        self,
        context_id: str,
        ws: web.WebSocketResponse,
        transport: asyncio.Transport | None,
        token: str,
        *,
        send_heartbeats: bool,
        message_id: int | None,
    ) -> Connection:
        """Bind an upgraded socket to its context, then replay (or reset) as §3.8 says."""
        now = self.real.monotonic()
        ctx = self.contexts.get(context_id)
        if ctx is None:
            ctx = StreamContext(
                context_id, buffer_size=self.settings.replay_buffer_size, now_real=now
            )
            self.contexts[context_id] = ctx
        conn = Connection(
            context_id,
            ws,
            transport,
            token,
            send_heartbeats=send_heartbeats,
            now_real=now,
            max_queued_frames=self.settings.max_queued_frames,
        )
        ctx.connection = conn
        ctx.detached_since_real = None
        ctx.last_heartbeat_real = now
        conn.start()
        self.counters["connections_opened"] += 1
        plan = ctx.replay_after(message_id)
        logger.info(kv(
            "stream_connected",
            context=context_id,
            message_id=message_id,
            replay=len(plan.messages),
            too_old=plan.too_old,
        ))
        if plan.messages:
            self.counters["replays"] += 1
            self._send_messages(ctx, plan.messages, now)
            ctx.delivered_id = ctx.last_id
        if plan.too_old:
            self.send_reset(context_id)
        return conn

    def detach(self, conn: Connection, *, clean: bool) -> None:
        """The socket ended; a clean client close removes the context and its subscriptions."""
        ctx = self.contexts.get(conn.context_id)
        conn.closed = True
        if ctx is None or ctx.connection is not conn:
            return
        ctx.connection = None
        if clean:
            del self.contexts[conn.context_id]
            logger.info(kv(
                "stream_closed",
                context=conn.context_id,
                clean="true",
                removed_subscriptions=len(ctx.subscriptions),
            ))
        else:
            ctx.detached_since_real = self.real.monotonic()
            logger.info(kv("stream_closed", context=conn.context_id, clean="false"))

    def authorize(self, context_id: str, token: str) -> bool:
        """Re-authorize a live socket with a fresh token (PUT authorize); False if none."""
        ctx = self.contexts.get(context_id)
        if ctx is None or ctx.connection is None:
            return False
        ctx.connection.token = token
        logger.info(kv("stream_reauthorized", context=context_id))
        return True

    # ----- emission -----

    def _send_messages(self, ctx: StreamContext, messages: list[bytes], now: float) -> None:
        conn = ctx.connection
        if conn is None or conn.closed:
            return
        per = self.settings.max_messages_per_frame
        for start in range(0, len(messages), per):
            conn.send(b"".join(messages[start : start + per]), now)
            self.counters["frames_queued"] += 1
        self.counters["messages_delivered"] += len(messages)

    def emit(self, ctx: StreamContext, items: list[tuple[str, Any]], now: float) -> None:
        """Number, encode, buffer and (if a socket is attached) send messages, several per frame."""
        encoded: list[bytes] = []
        for reference_id, payload in items:
            message_id = ctx.next_id()
            message = encode_json_message(message_id, reference_id, payload)
            ctx.remember(message_id, message)
            encoded.append(message)
        self.counters["messages_generated"] += len(encoded)
        if ctx.connection is not None and not ctx.connection.closed:
            self._send_messages(ctx, encoded, now)
            ctx.delivered_id = ctx.last_id

    def _timestamp(self) -> str:
        clock: Clock | None = getattr(self.state, "clock", None)
        return utc_now_iso(clock if clock is not None else self.real)

    # ----- market ticks -----

    def on_tick(self) -> None:
        """Tick listener: send throttled deep-partial deltas for every due subscription."""
        try:
            self._tick()
        except Exception:  # a listener must never break the market loop
            self.counters["tick_errors"] += 1
            logger.exception(kv("stream_tick_failed"))

    def _tick(self) -> None:
        now = self.real.monotonic()
        self.feed.begin_tick()
        for ctx in list(self.contexts.values()):
            items: list[tuple[str, Any]] = []
            for sub in ctx.subscriptions.values():
                if not sub.streams_data or now - sub.last_data_real < sub.refresh_s:
                    continue
                try:
                    payload = self.feed.delta(sub)
                except SimApiError as exc:
                    sub.disabled_reason = REASON_PERMANENTLY_DISABLED
                    logger.warning(kv(
                        "stream_subscription_disabled",
                        context=ctx.context_id,
                        ref=sub.reference_id,
                        error=exc.error_code,
                    ))
                    continue
                if payload is not None:
                    items.append((sub.reference_id, payload))
                    sub.last_data_real = now
                    sub.messages_sent += 1
            if items:
                self.emit(ctx, items, now)

    # ----- housekeeping: heartbeats, token expiry, retention -----

    async def start(self) -> None:
        """Start the housekeeping task (aiohttp on_startup)."""
        if self._housekeeping is None:
            self._housekeeping = asyncio.get_running_loop().create_task(self._run_housekeeping())

    async def shutdown(self) -> None:
        """Close every socket with 1001 and stop housekeeping (aiohttp on_shutdown)."""
        if self._housekeeping is not None:
            self._housekeeping.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._housekeeping
            self._housekeeping = None
        connections = [c.connection for c in self.contexts.values() if c.connection is not None]
        for conn in connections:
            conn.close_after_flush(CLOSE_GOING_AWAY, "server shutdown")
        if connections:
            await asyncio.wait(
                [asyncio.ensure_future(c.wait_written()) for c in connections], timeout=1.0
            )

    async def _run_housekeeping(self) -> None:
        while True:
            await asyncio.sleep(self.settings.housekeeping_interval_s)
            try:
                self.housekeeping_step()
            except Exception:
                logger.exception(kv("stream_housekeeping_failed"))

    def housekeeping_step(self) -> None:
        """One pass: token expiry (close 1002), heartbeats, connection heartbeats, retention."""
        now = self.real.monotonic()
        settings = self.settings
        for ctx in list(self.contexts.values()):
            conn = ctx.connection
            if conn is None or conn.closed:
                since = ctx.detached_since_real
                if since is not None and now - since > settings.context_retention_s:
                    del self.contexts[ctx.context_id]
                    logger.info(kv(
                        "stream_context_expired",
                        context=ctx.context_id,
                        subscriptions=len(ctx.subscriptions),
                    ))
                continue
            if conn.server_closing:
                continue
            if self.state.auth.validate(conn.token) is None:
                self.counters["token_expiry_closes"] += 1
                logger.info(kv("stream_token_expired", context=ctx.context_id, close_code="1002"))
                conn.close_after_flush(CLOSE_TOKEN_EXPIRED, "token expired")
                continue
            if now - ctx.last_heartbeat_real >= settings.heartbeat_interval_s:
                ctx.last_heartbeat_real = now
                self.heartbeat(ctx, now, idle_s=settings.heartbeat_interval_s)
            if (
                conn.send_heartbeats
                and now - conn.last_frame_real >= settings.connection_heartbeat_s
            ):
                self._connection_heartbeat(ctx, conn, now)

    def heartbeat(self, ctx: StreamContext, now: float, *, idle_s: float) -> bool:
        entries: list[dict[str, str]] = []
        for sub in ctx.subscriptions.values():
            if sub.reset:
                continue
            if sub.disabled_reason is not None:
                entries.append(
                    {"OriginatingReferenceId": sub.reference_id, "Reason": sub.disabled_reason}
                )
            elif now - sub.last_data_real >= idle_s:
                entries.append({"OriginatingReferenceId": sub.reference_id, "Reason": NO_NEW_DATA})
        if not entries:
            return False
        self.counters["heartbeats"] += 1
        self.emit(
            ctx, [(HEARTBEAT_REF, [{"ReferenceId": HEARTBEAT_REF, "Heartbeats": entries}])], now
        )
        return True

    def _connection_heartbeat(self, ctx: StreamContext, conn: Connection, now: float) -> None:
        # Not numbered and not buffered: clients skip it in message-id tracking.
        payload = [{"ReferenceId": CONNECTION_HEARTBEAT_REF}]
        conn.send(encode_json_message(ctx.last_id, CONNECTION_HEARTBEAT_REF, payload), now)
        self.counters["connection_heartbeats"] += 1

    # ----- control operations (tests and /sim/v1/streaming/...) -----

    def targets(self, context_id: str | None) -> list[StreamContext]:
        if context_id is None:
            return list(self.contexts.values())
        ctx = self.contexts.get(context_id)
        return [ctx] if ctx is not None else []

    def send_reset(
        self,
        context_id: str | None = None,
        targets: list[str] | None = None,
        *,
        omit_targets: bool = False,
    ) -> int:
        """Send `_resetsubscriptions` (all, or the named ReferenceIds) and stop their data.

        A reset of all carries `"TargetReferenceIds": []`, or no such key with `omit_targets`
        (clients must read both as "reset everything").
        """
        now = self.real.monotonic()
        count = 0
        for ctx in self.targets(context_id):
            for ref, sub in ctx.subscriptions.items():
                if targets is None or ref in targets:
                    sub.reset = True
            payload: dict[str, Any] = {"ReferenceId": RESET_REF, "Timestamp": self._timestamp()}
            if targets is not None or not omit_targets:
                payload["TargetReferenceIds"] = list(targets) if targets is not None else []
            self.emit(ctx, [(RESET_REF, [payload])], now)
            self.counters["resets"] += 1
            count += 1
        logger.info(kv("stream_reset_sent", contexts=count, targets=targets))
        return count

    def stats(self) -> dict[str, Any]:
        """Counters for GET /sim/v1/stats (merged under "streaming")."""
        conns = [c.connection for c in self.contexts.values() if c.connection is not None]
        return {
            **self.counters,
            "contexts": len(self.contexts),
            "connections": len(conns),
            "subscriptions": sum(len(c.subscriptions) for c in self.contexts.values()),
            "frames_written_open_sockets": sum(c.frames_sent for c in conns),
            "bytes_written_open_sockets": sum(c.bytes_sent for c in conns),
        }


def utc_now_iso(clock: Clock) -> str:
    """`clock.now()` as Saxo's ISO-8601 UTC string with a Z suffix."""
    now: datetime = clock.now()
    return now.astimezone(UTC).isoformat().replace("+00:00", "Z")
