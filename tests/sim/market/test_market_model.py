"""MarketModel: deterministic, chained, correlated paths with a U-shaped intraday vol."""

from __future__ import annotations

import itertools
import math
import random
from datetime import date, timedelta
from functools import partial

import numpy as np
import pytest

from shared import market_hours
from shared.saxo_sim.instruments import QQQ_UIC, SPY_UIC, US500_UIC, VIX_UIC
from tests.sim.market.factory import build_market, ny

UNDERLYINGS = (US500_UIC, VIX_UIC, SPY_UIC, QQQ_UIC)


def _minute_returns(uic: int, days: list[date], start_minute: int, end_minute: int) -> np.ndarray:
    """Log returns between consecutive minutes [start, end) after the 09:30 open, all days."""
    model = build_market().model
    out = []
    for day in days:
        opens = ny(day.year, day.month, day.day, 9, 30)
        levels = [model.spot(uic, opens + timedelta(minutes=m))
                  for m in range(start_minute, end_minute + 1)]
        out.append(np.diff(np.log(levels)))
    return np.concatenate(out)


def test_spx_opens_at_the_documented_level_on_the_anchor_day() -> None:
    market = build_market()
    assert market.model.anchor_day == date(2026, 3, 2)
    assert market.model.spot(US500_UIC, ny(2026, 3, 2, 9, 30)) == pytest.approx(6000.0)
    assert market.model.vix(ny(2026, 3, 2, 9, 30)) == pytest.approx(16.0)


def test_same_seed_same_prices_whatever_the_sampling_order() -> None:
    times = [ny(2026, 3, 2, 9, 30) + timedelta(seconds=s) for s in range(0, 3 * 86400, 997)]
    first = build_market().model
    expected = {(u, t): first.spot(u, t) for t in times for u in UNDERLYINGS}
    second = build_market().model
    keys = list(expected)
    random.Random(1).shuffle(keys)
    assert {k: second.spot(*k) for k in keys} == expected


def test_different_seed_different_prices() -> None:
    at = ny(2026, 3, 3, 11, 0)
    assert build_market(seed=7).model.spot(US500_UIC, at) != build_market(seed=8).model.spot(
        US500_UIC, at
    )


def test_spot_defaults_to_the_clock_now() -> None:
    market = build_market()
    market.advance_sim(timedelta(minutes=42))
    assert market.model.spot(SPY_UIC) == market.model.spot(SPY_UIC, ny(2026, 3, 2, 10, 7))


def test_days_chain_pre_open_shows_previous_close_then_the_gap_at_the_open() -> None:
    model = build_market().model
    close = model.spot(US500_UIC, ny(2026, 3, 2, 16, 15))
    assert model.spot(US500_UIC, ny(2026, 3, 3, 9, 29, 59)) == close
    assert model.spot(US500_UIC, ny(2026, 3, 2, 20, 0)) == close
    assert model.spot(US500_UIC, ny(2026, 3, 3, 9, 30)) != close


def test_spy_and_qqq_freeze_at_the_nyse_close() -> None:
    model = build_market().model
    for uic in (SPY_UIC, QQQ_UIC):
        assert model.spot(uic, ny(2026, 3, 2, 16, 10)) == model.spot(uic, ny(2026, 3, 2, 16, 0))
    spx_late = model.spot(US500_UIC, ny(2026, 3, 2, 16, 10))
    assert spx_late != model.spot(US500_UIC, ny(2026, 3, 2, 16))


def test_spy_tracks_a_tenth_of_spx() -> None:
    model = build_market().model
    for minute in range(0, 390, 13):
        at = ny(2026, 3, 4, 9, 30) + timedelta(minutes=minute)
        assert model.spot(SPY_UIC, at) == pytest.approx(model.spot(US500_UIC, at) / 10, rel=2e-3)


def test_qqq_is_strongly_but_not_perfectly_correlated_with_spx() -> None:
    days = market_hours.trading_days_between(date(2026, 3, 2), date(2026, 3, 13))
    spx = _minute_returns(US500_UIC, days, 0, 390)
    qqq = _minute_returns(QQQ_UIC, days, 0, 390)
    assert 0.75 < np.corrcoef(spx, qqq)[0, 1] < 0.93


def test_vix_moves_against_spx_minute_by_minute() -> None:
    days = market_hours.trading_days_between(date(2026, 3, 2), date(2026, 3, 13))
    spx = _minute_returns(US500_UIC, days, 0, 405)
    vix = _minute_returns(VIX_UIC, days, 0, 405)
    assert np.corrcoef(spx, vix)[0, 1] < -0.5


def test_vix_moves_against_spx_day_by_day_over_two_years() -> None:
    model = build_market().model
    spx = [b.close for b in model.bars(US500_UIC, 1440, 500, ny(2026, 3, 2, 9, 25))]
    vix = [b.close for b in model.bars(VIX_UIC, 1440, 500, ny(2026, 3, 2, 9, 25))]
    correlation = np.corrcoef(np.diff(np.log(spx)), np.diff(np.log(vix)))[0, 1]
    assert correlation < -0.5
    assert min(vix) > 9 and max(vix) < 80  # mean-reverting, stays in a sane range


def test_intraday_volatility_is_u_shaped() -> None:
    days = market_hours.trading_days_between(date(2026, 3, 2), date(2026, 4, 10))
    first = np.abs(_minute_returns(US500_UIC, days, 0, 30)).mean()
    midday = np.abs(_minute_returns(US500_UIC, days, 150, 240)).mean()
    last = np.abs(_minute_returns(US500_UIC, days, 375, 405)).mean()
    assert first > 1.2 * midday
    assert last > 1.1 * midday


def test_intraday_volatility_level_follows_vix() -> None:
    # SPX realised vol is 0.85 * VIX: over two weeks of minutes it lands near that, annualised.
    days = market_hours.trading_days_between(date(2026, 3, 2), date(2026, 3, 27))
    model = build_market().model
    returns = _minute_returns(US500_UIC, days, 0, 405)
    realised = math.sqrt(np.sum(returns**2) / len(days) * 252)
    mean_vix = np.mean([model.vix(ny(d.year, d.month, d.day, 12)) for d in days]) / 100
    assert 0.55 * mean_vix < realised < 1.2 * mean_vix


def test_script_move_reaches_the_target_on_time() -> None:
    market = build_market()
    market.go_to(ny(2026, 3, 2, 10, 19))
    start = market.model.spot(US500_UIC)
    market.model.script_move(US500_UIC, start + 40, over_seconds=60)
    market.advance_sim(timedelta(seconds=30))
    halfway = market.model.spot(US500_UIC)
    market.advance_sim(timedelta(seconds=30))
    assert market.model.spot(US500_UIC) == pytest.approx(start + 40, abs=1e-6)
    assert start + 10 < halfway < start + 30


def test_script_move_keeps_history_and_carries_spy() -> None:
    market = build_market()
    before = market.model.spot(US500_UIC, ny(2026, 3, 2, 10, 0))
    market.go_to(ny(2026, 3, 2, 11, 0))
    spy_before = market.model.spot(SPY_UIC)
    market.model.script_move(US500_UIC, market.model.spot(US500_UIC) * 1.02, over_seconds=10)
    market.advance_sim(timedelta(seconds=10))
    assert market.model.spot(US500_UIC, ny(2026, 3, 2, 10, 0)) == before
    assert market.model.spot(SPY_UIC) == pytest.approx(spy_before * 1.02, rel=2e-3)


def test_pin_holds_vix_and_release_continues_from_there() -> None:
    market = build_market()
    market.go_to(ny(2026, 3, 2, 10, 0))
    market.model.pin(VIX_UIC, 23.0)
    market.advance_sim(timedelta(minutes=20))
    assert market.model.vix() == 23.0
    market.model.pin(VIX_UIC, None)
    assert market.model.vix() == pytest.approx(23.0)
    market.advance_sim(timedelta(minutes=5))
    assert market.model.vix() != 23.0
    assert 18 < market.model.vix() < 28


def test_overlay_rejects_bad_input() -> None:
    model = build_market().model
    with pytest.raises(ValueError, match="target"):
        model.script_move(US500_UIC, -5, 60)
    with pytest.raises(ValueError, match="unknown underlying uic 1"):
        model.pin(1, 10.0)


def test_reference_price_is_the_days_open() -> None:
    model = build_market().model
    day = date(2026, 3, 4)
    assert model.reference_price(SPY_UIC, day) == model.spot(SPY_UIC, ny(2026, 3, 4, 9, 30))


def test_market_open_follows_each_venue() -> None:
    model = build_market().model
    at = ny(2026, 3, 2, 16, 5)
    assert model.market_open(US500_UIC, at) is True
    assert model.market_open(SPY_UIC, at) is False


def test_daily_bars_reach_back_400_days_and_end_with_the_current_level() -> None:
    market = build_market()
    market.go_to(ny(2026, 3, 2, 14, 0))
    bars = market.model.bars(SPY_UIC, 1440, 400, market.clock.now())
    assert len(bars) == 400
    assert bars[-1].time.date() == date(2026, 3, 2) and bars[-1].time.hour == 0
    assert bars[-1].close == market.model.spot(SPY_UIC)
    assert all(b.low <= min(b.open, b.close) <= max(b.open, b.close) <= b.high for b in bars)
    assert all(a.time < b.time for a, b in itertools.pairwise(bars))


def test_minute_bars_agree_with_sampled_levels() -> None:
    market = build_market()
    market.go_to(ny(2026, 3, 2, 11, 0, 30))
    bars = market.model.bars(US500_UIC, 1, 60, market.clock.now())
    assert len(bars) == 60
    bar = bars[-2]  # 10:59 ET
    assert bar.time == ny(2026, 3, 2, 10, 59)
    # Bars exponentiate the path with numpy's vectorized exp, `spot` with math.exp: the two
    # may differ in the last bit depending on the numpy build and CPU, so compare to 1e-12.
    same = partial(pytest.approx, rel=1e-12)
    assert bar.open == same(market.model.spot(US500_UIC, bar.time))
    assert bar.close == same(market.model.spot(US500_UIC, bar.time + timedelta(seconds=59)))
    levels = [market.model.spot(US500_UIC, bar.time + timedelta(seconds=s)) for s in range(60)]
    assert (bar.high, bar.low) == (same(max(levels)), same(min(levels)))


def test_minute_bars_span_previous_sessions_and_never_the_future() -> None:
    market = build_market()
    market.go_to(ny(2026, 3, 2, 9, 40))
    bars = market.model.bars(QQQ_UIC, 5, 100, ny(2026, 3, 9, 12, 0))
    assert bars[-1].time == ny(2026, 3, 2, 9, 40)
    assert bars[-3].time == ny(2026, 3, 2, 9, 30)
    assert bars[-4].time == ny(2026, 2, 27, 15, 55)  # Friday's last bar holds the 16:00 close
    assert bars[-4].close == market.model.spot(QQQ_UIC, ny(2026, 2, 27, 16, 0))
    assert bars[-4].volume > 0


def test_bars_reject_unsupported_horizon() -> None:
    with pytest.raises(ValueError, match="horizon 7"):
        build_market().model.bars(US500_UIC, 7, 10, ny(2026, 3, 2, 12))
