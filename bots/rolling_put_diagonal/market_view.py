"""What the put diagonal asks the market for, and what it reads from the answer.

Pure functions of the config, the lifecycle and a snapshot: the data request (QQQ, the legs,
the daily bars once a day, the chains the next step needs), the expiries (New York dates), the
event blackout, the indicators of the last COMPLETED daily bar (today's partial bar, if the
broker sends one, is dropped), and the legs to trade chosen on the snapshot's chains.
"""

from __future__ import annotations

import math
from datetime import UTC, date, timedelta
from decimal import Decimal

from bots.rolling_put_diagonal import rules, selection
from bots.rolling_put_diagonal.book import OPTION_ASSET_TYPE, ROOT, PutLeg
from bots.rolling_put_diagonal.config import RollingPutDiagonalStrategy as Cfg
from bots.rolling_put_diagonal.lifecycles import CampaignLifecycle
from bots.rolling_put_diagonal.states import CampaignState
from shared import market_hours
from shared.domain import OptionContract
from shared.event_calendar import EventCalendar
from shared.strategy.quotes import usable_snapshot_quote
from shared.strategy_contract import (
    Bar,
    BarRequest,
    DataRequest,
    InstrumentRef,
    OptionWindow,
    Snapshot,
)

S = CampaignState
DAILY_BARS = 60  # completed daily bars read once a day (the indicators need 37)
LONG_WINDOW_STRIKES = 40  # QQQ strikes are 1 USD apart; a -0.33 delta 14-DTE put is ~4 % OTM
SHORT_WINDOW_STRIKES = 4
MEGACAPS = frozenset({"AAPL", "MSFT", "NVDA", "AMZN", "GOOGL", "GOOG", "META", "TSLA"})


def indicator_settings(cfg: Cfg) -> rules.IndicatorSettings:
    return rules.IndicatorSettings(cfg.ema_period, cfg.macd_fast_period, cfg.macd_slow_period,
                                   cfg.macd_signal_period, cfg.cci_period)  # fmt: skip


def entry_rules(cfg: Cfg) -> rules.EntryRules:
    return rules.EntryRules(cfg.market_open_delay_minutes, cfg.max_opening_gap_percent,
                            cfg.gap_check_until_et, cfg.min_green_candles_above_ema,
                            cfg.use_cci_filter, cfg.cci_overbought)  # fmt: skip


def long_expiry(today: date, target_dte: int) -> date:
    """The trading day nearest `target_dte` calendar days out (the later one on a tie)."""
    days = market_hours.trading_days_between(today + timedelta(days=1),
                                             today + timedelta(days=2 * target_dte))
    found = selection.nearest_expiry(days, today, target_dte)
    assert found is not None, "no trading day within twice the target DTE"
    return found


def short_expiry(today: date) -> date:
    """The next trading day's expiry (QQQ lists one every trading day)."""
    return market_hours.next_session(today).day


def wants_long_chain(cycle: CampaignLifecycle, entry_ready: bool, long_roll_due: bool) -> bool:
    return (cycle.state is S.FLAT and entry_ready) or (cycle.state is S.OPEN and long_roll_due)


def wants_short_chain(cycle: CampaignLifecycle, entry_ready: bool, short_due: bool) -> bool:
    """The next expiry's chain: to sell a short (entry, a missing short, a roll's second half)
    or to pick a roll's target."""
    if cycle.state is S.FLAT:
        return entry_ready
    if cycle.state is S.ROLLING_SHORT:
        return cycle.campaign.short is None
    return cycle.state is S.OPEN and short_due


def short_window_strikes(price: Decimal | None, cycle: CampaignLifecycle) -> int:
    """Strikes each side of spot for the next expiry's chain: the ATM neighbourhood, wide
    enough to reach the strike a horizontal roll keeps (1-USD QQQ strikes)."""
    keep = cycle.roll_strike if cycle.roll_strike is not None else (
        cycle.campaign.short.strike if cycle.campaign.short is not None else None)
    if keep is None or price is None:
        return SHORT_WINDOW_STRIKES
    return max(SHORT_WINDOW_STRIKES, math.ceil(abs(price - keep)) + 2)


def build_request(cfg: Cfg, cycle: CampaignLifecycle, *, today: date, need_bars: bool,
                  long_chain: bool, short_chain: bool, price: Decimal | None = None,
                  account_margin: bool = False) -> DataRequest:  # fmt: skip
    """QQQ always (its ticks wake the bot while holding); the legs held or in flight; the
    daily bars when today's are not read yet; the chains the next step needs (`price`: the
    last QQQ price, to size the short chain); the account's margin used when the long
    roll-up's margin rule may act (`account_margin`)."""
    inst = cfg.instruments
    qqq = InstrumentRef(inst.underlying_uic, inst.underlying_asset_type)
    uics = set(cycle.campaign.uics)
    if cycle.order is not None:
        uics.add(cycle.order.leg.uic)
    windows = []
    if long_chain:
        expiry = long_expiry(today, cfg.long_put_target_dte)
        windows.append(OptionWindow(ROOT, expiry, qqq.uic, LONG_WINDOW_STRIKES))
    if short_chain:
        strikes = short_window_strikes(price, cycle)
        windows.append(OptionWindow(ROOT, short_expiry(today), qqq.uic, strikes))
    holding = cycle.state in (S.OPENING, S.OPEN, S.ROLLING_SHORT, S.ROLLING_LONG, S.CLOSING,
                              S.CLOSE_STUCK)  # fmt: skip
    return DataRequest(
        quotes=(qqq, *(InstrumentRef(uic, OPTION_ASSET_TYPE) for uic in sorted(uics))),
        option_windows=tuple(windows),
        daily_bars=(BarRequest(qqq.uic, qqq.asset_type, DAILY_BARS),) if need_bars else (),
        tick_uics=frozenset({qqq.uic}) if holding else frozenset(),
        account_margin=account_margin,
    )


def completed_bars(bars: tuple[Bar, ...], today: date) -> tuple[Bar, ...]:
    """The bars of sessions before `today` (a daily bar's start is its date, 00:00 UTC)."""
    return tuple(bar for bar in bars if bar.time.astimezone(UTC).date() < today)


def event_within_blackout(cfg: Cfg, calendar: EventCalendar, today: date) -> str | None:
    """The first FOMC meeting day within `fomc_blackout_days`, or earnings of a megacap
    within `earnings_blackout_days` (calendar days, today included), or None."""
    for offset in range(cfg.fomc_blackout_days + 1):
        for event in calendar.events_on(today + timedelta(days=offset), ["fomc"]):
            return f"{event.name} {event.day}"
    for offset in range(cfg.earnings_blackout_days + 1):
        for event in calendar.events_on(today + timedelta(days=offset), ["earnings"]):
            if event.symbol is None or event.symbol in MEGACAPS:
                return f"{event.name} {event.day}"
    return None


def leg_of(contract: OptionContract, quantity: int) -> PutLeg:
    return PutLeg(contract.uic, contract.strike, contract.expiry, quantity)


def has_long_chain(cfg: Cfg, snap: Snapshot, today: date) -> bool:
    """The snapshot holds the long expiry's chain (it was asked for this pass)."""
    return bool(snap.chains.get((ROOT, long_expiry(today, cfg.long_put_target_dte))))


def choose_long(cfg: Cfg, snap: Snapshot, price: Decimal, max_age_s: float,
                today: date) -> PutLeg | str:  # fmt: skip
    """The long put to buy (~target delta, nearest target DTE), or why none."""
    expiry = long_expiry(today, cfg.long_put_target_dte)
    contracts = snap.chains.get((ROOT, expiry), ())
    choice = selection.pick_long_put(
        contracts, _usable(snap, contracts, max_age_s), spot=price, today=today,
        target_delta=cfg.long_put_target_delta, tolerance=cfg.long_put_delta_tolerance,
        max_spread_percent=cfg.max_entry_spread_percent,
    )  # fmt: skip
    if isinstance(choice, selection.NotReady):
        return f"long put {expiry}: {choice.reason}"
    return leg_of(choice.contract, cfg.position_size_contracts)


def choose_short(cfg: Cfg, snap: Snapshot, price: Decimal, max_age_s: float, today: date,
                 same_strike: Decimal | None) -> PutLeg | str:  # fmt: skip
    """The short put to sell on the next expiry: ATM, or at `same_strike` (a horizontal
    roll), passing the spread gate; or why none."""
    expiry = short_expiry(today)
    contracts = snap.chains.get((ROOT, expiry), ())
    quotes = _usable(snap, contracts, max_age_s)
    if same_strike is not None:
        target = selection.put_at_strike(contracts, same_strike)
        if target is None:
            return f"short put {expiry}: no put at strike {same_strike}"
        problem = selection.spread_problem(quotes.get(target.uic), cfg.max_entry_spread_percent)
        if problem is not None:
            return f"short put {expiry} {target.strike}: {problem}"
        return leg_of(target, cfg.position_size_contracts)
    atm = selection.pick_atm_put(contracts, quotes, price=price,
                                 max_spread_percent=cfg.max_entry_spread_percent)  # fmt: skip
    if isinstance(atm, selection.NotReady):
        return f"short put {expiry}: {atm.reason}"
    return leg_of(atm, cfg.position_size_contracts)


def long_delta(snap: Snapshot, leg: PutLeg, price: Decimal, today: date) -> float | None:
    """The long put's delta: Saxo's when quoted, else the theoretical one from moneyness."""
    quote = snap.quotes.get(leg.uic)
    if quote is not None and quote.greeks is not None and quote.greeks.delta is not None:
        return quote.greeks.delta
    return selection.theoretical_put_delta(price, leg.strike, leg.dte(today))


def _usable(snap: Snapshot, contracts: tuple[OptionContract, ...], max_age_s: float) -> dict:
    """The usable quotes (the toolkit's rule) of `contracts`, by uic."""
    found = {}
    for contract in contracts:
        quote = usable_snapshot_quote(snap, contract.uic, max_age_s)
        if quote is not None:
            found[contract.uic] = quote
    return found
