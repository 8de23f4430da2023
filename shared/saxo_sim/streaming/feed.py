"""Subscription prices: snapshots and deep-partial deltas, one state call per instrument a tick.

Benchmark mode (`synthetic = True`) skips the market model: each tick nudges the last sent
Quote's Bid/Ask/Mid up or down by 0.05 so every subscription changes on every tick. It exists to
measure the streaming stack alone (hub, encoder, socket, client) and is off by default.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Protocol

from shared.saxo_sim.errors import SimApiError
from shared.saxo_sim.streaming.deltas import deep_delta, is_meaningful
from shared.saxo_sim.streaming.subscriptions import (
    SERVICE_PRICES,
    Subscription,
    SubscriptionRequest,
)

PriceKey = tuple[str, int, str, tuple[str, ...]]
SYNTHETIC_STEP = 0.05


class PriceSource(Protocol):
    def info_price(
        self, uic: int, asset_type: str, field_groups: Sequence[str]
    ) -> dict[str, Any]: ...

    def trade_price(
        self, uic: int, asset_type: str, field_groups: Sequence[str]
    ) -> dict[str, Any]: ...


class PriceFeed:
    """Computes what each subscription should be sent; runs on the simulator's loop."""

    def __init__(self, source: PriceSource, timestamp: Callable[[], str]) -> None:
        self.source = source
        self.synthetic = False
        self._timestamp = timestamp
        self._cache: dict[PriceKey, dict[str, Any] | SimApiError] = {}
        self._flip = False
        self._tick_time = ""

    def fetch(self, req: SubscriptionRequest, uic: int) -> dict[str, Any]:
        """The full current object for one Uic (raises SimApiError from the state)."""
        source = self.source
        fn = source.trade_price if req.service == SERVICE_PRICES else source.info_price
        return fn(uic, req.asset_type, list(req.field_groups))

    def begin_tick(self) -> None:
        """Forget the previous tick's prices (call once per market step)."""
        self._cache.clear()
        self._flip = not self._flip
        if self.synthetic:
            self._tick_time = self._timestamp()

    def delta(self, sub: Subscription) -> Any:
        """The payload to send now, or None when nothing but passive fields changed.

        Price subscriptions: a partial object without Uic. Info-price lists: an array of
        partial objects, each with its Uic. Updates `sub.last_sent`. Raises SimApiError.
        """
        if sub.service == SERVICE_PRICES:
            uic = sub.request.uics[0]
            new = self._current(sub, uic)
            delta = deep_delta(sub.last_sent.get(uic, {}), new)
            if not is_meaningful(delta):
                return None
            sub.last_sent[uic] = new
            return delta
        rows: list[dict[str, Any]] = []
        for uic in sub.request.uics:
            new = self._current(sub, uic)
            delta = deep_delta(sub.last_sent.get(uic, {}), new)
            if is_meaningful(delta):
                sub.last_sent[uic] = new
                delta["Uic"] = uic
                rows.append(delta)
        return rows or None

    def _current(self, sub: Subscription, uic: int) -> dict[str, Any]:
        if self.synthetic:
            return self._synthetic(sub.last_sent.get(uic, {}))
        req = sub.request
        key: PriceKey = (req.service, uic, req.asset_type, req.field_groups)
        hit = self._cache.get(key)
        if hit is None:
            try:
                hit = self.fetch(req, uic)
            except SimApiError as exc:
                hit = exc
            self._cache[key] = hit
        if isinstance(hit, SimApiError):
            raise hit
        return hit

    def _synthetic(self, last: dict[str, Any]) -> dict[str, Any]:
        step = SYNTHETIC_STEP if self._flip else -SYNTHETIC_STEP
        quote = dict(last.get("Quote") or {})
        for key in ("Bid", "Ask", "Mid"):
            value = quote.get(key)
            quote[key] = round((value if isinstance(value, int | float) else 1.0) + step, 4)
        return {**last, "LastUpdated": self._tick_time, "Quote": quote}
