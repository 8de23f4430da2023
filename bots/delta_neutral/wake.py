"""When a backtest must next run the delta neutral's decide (a `WakeHint`), in its two
long-lived quiet states. Both need nothing in flight, no exit under way and the book settled.

- Straddle and strangle held (or the shorts done for the day): a pass can act only when SPY
  reaches a price rule (the recenter distance, the 5 % emergency move from the strike or the
  previous close, a challenged short side, a flash move) or the clock a time rule (Thursday's
  or Friday's roll start, a refused roll's retry time, the close). SPY's band is the
  intersection of those rules' safe ranges (USD per share, as `rules` judges them).
- Flat, waiting for the straddle's entry gates (or done after a full exit): only VIX falling
  under `max_vix_entry` (a VIX band) or a flash move can act before the close.

The flash part is `flash_safe_band`. Any other state gives None (every pass is run). Pure.
"""

from __future__ import annotations

from datetime import date, datetime, time
from decimal import Decimal

from bots.delta_neutral import rules
from bots.delta_neutral.config import DeltaNeutralStrategyConfig
from bots.delta_neutral.lifecycles import StraddleLifecycle, StrangleLifecycle
from bots.delta_neutral.memory import Memory
from bots.delta_neutral.states import StraddleState, StrangleState
from shared import market_hours
from shared.market_hours import NY
from shared.strategy.exits import FlashMonitor
from shared.strategy.wake import PriceBand, WakeHint, flash_safe_band

Band = tuple[Decimal, Decimal]


def wake_hint(
    cfg: DeltaNeutralStrategyConfig,
    straddle: StraddleLifecycle,
    strangle: StrangleLifecycle,
    memory: Memory,
    flash: FlashMonitor,
    *,
    spot_uic: int,
    last_spot: Decimal | None,
    now: datetime,
) -> WakeHint | None:
    """The hint at `now` (UTC), or None when the next pass may act (see the module doc)."""
    today = now.astimezone(NY).date()
    session = market_hours.session(today)
    quiet = (
        session is not None and memory.day == today and memory.exit_reason is None
        and straddle.intent_id is None and strangle.intent_id is None
        and (memory.book_settles_at is None or now >= memory.book_settles_at)
    )  # fmt: skip
    flash_band = flash_safe_band(flash, last_spot, cfg.flash_move_percent)
    if not quiet or session is None or flash_band is None:
        return None
    if _waiting(straddle, strangle, memory, today):
        bands = [PriceBand(spot_uic, *flash_band)]
        if straddle.state is StraddleState.WAITING_ENTRY:
            vix_floor = Decimal(str(cfg.max_vix_entry))
            bands.append(PriceBand(cfg.instruments.vix_uic, vix_floor, None))
        return WakeHint(until=session.close, bands=tuple(bands), lookback=flash.window)
    holding = _holding_band(cfg, straddle, strangle, memory, session, now, flash_band)
    if holding is None:
        return None
    until, (low, high) = holding
    return WakeHint(until=until, bands=(PriceBand(spot_uic, low, high),), lookback=flash.window)


def _waiting(straddle: StraddleLifecycle, strangle: StrangleLifecycle, memory: Memory,
             today: date) -> bool:  # fmt: skip
    """Flat, waiting for the straddle's entry gates, or done for the day after a full exit."""
    flat = straddle.held is None and strangle.held is None and strangle.state is StrangleState.NONE
    return flat and (straddle.state is StraddleState.WAITING_ENTRY or (
        straddle.state is StraddleState.FLAT and memory.exited_on == today))  # fmt: skip


def _holding_band(cfg: DeltaNeutralStrategyConfig, straddle: StraddleLifecycle,
                   strangle: StrangleLifecycle, memory: Memory,
                   session: market_hours.TradingSession, now: datetime,
                   flash_band: Band) -> tuple[datetime, Band] | None:  # fmt: skip
    """Straddle and strangle held (or shorts done for the day): the next time rule and SPY's
    band (None: not in that state, or a roll is due)."""
    held, shorts = straddle.held, strangle.held
    shorts_done = strangle.state is StrangleState.NONE and (
        rules.past_cutoff(now, session, cfg.shorts_cutoff_minutes_before_close))  # fmt: skip
    steady = (
        straddle.state is StraddleState.HOLDING and held is not None and held.complete
        and (shorts_done or (strangle.state is StrangleState.HOLDING
                             and shorts is not None and shorts.complete))
    )  # fmt: skip
    if not steady or held is None:
        return None
    until = session.close
    if shorts is not None and not shorts_done:
        roll_at = _roll_start(cfg, shorts.expiry, now)
        if roll_at is not None and roll_at <= now:
            if not rules.retry_waits(now=now, retry_at=memory.roll_retry_at):
                return None  # the roll is due: the next tick prices it
            assert memory.roll_retry_at is not None
            roll_at = memory.roll_retry_at  # a refused roll is priced again then
        until = min(until, roll_at or until)
    bands = [flash_band, _recenter_band(cfg, held.strike),
             _move_band(held.strike, cfg.emergency_exit_percent)]  # fmt: skip
    if memory.previous_close:
        bands.append(_move_band(memory.previous_close, cfg.emergency_exit_percent))
    if shorts is not None and shorts.call is not None and shorts.put is not None:
        ratio = Decimal(str(cfg.short_itm_risk_percent)) / 100
        bands.append((shorts.put.strike * (1 + ratio), shorts.call.strike * (1 - ratio)))
    low, high = max(b[0] for b in bands), min(b[1] for b in bands)
    return None if low >= high else (until, (low, high))


def _roll_start(cfg: DeltaNeutralStrategyConfig, expiry: date, now: datetime) -> datetime | None:
    """Today's scheduled roll start (New York time) per `rules.scheduled_roll_due`, or None."""
    if rules.shorts_already_rolled(short_expiry=expiry, now=now):
        return None
    local = now.astimezone(NY)
    start: time | None = {rules.THURSDAY: cfg.roll_start_thursday_et,
                          rules.FRIDAY: cfg.roll_start_friday_et}.get(local.weekday())  # fmt: skip
    if start is None:
        return None
    return datetime.combine(local.date(), start, tzinfo=NY)


def _recenter_band(cfg: DeltaNeutralStrategyConfig, strike: Decimal) -> Band:
    distance = cfg.recenter_distance_usd(strike)
    return strike - distance, strike + distance


def _move_band(reference: Decimal, percent: float) -> Band:
    """Prices less than `percent` % from `reference` (`rules.emergency_move_reason`)."""
    limit = Decimal(str(percent)) / 100
    return reference * (1 - limit), reference * (1 + limit)
