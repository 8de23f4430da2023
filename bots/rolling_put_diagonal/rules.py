"""Pure rules of the put diagonal: inputs in, a signal (or the reasons for none) out.

Indicators are computed from completed daily bars of QQQ (oldest first); the exit on the 9 EMA
uses the previous session's close (the last completed bar), never a partial bar of today.
Times are America/New_York session times; prices are QQQ dollars.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal
from enum import StrEnum

import pandas as pd

from shared import technical_indicators as ti
from shared.strategy_contract import Bar


@dataclass(frozen=True)
class Indicators:
    """The daily-bar facts the entry and the EMA exit read (last completed bar)."""

    last_close: float
    ema: float
    green_candles_above_ema: int
    macd_histogram: float
    macd_histogram_two_bars_ago: float
    cci: float

    @property
    def macd_ok(self) -> bool:
        """Histogram positive, or rising over two bars."""
        return self.macd_histogram > 0 or self.macd_histogram > self.macd_histogram_two_bars_ago


@dataclass(frozen=True)
class IndicatorSettings:
    ema_period: int = 9
    macd_fast: int = 12
    macd_slow: int = 26
    macd_signal: int = 9
    cci_period: int = 20

    @property
    def bars_needed(self) -> int:
        """Completed bars before MACD's first valid histogram two bars back."""
        return max(self.macd_slow + self.macd_signal + 1, self.cci_period, self.ema_period) + 1


def indicators(bars: tuple[Bar, ...], settings: IndicatorSettings) -> Indicators | None:
    """The indicators of the last completed bar, or None when there are too few bars (or a
    value is still in its warm-up)."""
    if len(bars) < settings.bars_needed:
        return None
    frame = pd.DataFrame(
        {"open": [b.open for b in bars], "high": [b.high for b in bars],
         "low": [b.low for b in bars], "close": [b.close for b in bars]}
    )
    ema = ti.ema(frame["close"], settings.ema_period)
    macd = ti.macd(frame["close"], settings.macd_fast, settings.macd_slow, settings.macd_signal)
    cci = ti.cci(frame["high"], frame["low"], frame["close"], settings.cci_period)
    histogram = macd["histogram"]
    values = (ema.iloc[-1], histogram.iloc[-1], histogram.iloc[-3], cci.iloc[-1])
    if any(pd.isna(value) for value in values):
        return None
    return Indicators(
        last_close=float(frame["close"].iloc[-1]),
        ema=float(ema.iloc[-1]),
        green_candles_above_ema=ti.green_candles_above_ema(frame["open"], frame["close"], ema),
        macd_histogram=float(histogram.iloc[-1]),
        macd_histogram_two_bars_ago=float(histogram.iloc[-3]),
        cci=float(cci.iloc[-1]),
    )


@dataclass(frozen=True)
class EntryInputs:
    """What the entry rules look at, gathered by the strategy from the snapshot."""

    now_et: datetime  # America/New_York
    session_open_et: time
    price: Decimal | None  # usable QQQ price, None when halted, stale or missing
    previous_close: Decimal | None  # the last completed daily bar's close
    indicators: Indicators | None
    event_within_blackout: str | None  # the event's name, when one is within the blackout


@dataclass(frozen=True)
class EntryRules:
    market_open_delay_minutes: int
    max_opening_gap_percent: float
    gap_check_until_et: time
    min_green_candles_above_ema: int
    use_cci_filter: bool
    cci_overbought: float


def entry_blockers(inputs: EntryInputs, rules: EntryRules) -> list[str]:
    """Why a campaign may not open now (empty: every entry rule of strategies.md 3.3 holds)."""
    blockers: list[str] = []
    now = inputs.now_et
    opened = datetime.combine(now.date(), inputs.session_open_et, tzinfo=now.tzinfo)
    minutes_open = (now - opened).total_seconds() / 60
    if minutes_open < rules.market_open_delay_minutes:
        blockers.append(f"open delay ({rules.market_open_delay_minutes} min after the open)")
    if inputs.price is None:
        blockers.append("no usable QQQ price (halted, stale or missing)")
    elif inputs.previous_close is not None and now.time() < rules.gap_check_until_et:
        gap = abs(inputs.price - inputs.previous_close) / inputs.previous_close * 100
        if gap >= Decimal(str(rules.max_opening_gap_percent)):
            blockers.append(f"opening gap {gap:.2f}% from the previous close")
    if inputs.event_within_blackout is not None:
        blockers.append(f"event within the blackout: {inputs.event_within_blackout}")
    ind = inputs.indicators
    if ind is None:
        blockers.append("indicators not available (too few daily bars)")
        return blockers
    if ind.green_candles_above_ema < rules.min_green_candles_above_ema:
        blockers.append(
            f"{ind.green_candles_above_ema} green candles above the EMA "
            f"(need {rules.min_green_candles_above_ema})"
        )
    if ind.last_close <= ind.ema:
        blockers.append(f"last close {ind.last_close:.2f} not above the EMA {ind.ema:.2f}")
    if not ind.macd_ok:
        blockers.append("MACD histogram neither positive nor rising")
    if rules.use_cci_filter and ind.cci > rules.cci_overbought:
        blockers.append(f"CCI {ind.cci:.0f} above {rules.cci_overbought:g}")
    return blockers


class CloseReason(StrEnum):
    LONG_EXPIRING = "long_expiring"
    EVENT = "event"
    MAX_LOSS = "max_loss"
    CLOSE_BELOW_EMA = "close_below_ema"


def campaign_close_reason(
    *,
    long_dte: int,
    campaign_close_dte: int,
    event_within_blackout: str | None,
    unrealized_pnl_usd: Decimal | None,
    max_loss_usd: Decimal,
    indicators: Indicators | None,
) -> CloseReason | None:
    """The first campaign exit that holds, in the spec's priority order, or None.

    `unrealized_pnl_usd` is the whole campaign's mark from usable quotes (None when it cannot be
    marked: the loss rule then waits, it never guesses); `max_loss_usd` is for the position.
    """
    if long_dte <= campaign_close_dte:
        return CloseReason.LONG_EXPIRING
    if event_within_blackout is not None:
        return CloseReason.EVENT
    if unrealized_pnl_usd is not None and unrealized_pnl_usd <= -max_loss_usd:
        return CloseReason.MAX_LOSS
    if indicators is not None and indicators.last_close < indicators.ema:
        return CloseReason.CLOSE_BELOW_EMA
    return None


class RollKind(StrEnum):
    VERTICAL = "vertical"  # to the new ATM strike (price at or above the short strike)
    HORIZONTAL = "horizontal"  # same strike, next expiry (price below the short strike)


def short_roll_kind(price: Decimal, short_strike: Decimal) -> RollKind:
    return RollKind.VERTICAL if price >= short_strike else RollKind.HORIZONTAL


def short_roll_due(
    *, now_et: datetime, roll_time_et: time, last_roll_day: date | None, short_expiry: date
) -> bool:
    """Roll once per trading day: at or after `roll_time_et` on a day without a roll yet, when
    the short expires today or has already expired (a new short always has 1 DTE, so a DTE
    rule alone would roll it on every pass)."""
    today = now_et.date()
    return (
        last_roll_day != today and short_expiry <= today and now_et.time() >= roll_time_et
    )


def long_roll_up_reason(
    *,
    long_delta: float | None,
    roll_delta_threshold: float,
    margin_used_usd: Decimal | None,
    roll_margin_usd: Decimal,
) -> str | None:
    """Why the long put should be rolled up to a new ~-0.33 delta put, or None. A missing delta
    or margin figure never triggers a roll."""
    if long_delta is not None and abs(long_delta) < abs(roll_delta_threshold):
        return f"long delta {long_delta:.2f} closer to zero than {roll_delta_threshold:.2f}"
    if roll_margin_usd > 0 and margin_used_usd is not None and margin_used_usd >= roll_margin_usd:
        return f"margin used {margin_used_usd} USD at or above {roll_margin_usd} USD"
    return None
