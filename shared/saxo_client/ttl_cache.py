"""A small thread-safe TTL cache keyed by hashable values, timed by an injected Clock."""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

from shared.clock import Clock

V = TypeVar("V")


class TtlCache(Generic[V]):
    """Values expire `ttl_s` seconds (Clock.monotonic) after they were stored."""

    def __init__(self, *, clock: Clock, ttl_s: float, max_entries: int = 512) -> None:
        if ttl_s < 0:
            raise ValueError("ttl_s must not be negative")
        self._clock = clock
        self._ttl_s = ttl_s
        self._max_entries = max_entries
        self._entries: dict[Hashable, tuple[float, V]] = {}
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> V | None:
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            stored_at, value = entry
            if self._clock.monotonic() - stored_at >= self._ttl_s:
                del self._entries[key]
                return None
            return value

    def put(self, key: Hashable, value: V) -> None:
        with self._lock:
            if len(self._entries) >= self._max_entries:
                oldest = min(self._entries, key=lambda k: self._entries[k][0])
                del self._entries[oldest]
            self._entries[key] = (self._clock.monotonic(), value)

    def get_or_load(self, key: Hashable, load: Callable[[], V]) -> V:
        """The cached value, else `load()` stored and returned (load errors propagate)."""
        cached = self.get(key)
        if cached is not None:
            return cached
        value = load()
        self.put(key, value)
        return value

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
