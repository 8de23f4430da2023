"""The price stream: one WebSocket in its own thread, handing every price update to a callback.

- Decodes binary messages holding several Saxo messages; merges snapshots and partial deltas.
- Tracks freshness per subscription (data or heartbeat) and silence on the connection.
- Reconnects with the same ContextId and `messageid` (replay); when that is refused, opens a new
  context and resubscribes everything. Handles `_resetsubscriptions`, `_disconnect`,
  `_reconnect`, disabled-subscription heartbeats and close code 1002 (token expired).
- Re-authorizes the socket (`PUT .../authorize?contextid=`) whenever the token coordinator hands
  out a new access token, which it does before expiry.
The callback runs on the stream thread: keep it short (the stop-loss check is).
"""

from __future__ import annotations

import logging
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final
from urllib.parse import urlencode

import websocket

from shared.clock import Clock
from shared.domain import PriceUpdate, Quote
from shared.logger_service import kv
from shared.saxo_client.errors import SaxoError
from shared.saxo_client.prices import quote_field_groups
from shared.saxo_client.streaming.frames import FrameError, SaxoMessage, iter_messages
from shared.saxo_client.streaming.state import (
    PriceSubscription,
    SubscriptionBook,
    heartbeat_entries,
    reset_targets,
)
from shared.saxo_client.streaming.subscriber import Subscriber
from shared.saxo_client.transport import SaxoTransport

logger = logging.getLogger(__name__)

PriceCallback = Callable[[PriceUpdate], None]
CLOSE_TOKEN_EXPIRED: Final = 1002
SUBSCRIBE_RETRY_S: Final = 2.0
_OPCODE_BINARY: Final = websocket.ABNF.OPCODE_BINARY
_OPCODE_CLOSE: Final = websocket.ABNF.OPCODE_CLOSE
_OPCODE_TEXT: Final = websocket.ABNF.OPCODE_TEXT


@dataclass(frozen=True)
class StreamSettings:
    """Timings in seconds (wall clock) unless named otherwise."""

    refresh_rate_ms: int = 1000
    recv_timeout_s: float = 0.2
    silence_timeout_s: float = 60.0
    heartbeat_silence_s: float = 6.0
    token_check_interval_s: float = 0.25
    connect_timeout_s: float = 10.0
    reconnect_delays_s: tuple[float, ...] = (0.0, 0.5, 2.0, 2.0, 5.0, 10.0)


class _Reconnect(Exception):
    """Internal: leave the receive loop and reconnect (fresh context when `fresh`)."""

    def __init__(self, reason: str, *, fresh: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.fresh = fresh


class PriceStream:
    """Streams prices for subscribed UICs. Start it, subscribe, read `latest()` or use the
    callback; `stop()` closes the socket and removes the context's subscriptions."""

    def __init__(
        self,
        *,
        transport: SaxoTransport,
        on_price: PriceCallback | None = None,
        clock: Clock,
        settings: StreamSettings | None = None,
    ) -> None:
        self._transport = transport
        self._tokens = transport.tokens
        self._env = transport.env
        self._on_price = on_price
        self._clock = clock
        self._settings = settings or StreamSettings()
        self._subscriber = Subscriber(
            transport=transport, refresh_rate_ms=self._settings.refresh_rate_ms
        )
        self._book = SubscriptionBook()
        self._lock = threading.RLock()  # book and connection fields
        self._rest_lock = threading.Lock()  # serializes subscription REST work
        self._stop = threading.Event()
        self._connected = threading.Event()
        self._thread: threading.Thread | None = None
        self._ws: websocket.WebSocket | None = None
        self._context_id = self._new_context_id()
        self._context_live = False
        self._last_message_id: int | None = None
        self._socket_token: str | None = None
        self._last_frame = 0.0
        self._got_connection_heartbeat = False
        self._next_token_check = 0.0
        self.counters: dict[str, int] = {
            "connects": 0,
            "reconnects": 0,
            "messages": 0,
            "price_updates": 0,
            "heartbeats": 0,
            "resets": 0,
            "reauthorizations": 0,
            "callback_errors": 0,
        }

    # --- lifecycle --------------------------------------------------------------------------

    def start(self, *, wait_s: float | None = None) -> bool:
        """Start the thread; waits up to `wait_s` (default connect timeout) for the socket."""
        if self._thread is not None:
            raise RuntimeError("stream already started")
        self._thread = threading.Thread(target=self._run, name="saxo-price-stream", daemon=True)
        self._thread.start()
        return self._connected.wait(self._settings.connect_timeout_s if wait_s is None else wait_s)

    def stop(self, timeout_s: float = 5.0) -> None:
        """Stop the thread, close the socket (1000) and delete the context's subscriptions."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout_s)
        self._subscriber.delete_context(self._context_id)

    @property
    def context_id(self) -> str:
        return self._context_id

    @property
    def connected(self) -> bool:
        return self._connected.is_set()

    # --- subscriptions ----------------------------------------------------------------------

    def subscribe(
        self, uic: int, asset_type: str, field_groups: tuple[str, ...] | None = None
    ) -> Quote | None:
        """Subscribe `uic` (no-op if already subscribed); returns the snapshot quote. By default
        the subscription asks the base field groups, plus `Greeks` for an option, so its quotes
        carry Saxo's Greeks (snapshot and deltas)."""
        if field_groups is None:
            field_groups = quote_field_groups(asset_type, greeks=True)
        with self._lock:
            existing = self._book.by_uic(uic)
            if existing is not None and existing.state is not None:
                return existing.quote()
        with self._rest_lock:
            return self._post_subscription(uic, asset_type, field_groups, replace=None)

    def unsubscribe(self, uic: int) -> None:
        with self._lock:
            sub = self._book.remove_uic(uic)
        if sub is not None:
            self._subscriber.delete(self._context_id, sub.reference_id)

    def latest(self, uic: int) -> Quote | None:
        """The merged quote of `uic`, or None before its snapshot."""
        with self._lock:
            sub = self._book.by_uic(uic)
            return sub.quote() if sub is not None and sub.state is not None else None

    def data_age_s(self, uic: int) -> float | None:
        """Seconds since `uic` last had data (snapshot or delta); None if never."""
        with self._lock:
            sub = self._book.by_uic(uic)
            if sub is None or sub.last_data is None:
                return None
            return time.monotonic() - sub.last_data

    def is_fresh(self, uic: int, max_silence_s: float) -> bool:
        """True when the stream is connected and `uic` had data or a healthy heartbeat within
        `max_silence_s` seconds (heartbeats mean "no new data", so the price still holds)."""
        with self._lock:
            sub = self._book.by_uic(uic)
            if not self.connected or sub is None or sub.state is None:
                return False
            if sub.disabled_reason is not None:
                return False
            return time.monotonic() - sub.last_activity <= max_silence_s

    def _post_subscription(
        self,
        uic: int,
        asset_type: str,
        field_groups: tuple[str, ...],
        *,
        replace: str | None,
    ) -> Quote | None:
        context_id = self._context_id
        sub = PriceSubscription(
            reference_id=self._subscriber.new_reference_id(uic),
            uic=uic,
            asset_type=asset_type,
            field_groups=field_groups,
            last_activity=time.monotonic(),
        )
        with self._lock:
            self._book.add(sub)  # before the POST: early deltas queue on it
        try:
            answer = self._subscriber.subscribe(
                context_id=context_id,
                reference_id=sub.reference_id,
                uic=uic,
                asset_type=asset_type,
                field_groups=field_groups,
                replace_reference_id=replace,
            )
        except Exception:
            sub.retry_at = time.monotonic() + SUBSCRIBE_RETRY_S
            raise
        timeout = answer.get("InactivityTimeout")
        snapshot = answer.get("Snapshot")
        with self._lock:
            sub.inactivity_timeout_s = float(timeout) if isinstance(timeout, int | float) else 0.0
            if not isinstance(snapshot, dict):
                logger.warning(kv("stream_snapshot_missing", uic=uic, ref=sub.reference_id))
                return None
            quote = sub.apply_snapshot(snapshot, time.monotonic())
        logger.info(kv(
            "stream_subscribed",
            uic=uic,
            asset_type=asset_type,
            ref=sub.reference_id,
            ctx=context_id,
        ))
        return quote

    def _resubscribe(self, subs: list[PriceSubscription], *, replace: bool) -> None:
        with self._rest_lock:
            for sub in subs:
                with self._lock:
                    if self._book.by_uic(sub.uic) is not sub:
                        continue  # unsubscribed or already replaced meanwhile
                try:
                    self._post_subscription(
                        sub.uic,
                        sub.asset_type,
                        sub.field_groups,
                        replace=sub.reference_id if replace else None,
                    )
                except SaxoError as exc:
                    logger.error(kv("stream_resubscribe_failed", uic=sub.uic, error=exc))

    # --- the thread -------------------------------------------------------------------------

    def _run(self) -> None:
        attempt = 0
        fresh = False
        while not self._stop.is_set():
            try:
                to_resubscribe = self._connect(fresh=fresh)
                attempt = 0
                fresh = False
                if to_resubscribe:
                    self._resubscribe(to_resubscribe, replace=False)
                self._receive_loop()
            except _Reconnect as exc:
                fresh = exc.fresh
                logger.warning(kv("stream_reconnecting", reason=exc.reason, fresh_context=fresh))
            except Exception as exc:  # the thread must survive anything and retry
                fresh = fresh or self._context_refused(exc)
                if getattr(exc, "status_code", None) == 401:
                    self._refresh_after_401()
                logger.warning(kv("stream_connection_error", error=type(exc).__name__, detail=exc))
            finally:
                self._close_socket()
            if self._stop.is_set():
                break
            self.counters["reconnects"] += 1
            delays = self._settings.reconnect_delays_s
            self._stop.wait(delays[min(attempt, len(delays) - 1)])
            attempt += 1

    def _refresh_after_401(self) -> None:
        try:
            self._tokens.force_refresh(self._tokens.access_token())
        except SaxoError as exc:
            logger.error(kv("stream_token_refresh_failed", error=exc))

    def _context_refused(self, exc: Exception) -> bool:
        status = getattr(exc, "status_code", None)
        return status in (409, 400)

    def _connect(self, *, fresh: bool) -> list[PriceSubscription]:
        """Open the socket, resuming the context (messageid replay) when possible; returns the
        subscriptions to recreate (all known ones when a new context had to be opened)."""
        resume = self._context_live and not fresh
        lost: list[PriceSubscription] = []
        if not resume:
            with self._lock:
                if self._context_live or fresh:
                    self._context_id = self._new_context_id()
                self._last_message_id = None
                lost = self._book.all()
                for sub in lost:
                    sub.state = None
                    sub.pending.clear()
        token = self._tokens.access_token()
        query: dict[str, str] = {"contextId": self._context_id, "sendHeartbeats": "true"}
        if resume and self._last_message_id is not None:
            query["messageid"] = str(self._last_message_id)
        url = f"{self._env.stream_connect_url}?{urlencode(query)}"
        ws = websocket.create_connection(
            url,
            header=[f"Authorization: Bearer {token}"],
            timeout=self._settings.connect_timeout_s,
            enable_multithread=True,
        )
        ws.settimeout(self._settings.recv_timeout_s)
        with self._lock:
            self._ws = ws
            self._socket_token = token
            self._context_live = True
            self._last_frame = time.monotonic()
            self._got_connection_heartbeat = False
        self.counters["connects"] += 1
        self._connected.set()
        logger.info(kv("stream_connected", ctx=self._context_id, resumed=resume))
        return lost

    def _close_socket(self) -> None:
        self._connected.clear()
        with self._lock:
            ws, self._ws = self._ws, None
        if ws is not None:
            try:
                ws.close(status=websocket.STATUS_NORMAL, timeout=1)
            except Exception as exc:
                logger.debug(kv("stream_close_error", error=exc))

    def _receive_loop(self) -> None:
        ws = self._ws
        assert ws is not None
        while not self._stop.is_set():
            try:
                opcode, data = ws.recv_data()
            except websocket.WebSocketTimeoutException:
                self._housekeeping()
                continue
            except websocket.WebSocketConnectionClosedException:
                raise _Reconnect("connection closed") from None
            received = time.perf_counter()
            self._last_frame = time.monotonic()
            if opcode == _OPCODE_CLOSE:
                code = int.from_bytes(data[:2], "big") if len(data) >= 2 else None
                if code == CLOSE_TOKEN_EXPIRED:
                    logger.warning(kv("stream_closed_token_expired", ctx=self._context_id))
                    self._tokens.force_refresh(self._socket_token or "")
                raise _Reconnect(f"server closed code={code}")
            if opcode == _OPCODE_TEXT:
                logger.warning(kv("stream_text_frame_ignored", bytes=len(data)))
                continue
            if opcode == _OPCODE_BINARY:
                self._handle_frame(data, received)
            self._housekeeping()

    def _handle_frame(self, data: bytes, received: float) -> None:
        received_at = self._clock.now()
        try:
            for message in iter_messages(data):  # act on each before decoding the next
                self.counters["messages"] += 1
                if message.reference_id != "_connectionheartbeat":
                    self._last_message_id = message.message_id
                if message.is_control:
                    self._handle_control(message)
                else:
                    self._handle_data(message, received, received_at)
        except FrameError as exc:
            logger.error(kv("stream_frame_invalid", error=exc))
            raise _Reconnect("invalid frame") from None

    def _handle_data(self, message: SaxoMessage, received: float, received_at: Any) -> None:
        payload = message.payload
        if not isinstance(payload, dict):
            logger.debug(kv("stream_payload_ignored", ref=message.reference_id))
            return
        with self._lock:
            sub = self._book.by_ref(message.reference_id)
            if sub is None:
                return  # an old reference id after a reset or unsubscribe
            try:
                quote = sub.apply_delta(payload, time.monotonic())
            except SaxoError as exc:
                logger.error(kv("stream_delta_invalid", ref=message.reference_id, error=exc))
                return
        if quote is None:
            return
        self.counters["price_updates"] += 1
        if self._on_price is None:
            return
        update = PriceUpdate(
            uic=sub.uic,
            quote=quote,
            received_at=received_at,
            received_monotonic=received,
            reference_id=message.reference_id,
            message_id=message.message_id,
        )
        try:
            self._on_price(update)
        except Exception:
            self.counters["callback_errors"] += 1
            logger.exception(kv("stream_callback_failed", uic=sub.uic))

    def _handle_control(self, message: SaxoMessage) -> None:
        ref = message.reference_id
        if ref == "_connectionheartbeat":
            self._got_connection_heartbeat = True
        elif ref == "_heartbeat":
            self.counters["heartbeats"] += 1
            self._handle_heartbeats(message.payload)
        elif ref == "_resetsubscriptions":
            self.counters["resets"] += 1
            targets = reset_targets(message.payload)
            with self._lock:
                subs = [s for s in self._book.all() if targets is None or s.reference_id in targets]
            logger.warning(kv("stream_reset", targets=targets or "all"))
            self._resubscribe(subs, replace=True)
        elif ref == "_disconnect":
            logger.error(kv("stream_disconnect_requested", ctx=self._context_id))
            raise _Reconnect("server sent _disconnect", fresh=True)
        elif ref == "_reconnect":
            raise _Reconnect("server sent _reconnect")
        else:
            logger.debug(kv("stream_control_ignored", ref=ref))

    def _handle_heartbeats(self, payload: Any) -> None:
        now = time.monotonic()
        disabled: list[PriceSubscription] = []
        with self._lock:
            for ref, reason in heartbeat_entries(payload):
                sub = self._book.by_ref(ref)
                if sub is None:
                    continue
                sub.last_activity = now
                if reason == "SubscriptionPermanentlyDisabled":
                    if sub.disabled_reason != reason:
                        disabled.append(sub)
                    sub.disabled_reason = reason
                elif reason == "SubscriptionTemporarilyDisabled":
                    sub.disabled_reason = reason
                else:
                    sub.disabled_reason = None
        for sub in disabled:
            logger.error(kv("stream_subscription_disabled", uic=sub.uic, ref=sub.reference_id))
            self._subscriber.delete(self._context_id, sub.reference_id)

    def _housekeeping(self) -> None:
        now = time.monotonic()
        silence_limit = (
            self._settings.heartbeat_silence_s
            if self._got_connection_heartbeat
            else self._settings.silence_timeout_s
        )
        if now - self._last_frame > silence_limit:
            raise _Reconnect(f"silent for {now - self._last_frame:.1f}s")
        if now >= self._next_token_check:
            self._next_token_check = now + self._settings.token_check_interval_s
            self._reauthorize_if_needed()
        with self._lock:
            orphans = [
                s
                for s in self._book.all()
                if s.disabled_reason is None and s.state is not None and s.orphaned(now)
            ]
            failed = [s for s in self._book.all() if s.retry_at is not None and now >= s.retry_at]
        if orphans:
            logger.warning(kv("stream_orphaned", uics=[s.uic for s in orphans]))
            self._resubscribe(orphans, replace=True)
        if failed:
            logger.info(kv("stream_subscribe_retry", uics=[s.uic for s in failed]))
            self._resubscribe(failed, replace=False)

    def _reauthorize_if_needed(self) -> None:
        token = self._tokens.access_token()
        if token == self._socket_token:
            return
        try:
            self._transport.send(
                "PUT",
                "/streamingws/authorize",
                params={"contextid": self._context_id},
                url=self._env.stream_authorize_url,
            )
        except SaxoError as exc:
            # Retrying the PUT every housekeeping tick would flood the API; a reconnect with the
            # fresh token (same context, replaying from the last message id) does the same job.
            logger.warning(kv("stream_reauthorize_failed", ctx=self._context_id, error=exc))
            raise _Reconnect("socket re-authorization failed") from None
        self._socket_token = token
        self.counters["reauthorizations"] += 1
        logger.info(kv("stream_reauthorized", ctx=self._context_id))

    @staticmethod
    def _new_context_id() -> str:
        return f"cal_{secrets.token_hex(6)}"

    def stats(self) -> dict[str, object]:
        with self._lock:
            subs = {
                s.uic: {"ref": s.reference_id, "disabled": s.disabled_reason}
                for s in self._book.all()
            }
        return {
            "context_id": self._context_id,
            "connected": self.connected,
            "subscriptions": subs,
            **self.counters,
        }
