"""The tick queue: the stream thread hands uics to the loop thread, which waits on it.

The loop waits with its poll timeout instead of sleeping, so a tick (or a stop request) wakes it
at once. Ticks of the same uic coalesce while the loop is busy: only the latest matters.
"""

from __future__ import annotations

import queue
import threading

WAKE = -1  # not a uic: a stop request or another reason to run now


class TickQueue:
    """Thread-safe hand-off from the stream callback (any thread) to the loop thread."""

    def __init__(self) -> None:
        self._queue: queue.SimpleQueue[int] = queue.SimpleQueue()
        self._pending: set[int] = set()
        self._lock = threading.Lock()
        self.received = 0

    def put(self, uic: int) -> None:
        """Called by the stream thread per price update (cheap; never blocks)."""
        with self._lock:
            self.received += 1
            if uic in self._pending:
                return
            self._pending.add(uic)
        self._queue.put(uic)

    def wake(self) -> None:
        self._queue.put(WAKE)

    def wait(self, timeout_s: float) -> set[int]:
        """Block up to `timeout_s` real seconds for a tick; returns every uic ticked since."""
        got: set[int] = set()
        try:
            got.add(self._queue.get(timeout=max(0.0, timeout_s)))
        except queue.Empty:
            return got
        while True:
            try:
                got.add(self._queue.get_nowait())
            except queue.Empty:
                break
        with self._lock:
            self._pending -= got
        got.discard(WAKE)
        return got
