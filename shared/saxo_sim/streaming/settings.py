"""Tunable streaming behaviour of the simulator (all times REAL seconds or milliseconds)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any


@dataclass
class StreamingSettings:
    """Knobs of the streaming hub; change them with `update()` (control API or tests).

    heartbeat_interval_s: idle time before a subscription gets a `_heartbeat` (kept below
    inactivity_timeout_s, since clients treat InactivityTimeout without traffic as orphaned).
    connection_heartbeat_s: idle time before `_connectionheartbeat` (sendHeartbeats=true only).
    replay_buffer_size: messages kept per context for `messageid=` reconnects.
    context_retention_s: how long a context without a socket keeps its subscriptions.
    """

    heartbeat_interval_s: float = 10.0
    connection_heartbeat_s: float = 2.0
    inactivity_timeout_s: int = 30
    replay_buffer_size: int = 2000
    context_retention_s: float = 60.0
    default_refresh_rate_ms: int = 1000
    min_infoprice_refresh_ms: int = 1000
    min_price_refresh_ms: int = 0
    max_refresh_rate_ms: int = 60_000
    max_messages_per_frame: int = 16
    max_subscriptions_per_context: int = 500
    max_queued_frames: int = 20_000
    housekeeping_interval_s: float = 0.05

    def update(self, changes: dict[str, Any]) -> None:
        """Apply `changes` (name -> value) atomically; raises ValueError naming the problem."""
        known = {f.name: f.type for f in fields(self)}
        candidate = asdict(self)
        for name, value in changes.items():
            if name not in known:
                raise ValueError(f"unknown streaming setting: {name!r}")
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise ValueError(f"streaming setting {name} must be a number, got {value!r}")
            if known[name] in ("int", int) and value != int(value):
                raise ValueError(f"streaming setting {name} must be an integer, got {value!r}")
            candidate[name] = int(value) if known[name] in ("int", int) else float(value)
        trial = StreamingSettings(**candidate)
        trial.validate()
        for name in changes:
            setattr(self, name, candidate[name])

    def validate(self) -> None:
        """Raise ValueError when a value is out of range or inconsistent."""
        if not 0 < self.heartbeat_interval_s < self.inactivity_timeout_s:
            raise ValueError(
                "heartbeat_interval_s must be > 0 and below inactivity_timeout_s "
                f"({self.heartbeat_interval_s} vs {self.inactivity_timeout_s})"
            )
        if self.connection_heartbeat_s <= 0:
            raise ValueError("connection_heartbeat_s must be > 0")
        if self.replay_buffer_size < 1:
            raise ValueError("replay_buffer_size must be >= 1")
        if self.context_retention_s < 0:
            raise ValueError("context_retention_s must be >= 0")
        if not 0 <= self.min_price_refresh_ms <= self.max_refresh_rate_ms:
            raise ValueError("min_price_refresh_ms must be within 0..max_refresh_rate_ms")
        if not 0 <= self.min_infoprice_refresh_ms <= self.max_refresh_rate_ms:
            raise ValueError("min_infoprice_refresh_ms must be within 0..max_refresh_rate_ms")
        if self.max_messages_per_frame < 1 or self.max_subscriptions_per_context < 1:
            raise ValueError(
                "max_messages_per_frame and max_subscriptions_per_context must be >= 1"
            )
        if self.max_queued_frames < 1 or not 0 < self.housekeeping_interval_s <= 1:
            raise ValueError(
                "max_queued_frames >= 1 and housekeeping_interval_s in (0, 1] required"
            )

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)
