"""Chart payload parsing (saxo_api.md 2.12): last-traded and bid/ask samples, bad payloads."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from shared.saxo_client.charts import parse_chart, parse_sample
from shared.saxo_client.errors import SaxoPayloadError


def test_last_traded_sample_reads_ohlc_and_volume() -> None:
    bar = parse_sample(
        {"Time": "2026-01-20T00:00:00.000000Z", "Open": 611.2, "High": 615.0, "Low": 609.9,
         "Close": 612.3, "Volume": 41234567}
    )  # fmt: skip

    assert bar.time == datetime(2026, 1, 20, tzinfo=UTC)
    assert (bar.open, bar.high, bar.low, bar.close) == (
        Decimal("611.2"), Decimal("615.0"), Decimal("609.9"), Decimal("612.3"),
    )  # fmt: skip
    assert bar.volume == Decimal(41234567)


def test_bid_ask_sample_is_read_as_the_mid() -> None:
    bar = parse_sample(
        {"Time": "2026-03-02T00:00:00Z", "OpenBid": 5000.0, "OpenAsk": 5000.5,
         "HighBid": 5010.0, "HighAsk": 5010.5, "LowBid": 4990.0, "LowAsk": 4990.5,
         "CloseBid": 5005.0, "CloseAsk": 5005.5}
    )  # fmt: skip

    assert (bar.open, bar.high, bar.low, bar.close) == (
        Decimal("5000.25"), Decimal("5010.25"), Decimal("4990.25"), Decimal("5005.25"),
    )  # fmt: skip
    assert bar.volume is None


def test_samples_come_back_oldest_first_and_absent_data_is_no_samples() -> None:
    body = {"Data": [
        {"Time": "2026-03-03T00:00:00Z", "Open": 2, "High": 2, "Low": 2, "Close": 2},
        {"Time": "2026-03-02T00:00:00Z", "Open": 1, "High": 1, "Low": 1, "Close": 1},
    ], "DataVersion": 5}  # fmt: skip

    assert [b.close for b in parse_chart(body)] == [Decimal(1), Decimal(2)]
    assert parse_chart({"DataVersion": 1}) == []


@pytest.mark.parametrize(
    ("row", "problem"),
    [
        ({"Open": 1, "High": 1, "Low": 1, "Close": 1}, "missing Time"),
        ({"Time": "2026-03-02T00:00:00Z", "Open": 1, "High": 1, "Low": 1}, "neither Close"),
        ({"Time": "2026-03-02T00:00:00Z", "Open": 1, "High": 1, "Close": 1}, "Low: missing"),
        ({"Time": "2026-03-02T00:00:00Z", "Open": 1, "High": 1, "Low": 2, "Close": 1}, "above"),
        ({"Time": "yesterday", "Open": 1, "High": 1, "Low": 1, "Close": 1}, "not an ISO"),
    ],
)
def test_malformed_samples_are_refused_naming_the_field(
    row: dict[str, object], problem: str
) -> None:
    with pytest.raises(SaxoPayloadError, match=problem):
        parse_chart({"Data": [row]})


def test_data_that_is_not_a_list_is_refused() -> None:
    with pytest.raises(SaxoPayloadError, match="Data: expected a list"):
        parse_chart({"Data": {"Time": "x"}})
