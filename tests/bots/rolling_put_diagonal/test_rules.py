"""The put diagonal's pure rules: entry gates, campaign exits, short and long rolls."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from bots.rolling_put_diagonal.rules import (
    CloseReason,
    EntryInputs,
    EntryRules,
    Indicators,
    IndicatorSettings,
    RollKind,
    campaign_close_reason,
    entry_blockers,
    indicators,
    long_roll_up_reason,
    short_roll_due,
    short_roll_kind,
)
from shared.strategy_contract import Bar

NY = ZoneInfo("America/New_York")
RULES = EntryRules(market_open_delay_minutes=3, max_opening_gap_percent=2.0,
                   gap_check_until_et=time(10, 0), min_green_candles_above_ema=2,
                   use_cci_filter=False, cci_overbought=100.0)
BULLISH = Indicators(last_close=500.0, ema=495.0, green_candles_above_ema=3,
                     macd_histogram=0.4, macd_histogram_two_bars_ago=0.1, cci=80.0)


def bars(closes: list[float]) -> tuple[Bar, ...]:
    """Daily bars whose open is the previous close (green when the close rose)."""
    start = datetime(2026, 1, 2, 14, 30, tzinfo=UTC)
    previous = closes[0]
    out = []
    for index, close in enumerate(closes):
        high, low = max(previous, close) + 0.5, min(previous, close) - 0.5
        out.append(Bar(start + timedelta(days=index), previous, high, low, close))
        previous = close
    return tuple(out)


def inputs(**changes: object) -> EntryInputs:
    values: dict[str, object] = {
        "now_et": datetime(2026, 3, 3, 10, 30, tzinfo=NY), "session_open_et": time(9, 30),
        "price": Decimal("500"), "previous_close": Decimal("499"), "indicators": BULLISH,
        "event_within_blackout": None,
    }
    values.update(changes)
    return EntryInputs(**values)  # type: ignore[arg-type]


def test_an_accelerating_uptrend_gives_indicators_that_allow_an_entry() -> None:
    result = indicators(bars([400 + 0.02 * i * i for i in range(60)]), IndicatorSettings())

    assert result is not None
    assert result.last_close > result.ema and result.green_candles_above_ema >= 2
    assert entry_blockers(inputs(indicators=result), RULES) == []


def test_a_downtrend_blocks_the_entry_on_ema_candles_and_macd() -> None:
    result = indicators(bars([500 - 1.5 * i for i in range(60)]), IndicatorSettings())

    blockers = entry_blockers(inputs(indicators=result), RULES)

    assert any("green candles" in b for b in blockers)
    assert any("not above the EMA" in b for b in blockers)


def test_too_few_bars_give_no_indicators_and_block_the_entry() -> None:
    assert indicators(bars([400.0] * 20), IndicatorSettings()) is None
    assert "indicators not available" in entry_blockers(inputs(indicators=None), RULES)[0]


@pytest.mark.parametrize(
    ("changes", "blocker"),
    [
        ({"now_et": datetime(2026, 3, 3, 9, 32, tzinfo=NY)}, "open delay"),
        ({"price": None}, "no usable QQQ price"),
        ({"price": Decimal("510.00"), "now_et": datetime(2026, 3, 3, 9, 45, tzinfo=NY)},
         "opening gap 2.20%"),
        ({"event_within_blackout": "FOMC 2026-03-18"}, "event within the blackout"),
        ({"indicators": Indicators(500.0, 495.0, 3, -0.2, -0.1, 80.0)}, "MACD"),
    ],
)
def test_each_entry_gate_blocks_alone(changes: dict[str, object], blocker: str) -> None:
    blockers = entry_blockers(inputs(**changes), RULES)

    assert len(blockers) == 1 and blocker in blockers[0]


def test_the_gap_check_ends_at_ten_and_the_cci_filter_is_optional() -> None:
    after_ten = inputs(price=Decimal("510.00"), now_et=datetime(2026, 3, 3, 10, 1, tzinfo=NY))
    hot = inputs(indicators=Indicators(500.0, 495.0, 3, 0.4, 0.1, 150.0))

    assert entry_blockers(after_ten, RULES) == []
    assert entry_blockers(hot, RULES) == []
    cci_on = EntryRules(**{**RULES.__dict__, "use_cci_filter": True})
    assert "CCI 150 above 100" in entry_blockers(hot, cci_on)[0]


def test_campaign_exits_fire_in_priority_order() -> None:
    below_ema = Indicators(480.0, 490.0, 0, -0.1, 0.0, -50.0)
    common = {"campaign_close_dte": 2, "max_loss_usd": Decimal("500"), "indicators": below_ema}

    assert campaign_close_reason(long_dte=2, event_within_blackout="FOMC",
                                 unrealized_pnl_usd=Decimal("-900"), **common) \
        == CloseReason.LONG_EXPIRING
    assert campaign_close_reason(long_dte=9, event_within_blackout="FOMC",
                                 unrealized_pnl_usd=Decimal("-900"), **common) == CloseReason.EVENT
    assert campaign_close_reason(long_dte=9, event_within_blackout=None,
                                 unrealized_pnl_usd=Decimal("-500"), **common) \
        == CloseReason.MAX_LOSS
    assert campaign_close_reason(long_dte=9, event_within_blackout=None,
                                 unrealized_pnl_usd=None, **common) == CloseReason.CLOSE_BELOW_EMA
    assert campaign_close_reason(long_dte=9, event_within_blackout=None,
                                 unrealized_pnl_usd=Decimal("-100"), campaign_close_dte=2,
                                 max_loss_usd=Decimal("500"), indicators=BULLISH) is None


def test_the_short_rolls_vertically_at_or_above_its_strike_else_horizontally() -> None:
    assert short_roll_kind(Decimal("500"), Decimal("500")) == RollKind.VERTICAL
    assert short_roll_kind(Decimal("499.99"), Decimal("500")) == RollKind.HORIZONTAL


def test_the_short_rolls_exactly_once_per_trading_day_over_a_week() -> None:
    last_roll: date | None = None
    rolls: list[date] = []
    expiry = date(2026, 3, 2)  # the first short expires Monday
    for day in range(2, 7):  # Monday to Friday
        for minute in range(0, 390, 5):  # every pass of the session
            now = datetime(2026, 3, day, 9, 30, tzinfo=NY) + timedelta(minutes=minute)
            if short_roll_due(now_et=now, roll_time_et=time(12, 0), last_roll_day=last_roll,
                              short_expiry=expiry):
                rolls.append(now.date())
                last_roll = now.date()
                expiry = now.date() + timedelta(days=1)  # the new short has 1 DTE

    assert rolls == [date(2026, 3, day) for day in range(2, 7)]


def test_the_long_rolls_up_on_delta_or_margin_and_never_on_missing_data() -> None:
    common = {"roll_delta_threshold": -0.20, "roll_margin_usd": Decimal("1200")}

    assert "delta -0.15" in (long_roll_up_reason(long_delta=-0.15, margin_used_usd=None, **common)
                             or "")
    assert "margin used 1200" in (long_roll_up_reason(long_delta=-0.30,
                                                      margin_used_usd=Decimal("1200"), **common)
                                  or "")
    assert long_roll_up_reason(long_delta=None, margin_used_usd=None, **common) is None
    assert long_roll_up_reason(long_delta=-0.30, margin_used_usd=Decimal("5000"),
                               roll_delta_threshold=-0.20, roll_margin_usd=Decimal(0)) is None
