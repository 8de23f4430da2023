"""VIX fallback over a fake yfinance-shaped object (never the network)."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import numpy as np
import pandas as pd
import pytest

from shared.clock import ManualClock
from shared.external_price_feed import YahooVixFeed

NOW = datetime(2026, 3, 2, 15, 30, tzinfo=UTC)


def bars(closes: list[float], last_at: datetime) -> pd.DataFrame:
    index = pd.DatetimeIndex(
        [last_at - timedelta(minutes=len(closes) - 1 - i) for i in range(len(closes))]
    ).tz_convert("America/New_York")
    return pd.DataFrame({"Close": closes}, index=index)


class FakeTicker:
    def __init__(self, owner: FakeYf) -> None:
        self._owner = owner

    def history(self, **kwargs: Any) -> pd.DataFrame:
        self._owner.history_calls += 1
        if isinstance(self._owner.history_result, Exception):
            raise self._owner.history_result
        return self._owner.history_result


class FakeYf:
    def __init__(self, history: pd.DataFrame | Exception, download: pd.DataFrame | None = None):
        self.history_result = history
        self.download_result = download if download is not None else pd.DataFrame()
        self.history_calls = 0
        self.download_calls = 0

    def Ticker(self, symbol: str) -> FakeTicker:
        assert symbol == "^VIX"
        return FakeTicker(self)

    def download(self, symbol: str, **kwargs: Any) -> pd.DataFrame:
        self.download_calls += 1
        return self.download_result


def feed(fake: FakeYf, clock: ManualClock | None = None) -> YahooVixFeed:
    return YahooVixFeed(clock=clock or ManualClock(NOW), yf=fake)


def test_last_close_of_history_is_the_vix() -> None:
    fake = FakeYf(bars([17.0, 17.5, 18.25], NOW - timedelta(minutes=1)))

    price = feed(fake).vix()

    assert price is not None
    assert price.value == Decimal("18.25")
    assert price.as_of == NOW - timedelta(minutes=1)


def test_history_exception_falls_back_to_download() -> None:
    multi = bars([19.5], NOW)
    multi.columns = pd.MultiIndex.from_tuples([("Close", "^VIX")])
    fake = FakeYf(ConnectionError("dns"), download=multi)

    price = feed(fake).vix()

    assert price is not None and price.value == Decimal("19.5") and price.source == "yahoo:download"


def test_offline_history_raise_and_empty_download_give_none(
    caplog: pytest.LogCaptureFixture,
) -> None:
    fake = FakeYf(ConnectionError("dns"), download=pd.DataFrame())
    caplog.set_level(logging.WARNING)

    assert feed(fake).vix() is None
    assert any("vix_fallback_empty how=download" in r.getMessage() for r in caplog.records)


def test_trailing_nan_bars_are_skipped() -> None:
    fake = FakeYf(bars([18.0, np.nan, np.nan], NOW))

    price = feed(fake).vix()

    assert price is not None and price.value == Decimal("18.0")


def test_all_nan_gives_none() -> None:
    assert feed(FakeYf(bars([np.nan, np.nan], NOW))).vix() is None


def test_stale_last_bar_gives_none() -> None:
    fake = FakeYf(bars([18.0], NOW - timedelta(hours=20)))

    assert feed(fake).vix() is None


def test_answers_are_cached_for_60_seconds() -> None:
    clock = ManualClock(NOW)
    fake = FakeYf(bars([18.0], NOW))
    vix = feed(fake, clock)

    vix.vix()
    clock.advance(timedelta(seconds=59))
    vix.vix()
    assert fake.history_calls == 1
    clock.advance(timedelta(seconds=2))
    vix.vix()
    assert fake.history_calls == 2


def test_start_up_builds_the_yahoo_fallback_only_when_the_config_turns_it_on() -> None:
    from types import SimpleNamespace

    from shared.external_price_feed import vix_fallback_for

    clock = ManualClock(NOW)
    on = vix_fallback_for(SimpleNamespace(vix_fallback_yahoo=True), clock=clock)
    off = vix_fallback_for(SimpleNamespace(vix_fallback_yahoo=False), clock=clock)
    absent = vix_fallback_for(SimpleNamespace(), clock=clock)

    assert isinstance(on, YahooVixFeed)
    assert off is None and absent is None
