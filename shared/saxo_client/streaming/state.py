"""Subscription state for price streams: snapshot + deep-merged partial deltas, freshness.

Pure data structures (no I/O, no threads); the stream thread owns one `SubscriptionBook`.
Deltas that arrive before their subscription's snapshot are queued and applied after it
(saxo_api.md 3.5). In JSON deltas an explicit null clears a field.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from shared.domain import Quote
from shared.saxo_client import parsing

MAX_PENDING_DELTAS: Final = 100


def deep_merge(target: dict[str, Any], delta: Mapping[str, Any]) -> dict[str, Any]:
    """Merge `delta` into `target` in place: nested objects merge, null deletes, others replace."""
    for key, value in delta.items():
        if value is None:
            target.pop(key, None)
        elif isinstance(value, Mapping) and isinstance(target.get(key), dict):
            deep_merge(target[key], value)
        elif isinstance(value, Mapping):
            target[key] = deep_merge({}, value)
        else:
            target[key] = copy.deepcopy(value)
    return target


@dataclass
class PriceSubscription:
    """One instrument's price subscription on the stream."""

    reference_id: str
    uic: int
    asset_type: str
    field_groups: tuple[str, ...]
    state: dict[str, Any] | None = None
    pending: list[Mapping[str, Any]] = field(default_factory=list)
    inactivity_timeout_s: float = 0.0
    last_activity: float = 0.0
    last_data: float | None = None
    disabled_reason: str | None = None
    retry_at: float | None = None  # set when (re)subscribing failed: try again then

    def apply_snapshot(self, snapshot: Mapping[str, Any], now: float) -> Quote:
        """Install the POST answer's snapshot, then any deltas that arrived before it."""
        self.state = deep_merge({}, snapshot)
        for delta in self.pending:
            deep_merge(self.state, delta)
        self.pending.clear()
        self.last_activity = now
        self.last_data = now
        return self.quote()

    def apply_delta(self, delta: Mapping[str, Any], now: float) -> Quote | None:
        """Merge a delta; None while the snapshot is still missing (the delta is queued)."""
        self.last_activity = now
        if self.state is None:
            if len(self.pending) < MAX_PENDING_DELTAS:
                self.pending.append(copy.deepcopy(dict(delta)))
            return None
        deep_merge(self.state, delta)
        self.last_data = now
        self.disabled_reason = None
        return self.quote()

    def quote(self) -> Quote:
        assert self.state is not None
        return parsing.parse_quote(self.state, uic=self.uic, asset_type=self.asset_type)

    def orphaned(self, now: float) -> bool:
        """Neither data nor heartbeat for InactivityTimeout seconds (0 = never orphaned)."""
        return self.inactivity_timeout_s > 0 and now - self.last_activity > (
            self.inactivity_timeout_s
        )


class SubscriptionBook:
    """ReferenceId -> subscription, and UIC -> current ReferenceId."""

    def __init__(self) -> None:
        self._by_ref: dict[str, PriceSubscription] = {}
        self._ref_by_uic: dict[int, str] = {}

    def add(self, sub: PriceSubscription) -> None:
        old = self._ref_by_uic.get(sub.uic)
        if old is not None and old != sub.reference_id:
            self._by_ref.pop(old, None)
        self._by_ref[sub.reference_id] = sub
        self._ref_by_uic[sub.uic] = sub.reference_id

    def remove_uic(self, uic: int) -> PriceSubscription | None:
        ref = self._ref_by_uic.pop(uic, None)
        return self._by_ref.pop(ref, None) if ref is not None else None

    def by_ref(self, reference_id: str) -> PriceSubscription | None:
        return self._by_ref.get(reference_id)

    def by_uic(self, uic: int) -> PriceSubscription | None:
        ref = self._ref_by_uic.get(uic)
        return self._by_ref.get(ref) if ref is not None else None

    def all(self) -> list[PriceSubscription]:
        return list(self._by_ref.values())

    def clear(self) -> None:
        self._by_ref.clear()
        self._ref_by_uic.clear()


def heartbeat_entries(payload: Any) -> list[tuple[str, str]]:
    """(OriginatingReferenceId, Reason) pairs from a `_heartbeat` payload in any accepted form:
    `[{"Heartbeats": [...]}]`, `{"Heartbeats": [...]}` or `{"Data": ...}`."""
    items: list[Any]
    if isinstance(payload, Mapping) and "Data" in payload:
        payload = payload["Data"]
    items = payload if isinstance(payload, list) else [payload]
    pairs: list[tuple[str, str]] = []
    for item in items:
        if not isinstance(item, Mapping):
            continue
        for beat in item.get("Heartbeats") or []:
            if isinstance(beat, Mapping) and isinstance(beat.get("OriginatingReferenceId"), str):
                pairs.append((beat["OriginatingReferenceId"], str(beat.get("Reason", ""))))
    return pairs


def reset_targets(payload: Any) -> list[str] | None:
    """TargetReferenceIds of a `_resetsubscriptions` message; None (or empty) = reset all."""
    items = payload if isinstance(payload, list) else [payload]
    targets: list[str] = []
    for item in items:
        if isinstance(item, Mapping):
            listed = item.get("TargetReferenceIds")
            if isinstance(listed, list):
                targets.extend(str(ref) for ref in listed)
    return targets or None
