"""Small parsers for the iron fly's saved state: Decimals as strings, UTC ISO datetimes, dates.

Each raises ValueError naming the field, so a corrupt saved state is reported, never guessed.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any


def dec(value: Any, name: str) -> Decimal:
    """`value` (a string or int) as a finite Decimal."""
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise ValueError(f"{name}: expected a decimal string, got {value!r}")
    try:
        number = Decimal(value)
    except InvalidOperation:
        raise ValueError(f"{name}: not a number: {value!r}") from None
    if not number.is_finite():
        raise ValueError(f"{name}: not finite: {value!r}")
    return number


def opt_dec(value: Any, name: str) -> Decimal | None:
    return None if value is None else dec(value, name)


def opt_str(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def parse_utc(value: Any, name: str) -> datetime:
    """An ISO datetime with an offset, returned in UTC; naive values are refused."""
    if not isinstance(value, str):
        raise ValueError(f"{name}: expected an ISO datetime string, got {value!r}")
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{name}: not an ISO datetime: {value!r}") from None
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{name}: datetime without a time zone: {value!r}")
    return moment.astimezone(UTC)


def opt_utc(value: Any, name: str) -> datetime | None:
    return None if value is None else parse_utc(value, name)


def parse_date(value: Any, name: str) -> date:
    if not isinstance(value, str):
        raise ValueError(f"{name}: expected an ISO date string, got {value!r}")
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{name}: not an ISO date: {value!r}") from None
