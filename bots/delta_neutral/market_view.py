"""What the delta neutral strategy asks the market for, and the legs it reads from the answer.

Pure functions of the config, the lifecycles and a snapshot: the data request (quotes, the
chains the next step needs, the previous close) and the straddle and strangle choices on the
snapshot's chains. Time is UTC in, America/New_York for dates.
"""

from __future__ import annotations

import math
from datetime import date, datetime, timedelta
from decimal import Decimal

from bots.delta_neutral import rules, selection
from bots.delta_neutral.book import OPTION_ASSET_TYPE, ROOT, Leg, Straddle, Strangle
from bots.delta_neutral.config import DeltaNeutralStrategyConfig
from bots.delta_neutral.lifecycles import StraddleLifecycle, StrangleLifecycle
from bots.delta_neutral.memory import leg_of, weekly_theta_usd
from bots.delta_neutral.states import StraddleState, StrangleState
from shared.domain import PutCall
from shared.event_calendar import EventCalendar
from shared.market_hours import NY
from shared.options_math import expected_move_from_vix
from shared.strategy_contract import (
    BarRequest,
    DataRequest,
    InstrumentRef,
    OptionWindow,
    Snapshot,
)

D, G = StraddleState, StrangleState
LONG_WINDOW_STRIKES = 3  # strikes each side of spot for the ATM straddle
SHORT_WINDOW_MIN_STRIKES = 10
TRADING_DAYS_PER_WEEK_DAY = 5 / 7


def build_request(
    cfg: DeltaNeutralStrategyConfig,
    straddle: StraddleLifecycle,
    strangle: StrangleLifecycle,
    *,
    now: datetime,
    need_previous_close: bool,
    in_position: bool,
    recenter_expiry: date | None,
    last_spot: Decimal | None,
    last_vix: Decimal | None,
    roll_retry_at: datetime | None = None,
) -> DataRequest:
    """SPY and VIX always; the legs held or in flight; the long chain while a straddle is to
    be bought; the weekly chain when shorts may be sold or a roll priced (not while a refused
    roll waits for `roll_retry_at`, UTC); yesterday's bar once a day. SPY ticks trigger
    decides while in position."""
    inst = cfg.instruments
    spy = InstrumentRef(inst.underlying_uic, inst.underlying_asset_type)
    today = now.astimezone(NY).date()
    legs = sorted(_uics(straddle) | _uics(strangle))
    quotes = [spy, InstrumentRef(inst.vix_uic, "StockIndex")]
    quotes += [InstrumentRef(uic, OPTION_ASSET_TYPE) for uic in legs]
    windows = []
    if straddle.state in (D.FLAT, D.WAITING_ENTRY, D.PARTIAL, D.RECENTER_OPENING):
        expiry = straddle_expiry(cfg, straddle, recenter_expiry, today)
        windows.append(OptionWindow(ROOT, expiry, spy.uic, LONG_WINDOW_STRIKES))
    if _wants_short_chain(cfg, straddle, strangle, now, roll_retry_at):
        expiry = selection.next_friday_at_least(today, cfg.short_target_dte)
        strikes = short_window_strikes(cfg, today, last_spot, last_vix)
        windows.append(OptionWindow(ROOT, expiry, spy.uic, strikes))
    return DataRequest(
        quotes=tuple(quotes),
        option_windows=tuple(windows),
        daily_bars=(BarRequest(spy.uic, spy.asset_type, 1),) if need_previous_close else (),
        vix=True,
        tick_uics=frozenset({spy.uic}) if in_position else frozenset(),
    )


def straddle_expiry(
    cfg: DeltaNeutralStrategyConfig,
    straddle: StraddleLifecycle,
    recenter_expiry: date | None,
    today: date,
) -> date:
    """The expiry of the straddle to buy: a partial straddle's own, the old one while
    recentering (the shorts are kept against it), else the monthly expiry nearest
    `long_straddle_target_dte`."""
    if straddle.state is D.PARTIAL and straddle.held is not None:
        return straddle.held.expiry
    if straddle.state is D.RECENTER_OPENING and recenter_expiry is not None:
        return recenter_expiry
    return selection.monthly_expiry_near(today, cfg.long_straddle_target_dte)


def short_window_strikes(
    cfg: DeltaNeutralStrategyConfig, today: date, spot: Decimal | None, vix: Decimal | None
) -> int:
    """Strikes each side of spot for the weekly chain: the multiplier cap times the
    VIX-implied move to expiry, with margin (SPY strikes are 1 USD apart near the money)."""
    if spot is None or vix is None or vix <= 0:
        return 4 * SHORT_WINDOW_MIN_STRIKES
    expiry = selection.next_friday_at_least(today, cfg.short_target_dte)
    trading_days = max((expiry - today).days * TRADING_DAYS_PER_WEEK_DAY, 1.0)
    move = expected_move_from_vix(float(spot), float(vix), trading_days)
    return max(SHORT_WINDOW_MIN_STRIKES, math.ceil(move * cfg.strangle_multiplier_max * 1.5) + 2)


def choose_straddle(
    cfg: DeltaNeutralStrategyConfig, snap: Snapshot, spot: Decimal, expiry: date
) -> selection.StraddleChoice | selection.NotYet:
    options = selection.usable_options(snap.chains.get((ROOT, expiry), ()), snap.quotes, snap.now)
    return selection.choose_straddle(options, spot, cfg.max_entry_spread_percent)


def choose_strangle(
    cfg: DeltaNeutralStrategyConfig,
    snap: Snapshot,
    spot: Decimal,
    straddle: Straddle,
    expiry: date,
) -> selection.StrangleChoice | selection.NotYet:
    """Mode B when `weekly_target_return_percent` is 0, else mode A against the straddle's
    fill cost, its weekly theta and the shorts' fees. Pure: nothing held is touched."""
    qty = cfg.position_size_contracts
    options = selection.usable_options(snap.chains.get((ROOT, expiry), ()), snap.quotes, snap.now)
    if cfg.weekly_target_return_percent == 0:
        return selection.choose_strangle_by_multiple(
            options,
            spot,
            contracts=qty,
            min_multiple=cfg.strangle_multiplier_min,
            max_multiple=cfg.strangle_multiplier_max,
        )
    target = selection.StrangleTarget(
        straddle_cost_usd=straddle.cost_usd,
        target_percent=cfg.weekly_target_return_percent,
        weekly_theta_usd=weekly_theta_usd(snap, straddle),
        fees_usd=cfg.short_entry_fee_usd_per_leg * 2 * qty,
    )
    return selection.choose_strangle_for_target(
        options, spot, target=target, contracts=qty, cap_multiple=cfg.strangle_multiplier_max
    )


def _uics(cycle: StraddleLifecycle | StrangleLifecycle) -> frozenset[int]:
    uics: frozenset[int] = frozenset()
    for pair in (cycle.held, cycle.pending):
        if pair is not None:
            uics |= pair.uics
    return uics


def _wants_short_chain(
    cfg: DeltaNeutralStrategyConfig,
    straddle: StraddleLifecycle,
    strangle: StrangleLifecycle,
    now: datetime,
    roll_retry_at: datetime | None,
) -> bool:
    if straddle.state is not D.HOLDING:
        return False
    held = strangle.held
    if strangle.state is G.HOLDING and held is not None:
        return rules.scheduled_roll_due(
            now=now,
            short_expiry=held.expiry,
            thursday_from_et=cfg.roll_start_thursday_et,
            friday_from_et=cfg.roll_start_friday_et,
        ) and not rules.retry_waits(now=now, retry_at=roll_retry_at)
    return strangle.state in (G.NONE, G.ROLL_OPENING)


def previous_close(snap: Snapshot, spy_uic: int) -> Decimal | None:
    """The close of the last completed daily bar before the snapshot's trading day."""
    bars = snap.bars.get(spy_uic, ())
    completed = [b for b in bars if b.time.astimezone(NY).date() < snap.calendar.day]
    return Decimal(str(completed[-1].close)) if completed else None


def vix_level(snap: Snapshot, vix_uic: int, fallback: bool) -> Decimal | None:
    """VIX from the Saxo quote; else, if `fallback`, the runtime's level (fallback feed)."""
    quote = snap.quotes.get(vix_uic)
    if quote is not None and quote.price is not None:
        return quote.price
    return snap.vix if fallback else None


def missing_leg(snap: Snapshot, held: Straddle) -> Leg | str:
    """The leg a partial straddle lacks (same strike and expiry), or why it cannot be had."""
    have = held.legs[0]
    wanted = PutCall.PUT if have.put_call is PutCall.CALL else PutCall.CALL
    chain = snap.chains.get((ROOT, have.expiry), ())
    for option in selection.usable_options(chain, snap.quotes, snap.now):
        if option.strike == have.strike and option.contract.put_call is wanted:
            return leg_of(option, have.quantity)
    return f"no usable {wanted.value} {have.strike} {have.expiry}"


def roll_credit(
    cfg: DeltaNeutralStrategyConfig,
    snap: Snapshot,
    spot: Decimal,
    straddle: Straddle,
    held: Strangle,
) -> tuple[Decimal | None, str]:
    """The net credit (USD per position) of rolling `held` into this week's choice: new
    premium at the bids less buying back at the asks; None with the reason when unpriced."""
    expiry = selection.next_friday_at_least(snap.calendar.day, cfg.short_target_dte)
    candidate = choose_strangle(cfg, snap, spot, straddle, expiry)
    cost = held.close_cost_estimate_usd(snap.quotes)
    if isinstance(candidate, selection.NotYet):
        return None, candidate.reason
    if cost is None:
        return None, "no ask to buy back a short"
    credit = candidate.premium_usd - cost
    return credit, f"credit {credit} (premium {candidate.premium_usd}, close cost {cost})"


def straddle_entry_block(
    cfg: DeltaNeutralStrategyConfig, calendar: EventCalendar, snap: Snapshot, vix: Decimal | None
) -> str | None:
    """Why no long straddle may be bought today (VIX, the FOMC blackout), or None."""
    today = snap.calendar.day
    next_fomc = calendar.next_event(today - timedelta(days=1), "fomc_decision")
    return rules.straddle_entry_block(
        vix=vix,
        max_vix_entry=cfg.max_vix_entry,
        today=today,
        next_fomc_decision=None if next_fomc is None else next_fomc.day,
        fomc_blackout_days=cfg.fomc_blackout_days,
    )
