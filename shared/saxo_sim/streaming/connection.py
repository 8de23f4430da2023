"""One open WebSocket of a streaming context: an ordered frame queue drained by a writer task."""

from __future__ import annotations

import asyncio
import logging
from collections import deque

from aiohttp import web

from shared.logger_service import kv

logger = logging.getLogger(__name__)

CLOSE_NORMAL = 1000
CLOSE_GOING_AWAY = 1001
CLOSE_TOKEN_EXPIRED = 1002  # what Saxo sends when the connect-time token expires unextended


class Connection:
    """A server-side socket: frames go out in order; a close can be queued behind them.

    `token` is the bearer that currently authorizes the socket (replaced by PUT authorize).
    Times are REAL monotonic seconds. Runs only on the simulator's event loop.
    """

    def __init__(
        self,
        context_id: str,
        ws: web.WebSocketResponse,
        transport: asyncio.Transport | None,
        token: str,
        *,
        send_heartbeats: bool,
        now_real: float,
        max_queued_frames: int,
    ) -> None:
        self.context_id = context_id
        self.ws = ws
        self.token = token
        self.send_heartbeats = send_heartbeats
        self.last_frame_real = now_real
        self.frames_sent = 0
        self.bytes_sent = 0
        self.server_closing = False
        self.closed = False
        self._transport = transport
        self._max_queued = max_queued_frames
        self._queue: deque[bytes] = deque()
        self._close_code: int | None = None
        self._close_reason = b""
        self._wakeup = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Start the writer task (call once, on the loop, after the handshake)."""
        self._task = asyncio.get_running_loop().create_task(self._writer())

    def send(self, frame: bytes, now_real: float) -> None:
        """Queue one binary frame; a client too slow to keep up is dropped (it can replay)."""
        if self.closed or self._close_code is not None:
            return
        if len(self._queue) >= self._max_queued:
            logger.warning(kv(
                "stream_client_too_slow",
                context=self.context_id,
                queued=len(self._queue),
                action="drop",
            ))
            self.abort()
            return
        self._queue.append(frame)
        self.last_frame_real = now_real
        self._wakeup.set()

    def close_after_flush(self, code: int, reason: str) -> None:
        """Send the queued frames, then a close frame with `code`."""
        if self.closed or self._close_code is not None:
            return
        self.server_closing = True
        self._close_code = code
        self._close_reason = reason.encode("utf-8")[:120]
        self._wakeup.set()

    def abort(self) -> None:
        """Drop the TCP connection without a close frame (simulates a network failure)."""
        if self.closed:
            return
        self.server_closing = True
        self.closed = True
        self._queue.clear()
        if self._transport is not None:
            self._transport.abort()
        self._wakeup.set()

    @property
    def queued_frames(self) -> int:
        return len(self._queue)

    async def wait_written(self) -> None:
        """Wait until the writer task has ended (queue flushed and close sent, or failure)."""
        if self._task is not None and not self._task.done():
            await asyncio.wait([self._task])

    async def stop(self) -> None:
        """Wait for the writer task to end (after the handler saw the socket close)."""
        self.closed = True
        self._wakeup.set()
        if self._task is not None and not self._task.done():
            try:
                await asyncio.wait_for(self._task, timeout=2.0)
            except (TimeoutError, asyncio.CancelledError):
                self._task.cancel()

    async def _writer(self) -> None:
        ws = self.ws
        try:
            while True:
                await self._wakeup.wait()
                self._wakeup.clear()
                while self._queue and not self.closed:
                    frame = self._queue.popleft()
                    await ws.send_bytes(frame)
                    self.frames_sent += 1
                    self.bytes_sent += len(frame)
                if self.closed:
                    return
                if self._close_code is not None:
                    await ws.close(code=self._close_code, message=self._close_reason)
                    return
        except (ConnectionError, RuntimeError) as exc:
            logger.info(kv("stream_write_failed", context=self.context_id, error=exc))
        except asyncio.CancelledError:
            raise
