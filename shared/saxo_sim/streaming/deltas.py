"""Deep partial deltas between two Saxo price objects (what the stream sends after a snapshot)."""

from __future__ import annotations

from typing import Any

# Changes of these keys alone do not make a delta worth sending (they ride along with one).
PASSIVE_KEYS = frozenset({"LastUpdated"})


def deep_delta(old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    """Only the fields of `new` that differ from `old`, nested objects partial too.

    A key present in `old` but missing from `new` appears as an explicit None ("cleared", as
    Saxo signals it in JSON). Lists are compared whole and sent whole. Returns {} when equal.
    """
    delta: dict[str, Any] = {}
    for key, value in new.items():
        if key not in old:
            delta[key] = value
            continue
        previous = old[key]
        if previous == value:
            continue
        if isinstance(value, dict) and isinstance(previous, dict):
            nested = deep_delta(previous, value)
            if nested:
                delta[key] = nested
        else:
            delta[key] = value
    for key in old:
        if key not in new:
            delta[key] = None
    return delta


def is_meaningful(delta: dict[str, Any]) -> bool:
    """True when the delta changes more than the passive keys (e.g. more than LastUpdated)."""
    return any(key not in PASSIVE_KEYS for key in delta)
