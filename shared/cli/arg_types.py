"""argparse `type=` validators shared by the `calypso` subcommands; errors name the bad value."""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable
from datetime import date, datetime, time, tzinfo


def _is_bare_date(raw: str) -> bool:
    try:
        date.fromisoformat(raw)
    except ValueError:
        return False
    return True


def aware_datetime(raw: str) -> datetime:
    """An ISO 8601 datetime that carries a UTC offset (`Z` accepted); naive times and bare
    dates are refused with an example that would be accepted."""
    if _is_bare_date(raw):
        raise argparse.ArgumentTypeError(
            f"{raw!r} is a date without a time; give e.g. {raw}T09:25:00-05:00"
        )
    try:
        value = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an ISO-8601 datetime: {raw!r}") from None
    if value.tzinfo is None:
        raise argparse.ArgumentTypeError(f"needs a UTC offset, e.g. {raw}Z or {raw}-05:00")
    return value


def datetime_or_day_at(default_time: time, zone: tzinfo) -> Callable[[str], datetime]:
    """Like `aware_datetime`, but a bare date `YYYY-MM-DD` means `default_time` in `zone` on
    that day (e.g. the demo's 09:25 New York pre-open)."""

    def parse(raw: str) -> datetime:
        if _is_bare_date(raw):
            return datetime.combine(date.fromisoformat(raw), default_time, tzinfo=zone)
        return aware_datetime(raw)

    return parse


def float_in(
    low: float, high: float = math.inf, *, low_inclusive: bool = False
) -> Callable[[str], float]:
    """A validator for a finite number in (low, high] (or [low, high] with `low_inclusive`)."""

    def parse(raw: str) -> float:
        try:
            value = float(raw)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a number: {raw!r}") from None
        above = value >= low if low_inclusive else value > low
        if not (math.isfinite(value) and above and value <= high):
            bracket = "[" if low_inclusive else "("
            upper = "" if math.isinf(high) else f"{high:g}"
            raise argparse.ArgumentTypeError(
                f"must be within {bracket}{low:g}, {upper or 'inf'}], got {raw}"
            )
        return value

    return parse


def int_in(low: int, high: int, *, what: str = "whole number") -> Callable[[str], int]:
    """A validator for an integer in [low, high]; `what` names it in the error."""

    def parse(raw: str) -> int:
        try:
            value = int(raw)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a {what}: {raw!r}") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"must be within {low}..{high}, got {value}")
        return value

    return parse
