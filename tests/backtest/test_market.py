"""The backtest market's underlyings: SPY as SPX / 10, QQQ from the NASDAQ Composite scaled by
the ratio of their 2018-12-31 closes, with option chains and daily bars; QQQ only on days the
history has NASDAQ data."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal

import numpy as np

from shared.backtest.history import DailyBar
from shared.backtest.market import QQQ_PER_COMPOSITE, HistoricalModel, MarketData
from shared.backtest.paths import DayTicks
from shared.market_hours import session
from shared.saxo_sim.instruments import QQQ_UIC, SPY_UIC, US500_UIC
from shared.strategy_contract import DataRequest, InstrumentRef

DAY = date(2015, 1, 6)
SPX, NASDAQ = 2000.0, 4600.0


def _flat(level: float) -> DayTicks:
    return DayTicks(DAY, np.full((390, 4), level))


def _market(with_nasdaq: bool) -> MarketData:
    opened = session(DAY, "index_options")
    assert opened is not None
    model = HistoricalModel(seed=1)
    model.load_day(_flat(SPX), opened.open, 15.0, _flat(NASDAQ) if with_nasdaq else None)
    model.now_at = opened.open + timedelta(hours=1)
    market = MarketData(model)
    market.new_day(DAY)
    previous = DailyBar(date(2015, 1, 5), 4500.0, 4700.0, 4400.0, 4650.0)
    market.set_previous_bars((), (previous,))
    return market


def test_spy_and_qqq_quotes_chains_and_bars_follow_their_indices() -> None:
    market = _market(with_nasdaq=True)
    quotes = market.quotes([SPY_UIC, QQQ_UIC], "Etf")
    assert quotes[SPY_UIC].mid is not None and abs(float(quotes[SPY_UIC].mid) - SPX / 10) < 0.02
    qqq = NASDAQ * QQQ_PER_COMPOSITE  # 106.95
    assert quotes[QQQ_UIC].mid is not None and abs(float(quotes[QQQ_UIC].mid) - qqq) < 0.02
    chain = market.chain("QQQ", date(2015, 1, 9))
    strikes = sorted({float(c.strike) for c in chain.contracts})
    assert chain.underlying_uic == QQQ_UIC and strikes[0] < qqq < strikes[-1]
    assert {c.asset_type for c in chain.contracts} == {"StockOption"}
    option = market.quotes([chain.contracts[len(chain.contracts) // 2].uic], "StockOption")
    assert len(option) == 1
    (bar,) = market.daily_bars(QQQ_UIC, "Etf", 1)
    assert bar.close == Decimal(str(round(4650.0 * QQQ_PER_COMPOSITE, 2)))
    assert bar.time == datetime(2015, 1, 5, 14, 30, tzinfo=bar.time.tzinfo)


def test_without_nasdaq_data_qqq_is_named_as_not_served() -> None:
    market = _market(with_nasdaq=False)
    request = DataRequest(quotes=(InstrumentRef(QQQ_UIC, "Etf"), InstrumentRef(US500_UIC,
                                                                                "StockIndex")))
    assert market.unserved(request) == [f"quotes of uic {QQQ_UIC} (Etf)"]
