"""Pure decision rules of the delta neutral bot: entry gates, session limits, recenter, roll, exit.

Every function takes plain values and returns a signal (a reason string, a side, a bool) or
None; none reads a clock or does I/O. Prices are USD per SPY share; `now` is timezone-aware
(UTC or New York); session logic uses America/New_York.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from decimal import Decimal

from bots.delta_neutral import selection
from shared.domain import PutCall
from shared.market_hours import NY, TradingSession

# On an early-close day nothing new starts after this time (ET); the close is at 13:00.
HALF_DAY_LAST_ACTION_ET = time(12, 45)
THURSDAY, FRIDAY = 3, 4


def days_to_expiry(expiry: date, now: datetime) -> int:
    """Calendar days from `now`'s New York date to `expiry` (0 on the expiry day)."""
    return (expiry - now.astimezone(NY).date()).days


# ------------------------------------------------------------------------------ entry gates


def straddle_entry_block(
    *,
    vix: Decimal | None,
    max_vix_entry: float,
    today: date,
    next_fomc_decision: date | None,
    fomc_blackout_days: int,
) -> str | None:
    """Why a new long straddle may not be bought now, or None. VIX must be strictly below
    `max_vix_entry`; no FOMC decision within `fomc_blackout_days` days from `today`."""
    if vix is None:
        return "vix_unknown"
    if vix >= Decimal(str(max_vix_entry)):
        return f"vix {vix} >= max_vix_entry {max_vix_entry}"
    if next_fomc_decision is not None and 0 <= (next_fomc_decision - today).days <= (
        fomc_blackout_days
    ):
        return f"fomc decision {next_fomc_decision.isoformat()} within {fomc_blackout_days} days"
    return None


def shorts_entry_block(*, vix: Decimal | None, max_vix_new_shorts: float) -> str | None:
    """Why no new short strangle may be sold now (the VIX defensive threshold), or None."""
    if vix is None:
        return "vix_unknown"
    if vix >= Decimal(str(max_vix_new_shorts)):
        return f"vix {vix} >= max_vix_new_shorts {max_vix_new_shorts}"
    return None


def session_block(
    *, now: datetime, session: TradingSession | None, open_delay_minutes: int
) -> str | None:
    """Why nothing new may start at `now`, or None: market closed, the first
    `open_delay_minutes` after the open (stale quotes), or after 12:45 ET on an early-close day.
    Protective closes ignore this gate."""
    if session is None:
        return "no_session"
    if not session.open <= now < session.close:
        return "market_closed"
    if now < session.open + timedelta(minutes=open_delay_minutes):
        return "open_delay"
    if session.early_close and now.astimezone(NY).time() >= HALF_DAY_LAST_ACTION_ET:
        return "half_day_after_1245"
    return None


def past_cutoff(now: datetime, session: TradingSession, minutes_before_close: int) -> bool:
    """True from `minutes_before_close` before the session's close on."""
    return now >= session.close - timedelta(minutes=minutes_before_close)


# ------------------------------------------------------------------------------ management


def recenter_due(*, spot: Decimal, straddle_strike: Decimal, distance_usd: Decimal) -> bool:
    """True when SPY is at least `distance_usd` from the straddle strike."""
    return abs(spot - straddle_strike) >= distance_usd


def challenged_side(
    *, spot: Decimal, call_strike: Decimal, put_strike: Decimal, percent: float
) -> PutCall | None:
    """The short side SPY is within `percent` of its strike (or beyond it), or None."""
    ratio = Decimal(str(percent)) / Decimal(100)
    if call_strike - spot <= ratio * call_strike:
        return PutCall.CALL
    if spot - put_strike <= ratio * put_strike:
        return PutCall.PUT
    return None


def emergency_move_reason(
    *,
    spot: Decimal,
    straddle_strike: Decimal | None,
    previous_close: Decimal | None,
    percent: float,
) -> str | None:
    """Why everything must be closed at once, or None: SPY has moved at least `percent` from
    the previous session's close (a crash or gap day) or from the straddle strike (a move the
    recentering did not follow). `straddle_strike` is None while no straddle is held (a
    recenter's rebuy waiting with the shorts kept): then only the previous close counts."""
    limit = Decimal(str(percent)) / Decimal(100)
    if previous_close and abs(spot - previous_close) / previous_close >= limit:
        return f"spot {spot} moved >= {percent}% from previous close {previous_close}"
    if straddle_strike and abs(spot - straddle_strike) / straddle_strike >= limit:
        return f"spot {spot} moved >= {percent}% from straddle strike {straddle_strike}"
    return None


def shorts_already_rolled(*, short_expiry: date, now: datetime) -> bool:
    """True when this week's scheduled roll has nothing to do: the shorts expire after this
    week's weekly expiry (its Friday, or the trading day before a Friday holiday). This is the
    spec's "unless the shorts have 7 or more days left" (on a Thursday or Friday that means a
    later week) without its hole: Thursday's roll into Good Friday's week, whose expiry moves to
    its Thursday, leaves 6 days on Friday, and the 7-day rule rolled it again into the same
    expiry, for nothing but commissions."""
    today = now.astimezone(NY).date()
    return short_expiry > selection.next_friday_at_least(today, 0)


def scheduled_roll_due(
    *, now: datetime, short_expiry: date, thursday_from_et: time, friday_from_et: time
) -> bool:
    """True on Thursday from `thursday_from_et` or Friday from `friday_from_et` (ET), unless the
    shorts are already on a later week (`shorts_already_rolled`)."""
    if shorts_already_rolled(short_expiry=short_expiry, now=now):
        return False
    local = now.astimezone(NY)
    if local.weekday() == THURSDAY:
        return local.time() >= thursday_from_et
    if local.weekday() == FRIDAY:
        return local.time() >= friday_from_et
    return False


def retry_waits(*, now: datetime, retry_at: datetime | None) -> bool:
    """True while a refused roll waits for its retry time `retry_at` (UTC; None: no wait)."""
    return retry_at is not None and now < retry_at


def roll_is_credit(*, close_cost_usd: Decimal, new_premium_usd: Decimal) -> bool:
    """A roll goes ahead only when the new premium exceeds the cost of buying back (USD)."""
    return new_premium_usd - close_cost_usd > 0


def long_dte_exit(*, long_expiry: date, now: datetime, long_exit_dte: int) -> bool:
    """True when the long straddle has fewer than `long_exit_dte` days to expiry."""
    return days_to_expiry(long_expiry, now) < long_exit_dte


def proactive_restart(*, long_expiry: date, new_short_expiry: date, long_exit_dte: int) -> bool:
    """True when new shorts would outlive the straddle's DTE exit (close all, start afresh)."""
    return new_short_expiry > long_expiry - timedelta(days=long_exit_dte)


def shorts_expired(*, expiry: date, now: datetime, session: TradingSession | None) -> bool:
    """True when options of `expiry` have expired at `now` (UTC): a later New York day, or the
    expiry day at or after its session's close (`session`: that day's; None: no session)."""
    today = now.astimezone(NY).date()
    if expiry != today:
        return expiry < today
    return session is not None and now >= session.close
