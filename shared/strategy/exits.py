"""Exit helpers any bot's rules use: the flash-move monitor.

Prices are the underlying's (Decimal, index points or dollars); times are UTC.
"""

from __future__ import annotations

from collections import deque
from datetime import datetime, timedelta
from decimal import Decimal

_SAMPLE_EVERY = timedelta(seconds=1)


class FlashMonitor:
    """Underlying prices of the last `window` (UTC times); measures the largest move.

    At most one point per second is kept (ticks can arrive many times a second); the newest
    price is always compared against them.
    """

    def __init__(self, window: timedelta) -> None:
        self._window = window
        self._points: deque[tuple[datetime, Decimal]] = deque()
        self._latest: Decimal | None = None

    def add(self, at: datetime, price: Decimal) -> None:
        self._latest = price
        if not self._points or at - self._points[-1][0] >= _SAMPLE_EVERY:
            self._points.append((at, price))
        while self._points and at - self._points[0][0] > self._window:
            self._points.popleft()

    def move_percent(self) -> Decimal:
        """Largest |latest - earlier| / earlier x 100 within the window (0 without history)."""
        latest = self._latest
        if latest is None:
            return Decimal(0)
        moves = (abs(latest - price) / price * 100 for _, price in self._points if price > 0)
        return max(moves, default=Decimal(0))

    @property
    def window(self) -> timedelta:
        """How far back prices are kept."""
        return self._window

    def price_range(self) -> tuple[Decimal, Decimal] | None:
        """The lowest and highest price in the window, the latest included (None: empty)."""
        prices = [price for _, price in self._points]
        if self._latest is not None:
            prices.append(self._latest)
        return (min(prices), max(prices)) if prices else None

    def clear(self) -> None:
        self._points.clear()
        self._latest = None
