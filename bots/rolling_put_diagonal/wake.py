"""When a backtest must next run the put diagonal's decide (a `WakeHint`), in its quiet states.
Each needs nothing in flight and no cooldown running.

- Flat (or waiting out an event) on a day whose entry (or event) rules cannot pass before the
  close: the daily-bar indicators, the event blackout, a campaign closed today, the last 15
  minutes. Only a flash move can happen. Likewise flat until an entry that found no tradable
  put looks again (`ENTRY_RECHECK_KEY`; that cooldown is not "a cooldown running" here).
- A campaign open with its short held: until the short's roll time (when it expires today),
  a pass can act only when QQQ reaches the long roll-up price (the delta rule: the theoretical
  delta the strategy uses when quotes carry no Greeks, as in a backtest), falls far enough to
  reach the max-loss rule, or makes a flash move. The max-loss bound assumes the worst for the
  long (its bid falls to 0) and, for the short, its ask rising by its intrinsic gain (at most
  the fall of QQQ) plus at most its own value and 10 cents (volatility, time of day): within
  one session that holds unless the S&P 500 falls over 13 % (the model's VIX would double).

Any other state gives None (every pass is run). Prices are USD per QQQ share. Pure.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal

from bots.rolling_put_diagonal import market_view as mv
from bots.rolling_put_diagonal import rules, selection
from bots.rolling_put_diagonal.book import CONTRACT_MULTIPLIER, Campaign
from bots.rolling_put_diagonal.config import RollingPutDiagonalStrategy as Cfg
from bots.rolling_put_diagonal.lifecycles import CampaignLifecycle
from bots.rolling_put_diagonal.memory import ENTRY_RECHECK_KEY, Memory
from bots.rolling_put_diagonal.states import CampaignState
from shared import market_hours
from shared.event_calendar import EventCalendar
from shared.market_hours import NY
from shared.strategy.exits import FlashMonitor
from shared.strategy.wake import PriceBand, WakeHint, flash_safe_band
from shared.strategy_contract import Snapshot

S = CampaignState
SHORT_ASK_ALLOWANCE_USD = Decimal("0.10")  # besides doubling: a far OTM short's tiny price
ROLL_UP_SEARCH_STEPS = 40  # bisection steps for the roll-up price (2^-40 of the range)


def wake_hint(cfg: Cfg, cycle: CampaignLifecycle, memory: Memory, flash: FlashMonitor,
              calendar: EventCalendar, snap: Snapshot, *, late_minutes: int,
              qqq_uic: int) -> WakeHint | None:  # fmt: skip
    """The hint after the pass of `snap`, or None when the next pass may act (module doc)."""
    now, today = snap.now, snap.now.astimezone(NY).date()
    session = market_hours.session(today)
    cooling = any(now < until for key, until in memory.cooldown_until.items()
                  if key != ENTRY_RECHECK_KEY)  # only a flat campaign's entry reads that one
    flash_band = flash_safe_band(flash, memory.last_price, cfg.flash_move_percent)
    if (session is None or memory.day != today or memory.bars_day != today or cooling
            or cycle.order is not None or flash_band is None):  # fmt: skip
        return None
    late = now >= session.close - timedelta(minutes=late_minutes)
    if cycle.state in (S.FLAT, S.WAITING_EVENT) and cycle.campaign.empty:
        until = session.close
        if not (late or _no_entry_today(cfg, memory, calendar, session, cycle.state)):
            if cycle.state is not S.FLAT or not memory.cooling(now, ENTRY_RECHECK_KEY):
                return None
            until = min(until, memory.cooldown_until[ENTRY_RECHECK_KEY])
        return WakeHint(until, (PriceBand(qqq_uic, *flash_band),), flash.window)
    if cycle.state is not S.OPEN:
        return None
    return _open_hint(cfg, cycle.campaign, memory, snap, session, flash_band, flash.window,
                      qqq_uic)  # fmt: skip


def _no_entry_today(cfg: Cfg, memory: Memory, calendar: EventCalendar,
                    session: market_hours.TradingSession, state: S) -> bool:  # fmt: skip
    """True when the day's own facts keep a campaign from opening (or an event from passing)
    whatever the price and time: the entry rules judged as if past every time gate."""
    event = mv.event_within_blackout(cfg, calendar, session.day)
    if state is S.WAITING_EVENT:
        return event is not None
    if memory.closed_on == session.day:
        return True
    previous = memory.previous_close
    inputs = rules.EntryInputs(
        now_et=(session.close - timedelta(seconds=1)).astimezone(NY),
        session_open_et=session.open.astimezone(NY).time(),
        price=previous if previous is not None else Decimal(1), previous_close=previous,
        indicators=memory.indicators, event_within_blackout=event,
    )  # fmt: skip
    return bool(rules.entry_blockers(inputs, mv.entry_rules(cfg)))


def _open_hint(cfg: Cfg, campaign: Campaign, memory: Memory, snap: Snapshot,
               session: market_hours.TradingSession, flash_band: tuple[Decimal, Decimal],
               lookback: timedelta, qqq_uic: int) -> WakeHint | None:  # fmt: skip
    long, short, price = campaign.long, campaign.short, memory.last_price
    if long is None or short is None or campaign.retiring is not None or price is None:
        return None
    now, today = snap.now, session.day
    until = session.close
    if short.expiry <= today and memory.last_roll_day != today:
        roll_at = datetime.combine(today, cfg.short_roll_time_et, tzinfo=NY)
        if roll_at <= now:
            return None  # the roll is due (or waits on a cooldown): every pass tries it
        until = roll_at
    low, high = flash_band
    if memory.long_rolled_on != today:
        if cfg.long_roll_bp_threshold_usd > 0 and snap.margin_used_usd is not None:
            return None  # the account's margin moves with other positions: no band bounds it
        roll_up = _roll_up_price(cfg, campaign, price, today)
        if roll_up is None:
            return None
        high = min(high, roll_up)
    loss_floor = _max_loss_floor(cfg, campaign, snap, price)
    if loss_floor is None:
        return None
    low = max(low, loss_floor)
    if low >= high:
        return None
    return WakeHint(until, (PriceBand(qqq_uic, low, high),), lookback)


def _roll_up_price(cfg: Cfg, campaign: Campaign, price: Decimal, today: date) -> Decimal | None:
    """The lowest QQQ price (to 2^-40 of the searched range) at which the long roll-up rule
    fires, above `price`; a very high price when it never fires below twice `price`; None when
    it fires at `price` already. The theoretical delta rises with the price (monotone)."""
    assert campaign.long is not None
    long = campaign.long

    def fires(level: Decimal) -> bool:
        return rules.long_roll_up_reason(
            long_delta=selection.theoretical_put_delta(level, long.strike, long.dte(today)),
            roll_delta_threshold=cfg.long_roll_delta_threshold,
            margin_used_usd=None,  # asked for only with a margin figure (the caller)
            roll_margin_usd=cfg.long_roll_bp_threshold_usd,
        ) is not None  # fmt: skip

    below, above = price, price * 2
    if fires(below):
        return None
    if not fires(above):
        return above
    for _ in range(ROLL_UP_SEARCH_STEPS):
        middle = (below + above) / 2
        below, above = (below, middle) if fires(middle) else (middle, above)
    return below


def _max_loss_floor(cfg: Cfg, campaign: Campaign, snap: Snapshot,
                    price: Decimal) -> Decimal | None:  # fmt: skip
    """The QQQ price above which the max-loss rule cannot fire (see the module doc), or None
    when the campaign cannot be marked or is too near the loss to say."""
    long, short = campaign.long, campaign.short
    assert long is not None and short is not None
    unrealized = campaign.unrealized_usd(snap.quotes)
    long_quote, short_quote = snap.quotes.get(long.uic), snap.quotes.get(short.uic)
    if (unrealized is None or long_quote is None or short_quote is None
            or long_quote.bid is None or short_quote.ask is None):  # fmt: skip
        return None
    worst = (unrealized - long_quote.bid * CONTRACT_MULTIPLIER * long.quantity
             - (short_quote.ask + SHORT_ASK_ALLOWANCE_USD) * CONTRACT_MULTIPLIER * short.quantity)
    max_loss = Decimal(cfg.max_loss_usd_per_contract) * cfg.position_size_contracts
    headroom = worst + max_loss  # USD left before the rule fires, before any fall of QQQ
    if headroom <= 0:
        return None
    return price - headroom / (CONTRACT_MULTIPLIER * short.quantity)
