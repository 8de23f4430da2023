"""Conversions between Python values and the journal's column text: UTC times, Decimals, JSON."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, date, datetime, time
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo

from shared.logger_service import redact

NEW_YORK = ZoneInfo("America/New_York")


def time_to_text(moment: datetime) -> str:
    """`moment` as fixed-width ISO 8601 UTC text (`...T15:00:00.000000+00:00`).

    Fixed width makes text order equal time order, so SQL can compare the column directly.
    Raises ValueError for a naive datetime.
    """
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"journal datetimes must be timezone-aware, got naive {moment!r}")
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def time_from_text(text: str) -> datetime:
    """The timezone-aware UTC datetime stored as `text`."""
    return datetime.fromisoformat(text).astimezone(UTC)


def optional_time_from_text(text: str | None) -> datetime | None:
    return None if text is None else time_from_text(text)


def new_york_day_bounds(day: date) -> tuple[str, str]:
    """UTC text bounds [start, end) of New York calendar day `day` (DST-correct)."""
    start = datetime.combine(day, time(0), tzinfo=NEW_YORK)
    end = datetime.combine(date.fromordinal(day.toordinal() + 1), time(0), tzinfo=NEW_YORK)
    return time_to_text(start), time_to_text(end)


def new_york_date(moment: datetime) -> date:
    """The America/New_York calendar date of a timezone-aware instant."""
    return moment.astimezone(NEW_YORK).date()


def decimal_to_text(value: Decimal | int, *, name: str) -> str:
    """Exact text for a Decimal or int; floats are refused (binary floats are not money).

    Raises TypeError for other types and ValueError for NaN or infinity, naming `name`.
    """
    if isinstance(value, bool) or not isinstance(value, Decimal | int):
        raise TypeError(f"{name} must be a Decimal or int, got {type(value).__name__} {value!r}")
    number = Decimal(value)
    if not number.is_finite():
        raise ValueError(f"{name} must be a finite number, got {number}")
    return str(number)


def decimal_from_text(text: str) -> Decimal:
    try:
        return Decimal(text)
    except InvalidOperation as exc:
        raise ValueError(f"journal holds a malformed decimal {text!r}") from exc


def optional_decimal_from_text(text: str | None) -> Decimal | None:
    return None if text is None else decimal_from_text(text)


def json_to_text(value: Mapping[str, Any], *, name: str) -> str:
    """Compact, key-sorted JSON for a mapping of plain JSON values.

    Raises ValueError naming `name` when a value is not JSON (Decimal, datetime, NaN...): the
    caller converts those explicitly so that what is read back is what was meant.
    """
    if not isinstance(value, Mapping):
        raise TypeError(f"{name} must be a mapping, got {type(value).__name__}")
    try:
        return json.dumps(dict(value), sort_keys=True, separators=(",", ":"), allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} is not plain JSON: {exc}") from exc


def json_from_text(text: str) -> dict[str, Any]:
    loaded = json.loads(text)
    if not isinstance(loaded, dict):
        raise ValueError(f"journal JSON column holds {type(loaded).__name__}, expected an object")
    return loaded


MAX_ERROR_CHARS = 1_000


def require_text(value: str, name: str) -> str:
    """`value` unchanged; ValueError naming `name` unless it is a non-blank string."""
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{name} must be a non-empty string, got {value!r}")
    return value


def require_positive_int(value: int, name: str) -> int:
    """`value` unchanged; ValueError naming `name` unless it is an int > 0 (bool refused)."""
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return value


def non_negative_decimal_text(value: Decimal | int, name: str) -> str:
    """Exact text of a Decimal/int >= 0; TypeError/ValueError naming `name` otherwise."""
    text = decimal_to_text(value, name=name)
    if Decimal(text) < 0:
        raise ValueError(f"{name} must not be negative, got {text}")
    return text


def stored_text(text: str) -> str:
    """Free text fit to store: secrets redacted, at most MAX_ERROR_CHARS characters."""
    return redact(text)[:MAX_ERROR_CHARS]


def error_text(error: str | None) -> str | None:
    """An optional error message fit to store (see `stored_text`)."""
    return None if error is None else stored_text(error)


def cents(amount: Decimal) -> Decimal:
    """`amount` rounded half-even to cents (display only; the journal keeps exact values)."""
    return amount.quantize(Decimal("0.01"), rounding=ROUND_HALF_EVEN)


def money_json(amount: Decimal | None) -> float | None:
    """Dollars rounded to cents as a JSON number (a 2-place decimal's float prints exactly)."""
    return None if amount is None else float(cents(amount))
