"""A streaming context (one ContextId): its subscriptions, message ids and replay buffer."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

from shared.saxo_sim.streaming.connection import Connection
from shared.saxo_sim.streaming.subscriptions import Subscription


@dataclass(frozen=True)
class ReplayPlan:
    """What a (re)connect gets: buffered messages to resend, or a reset when they are gone."""

    messages: list[bytes]
    too_old: bool


class StreamContext:
    """State of one ContextId; survives socket drops until the hub's retention time runs out.

    Message ids are per context, LE uint64 on the wire, starting at 1. The replay buffer keeps
    the last `buffer_size` encoded messages (id, bytes) for `messageid=` reconnects.
    """

    def __init__(self, context_id: str, *, buffer_size: int, now_real: float) -> None:
        self.context_id = context_id
        self.subscriptions: dict[str, Subscription] = {}
        self.connection: Connection | None = None
        self.last_id = 0
        self.delivered_id = 0  # highest id handed to a socket
        self.detached_since_real: float | None = now_real  # None while a socket is attached
        self.last_heartbeat_real = now_real
        self._buffer: deque[tuple[int, bytes]] = deque(maxlen=max(1, buffer_size))

    def next_id(self) -> int:
        """Allocate the next message id (wraps far beyond any realistic run)."""
        self.last_id = self.last_id + 1 if self.last_id < 2**64 - 1 else 1
        return self.last_id

    def remember(self, message_id: int, message: bytes) -> None:
        """Keep an encoded message for replay."""
        self._buffer.append((message_id, message))

    def restart_ids(self) -> None:
        """Next message id is 1; the replay buffer is emptied (old ids become meaningless)."""
        self.last_id = 0
        self.delivered_id = 0
        self._buffer.clear()

    def resize_buffer(self, size: int) -> None:
        """Change the replay capacity, keeping the newest messages."""
        self._buffer = deque(self._buffer, maxlen=max(1, size))

    @property
    def buffered(self) -> int:
        return len(self._buffer)

    def replay_after(self, message_id: int | None) -> ReplayPlan:
        """Messages a connect must resend.

        With `message_id` (the client's last seen id): everything after it, or `too_old` when
        messages after it are no longer buffered (or the id is unknown). Without: whatever was
        queued while no socket was attached and never handed to one.
        """
        if message_id is None:
            after = self.delivered_id
        else:
            if message_id == self.last_id:
                return ReplayPlan([], too_old=False)
            first = self._buffer[0][0] if self._buffer else None
            if first is None or not (first - 1 <= message_id < self.last_id):
                return ReplayPlan([], too_old=True)
            after = message_id
        return ReplayPlan([msg for mid, msg in self._buffer if mid > after], too_old=False)

    def live_subscriptions(self) -> list[Subscription]:
        """Subscriptions that still stream data (not reset, not disabled)."""
        return [sub for sub in self.subscriptions.values() if sub.streams_data]
