"""The demo's default day lets every bot enter on day one and none in the warm-up, on the
simulator's own market path (the model the demo serves, same seed and anchor day), with each
bot's own gate functions and example config: a change to the market model or the calendar that
breaks the demo fails here, naming the gate, before the slow end-to-end run."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bots.delta_neutral import rules as dn_rules
from bots.rolling_put_diagonal import market_view as rpd_view
from bots.rolling_put_diagonal import rules as rpd_rules
from shared import market_hours, paths
from shared.cli.demo_cmd import DEFAULT_SEED, DEFAULT_SPEED, DEFAULT_START
from shared.config_loader import load_bot_config
from shared.demo.orchestrator import DemoOptions, first_day_start, warm_up_start
from shared.event_calendar import EventCalendar
from shared.saxo_sim.instruments import QQQ_UIC, US500_UIC, VIX_UIC, InstrumentCatalog
from shared.saxo_sim.market_model import MarketModel
from shared.saxo_sim.sim_clock import SimClock
from shared.strategy_contract import Bar

NY = ZoneInfo("America/New_York")
OPTIONS = DemoOptions(seed=DEFAULT_SEED, days=1, speed=DEFAULT_SPEED, bots=(),
                      start=DEFAULT_START)  # fmt: skip
FIRST_DAY = first_day_start(DEFAULT_START).astimezone(NY).date()
WARM_UP_DAY = warm_up_start(OPTIONS).astimezone(NY).date()
CALENDAR = EventCalendar()


def _strategy_config(bot: str) -> Any:
    return load_bot_config(bot, paths.bot_example_config_path(bot)).config.strategy


@pytest.fixture(scope="module")
def market() -> tuple[MarketModel, SimClock]:
    clock = SimClock(warm_up_start(OPTIONS), 1.0)
    return MarketModel(DEFAULT_SEED, clock, InstrumentCatalog(DEFAULT_SEED)), clock


def _at(day: date, hour: int, minute: int) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=NY)


def _rpd_blockers(market: tuple[MarketModel, SimClock], day: date) -> list[str]:
    """The Put Diagonal's entry blockers at 09:40 ET on `day` (daily bars as it reads them)."""
    model, clock = market
    cfg = _strategy_config("rolling_put_diagonal")
    now = _at(day, 9, 40)
    clock.set(now)
    served = model.bars(QQQ_UIC, 1440, rpd_view.DAILY_BARS, now)
    bars = rpd_view.completed_bars(
        tuple(Bar(b.time, b.open, b.high, b.low, b.close) for b in served), day
    )
    session = market_hours.session(day)
    assert session is not None
    inputs = rpd_rules.EntryInputs(
        now_et=now, session_open_et=session.open.time(),
        price=Decimal(str(round(model.spot(QQQ_UIC, now), 2))),
        previous_close=Decimal(str(bars[-1].close)),
        indicators=rpd_rules.indicators(bars, rpd_view.indicator_settings(cfg)),
        event_within_blackout=rpd_view.event_within_blackout(cfg, CALENDAR, day),
    )  # fmt: skip
    return rpd_rules.entry_blockers(inputs, rpd_view.entry_rules(cfg))


def _dn_block(model: MarketModel, day: date) -> str | None:
    cfg = _strategy_config("delta_neutral")
    vix = Decimal(str(round(model.spot(VIX_UIC, _at(day, 9, 40)), 2)))
    fomc = CALENDAR.next_event(day - timedelta(days=1), "fomc_decision")
    return dn_rules.straddle_entry_block(
        vix=vix, max_vix_entry=cfg.max_vix_entry, today=day,
        next_fomc_decision=None if fomc is None else fomc.day,
        fomc_blackout_days=cfg.fomc_blackout_days,
    )  # fmt: skip


def test_the_warm_up_session_is_the_trading_day_before_the_first(
    market: tuple[MarketModel, SimClock],
) -> None:
    assert date(2026, 3, 19) == FIRST_DAY
    assert market_hours.previous_session(FIRST_DAY, "index_options").day == WARM_UP_DAY
    assert market[0].anchor_day == WARM_UP_DAY  # the path the demo serves


def test_every_bots_entry_gates_pass_on_the_first_day(
    market: tuple[MarketModel, SimClock],
) -> None:
    model, _ = market
    assert _rpd_blockers(market, FIRST_DAY) == []
    assert _dn_block(model, FIRST_DAY) is None
    # The iron fly: a plain day (no FOMC or data release), VIX under its limit, no VIX spike
    # and SPX near the middle of its 09:30-10:00 opening range at the 10:00 ET entry.
    fly = _strategy_config("iron_fly_0dte")
    assert not CALENDAR.events_on(FIRST_DAY)
    assert not market_hours.session(FIRST_DAY).early_close  # type: ignore[union-attr]
    moments = [_at(FIRST_DAY, 9, 30) + timedelta(seconds=5 * k) for k in range(361)]
    spx = [model.spot(US500_UIC, moment) for moment in moments]
    vix = [model.spot(VIX_UIC, moment) for moment in moments]
    assert max(vix) < fly.max_vix_entry
    assert (max(vix) - vix[0]) / vix[0] * 100 < fly.max_vix_spike_percent
    half_range = (max(spx) - min(spx)) / 2
    midpoint = (max(spx) + min(spx)) / 2
    assert abs(spx[-1] - midpoint) <= half_range * fly.midpoint_tolerance_percent / 100


def test_the_holding_bots_gates_are_shut_in_the_warm_up(
    market: tuple[MarketModel, SimClock],
) -> None:
    # The warm-up session is an FOMC decision day: both bots' FOMC blackouts hold.
    assert any(e.kind == "fomc_decision" for e in CALENDAR.events_on(WARM_UP_DAY))
    assert "fomc" in (_dn_block(market[0], WARM_UP_DAY) or "")
    assert any("event within the blackout" in b for b in _rpd_blockers(market, WARM_UP_DAY))
