"""The shared argparse validators: accepted values and errors that name the problem."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime, timedelta

import pytest

from shared.cli.arg_types import aware_datetime, datetime_or_day_at, float_in, int_in
from shared.cli.demo_cmd import DEFAULT_START
from shared.market_hours import NY


def test_aware_datetime_accepts_z_and_offsets() -> None:
    assert aware_datetime("2026-03-02T14:30:00Z") == datetime(2026, 3, 2, 14, 30, tzinfo=UTC)
    parsed = aware_datetime("2026-03-02T09:30:00-05:00")
    assert parsed.utcoffset() == timedelta(hours=-5)


@pytest.mark.parametrize(("raw", "message"), [("2026-03-02T09:30", "UTC offset"),
                                              ("tomorrow", "not an ISO-8601")])
def test_aware_datetime_refuses_naive_or_garbage(raw: str, message: str) -> None:
    with pytest.raises(argparse.ArgumentTypeError, match=message):
        aware_datetime(raw)


def test_a_bare_date_is_refused_with_an_example_that_is_accepted() -> None:
    with pytest.raises(argparse.ArgumentTypeError) as caught:
        aware_datetime("2026-03-02")

    suggestion = str(caught.value).split("e.g. ")[1]
    assert aware_datetime(suggestion) == datetime(2026, 3, 2, 14, 25, tzinfo=UTC)


def test_the_demo_start_takes_a_bare_date_as_that_days_pre_open() -> None:
    demo_start = datetime_or_day_at(DEFAULT_START.time(), NY)

    assert demo_start("2026-03-03") == datetime(2026, 3, 3, 9, 25, tzinfo=NY)
    assert demo_start("2026-03-03T14:00:00Z") == datetime(2026, 3, 3, 14, 0, tzinfo=UTC)


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
