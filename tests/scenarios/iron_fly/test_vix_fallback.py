"""Risk 10 of issue 12: when Saxo's VIX disappears (the simulator answers `NoAccess` and the
stream sends no more VIX prices), the runtime's VIX comes from the Yahoo fallback, its source
and age are logged, and the fly still enters on it. Before this fix nothing passed the
fallback to the runtime and the day was skipped for want of a VIX level.

Yahoo's side is a fake of the `yfinance` module injected into the real `YahooVixFeed`:
yfinance fetches over curl_cffi, which `responses` cannot intercept, and no test touches the
network."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import time as clock_time
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pandas as pd
import pytest

from shared.external_price_feed import YahooVixFeed
from shared.saxo_sim.rate_limits import openapi_calls
from tests.scenarios.iron_fly.harness import VIX, Day, read_journal

YAHOO_VIX = 16.5
EARLY_START = clock_time(9, 27)


class YahooAtSimTime:
    """yfinance-shaped: `Ticker("^VIX").history()` gives one-minute closes ending a minute
    before the simulator's now, VIX at YAHOO_VIX; counts its calls."""

    def __init__(self, day: Day) -> None:
        self._day = day
        self.calls = 0

    def Ticker(self, symbol: str) -> YahooAtSimTime:  # yfinance spells it so
        assert symbol == "^VIX"
        return self

    def history(self, **_: Any) -> pd.DataFrame:
        self.calls += 1
        last = self._day.now() - timedelta(minutes=1)
        index = pd.DatetimeIndex([last - timedelta(minutes=1), last])
        return pd.DataFrame({"Close": [YAHOO_VIX - 0.5, YAHOO_VIX]}, index=index)


def test_saxo_vix_gone_the_fly_enters_on_the_yahoo_vix(
    make_day: Callable[..., Day], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="shared.runtime.snapshot")
    day = make_day(start=EARLY_START)  # a slow start-up on a busy machine still beats 09:30
    day.control("POST", "/market/unpriced", {"symbol": VIX, "unpriced": True})
    yahoo = YahooAtSimTime(day)
    clock = day.server.state.clock
    bot = day.bot(vix_fallback=YahooVixFeed(clock=clock, yf=yahoo),
                  strategy={"vix_fallback_yahoo": True})
    day.calm_range(bot)
    bot.wait_state("in_position", timeout_s=60)
    assert bot.stop() == 0

    (enter,) = read_journal(day.home).range_rows("ENTER")
    assert Decimal(enter["current_vix"]) == Decimal(str(YAHOO_VIX))
    assert Decimal(enter["opening_vix"]) == Decimal(str(YAHOO_VIX))
    assert yahoo.calls > 0
    assert openapi_calls(day.stats()["routes"]) > 0
    sources = [r.getMessage() for r in caplog.records if r.getMessage().startswith("vix_source")]
    yahoo_lines = [line for line in sources if "source=yahoo:history" in line]
    assert yahoo_lines, sources
    age_s = float(yahoo_lines[0].split("age_s=")[1].split()[0])
    assert 30 <= age_s <= 120, yahoo_lines[0]  # the bar is a minute old, cached up to 60 s
