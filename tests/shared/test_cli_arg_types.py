"""The shared argparse validators: accepted values and errors that name the problem."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime, timedelta

import pytest

from shared.cli.arg_types import aware_datetime, float_in, int_in


def test_aware_datetime_accepts_z_and_offsets() -> None:
    assert aware_datetime("2026-03-02T14:30:00Z") == datetime(2026, 3, 2, 14, 30, tzinfo=UTC)
    parsed = aware_datetime("2026-03-02T09:30:00-05:00")
    assert parsed.utcoffset() == timedelta(hours=-5)


@pytest.mark.parametrize(("raw", "message"), [("2026-03-02T09:30", "UTC offset"),
                                              ("tomorrow", "not an ISO-8601")])
def test_aware_datetime_refuses_naive_or_garbage(raw: str, message: str) -> None:
    with pytest.raises(argparse.ArgumentTypeError, match=message):
        aware_datetime(raw)


def test_float_in_bounds_are_open_below_and_closed_above() -> None:
    speed = float_in(0, 1000)
    assert speed("1000") == 1000.0
    for bad in ("0", "-1", "1000.5", "nan", "inf"):
        with pytest.raises(argparse.ArgumentTypeError, match="must be within"):
            speed(bad)
    with pytest.raises(argparse.ArgumentTypeError, match="not a number"):
        speed("fast")


def test_int_in_names_what_it_expected() -> None:
    port = int_in(0, 65535, what="port number")
    assert port("0") == 0
    with pytest.raises(argparse.ArgumentTypeError, match="not a port number"):
        port("http")
    with pytest.raises(argparse.ArgumentTypeError, match=r"0\.\.65535"):
        port("70000")
