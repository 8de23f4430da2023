"""Bill Belt's rolling put diagonal on QQQ as a pure strategy (see `shared.strategy_contract`).

One campaign at a time (lifecycles.py): a long put near -0.33 delta and 14 DTE, and a short
ATM put of the next trading day sold against it and rolled once a trading day at
`short_roll_time_et` (vertical to the new ATM strike when QQQ is at or above the short strike,
horizontal at the same strike otherwise). Each decide runs, in order: the book check (expiry,
assignment, manual trades), a close in progress (short first), a naked short, the session
gates, then by state: the campaign exits, the short roll, a missing short, the long roll-up,
or the entry. Time is `snapshot.now` (UTC); session logic is America/New_York. No I/O.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from bots.rolling_put_diagonal import market_view as mv
from bots.rolling_put_diagonal import restoring, rules, wake
from bots.rolling_put_diagonal.book import Campaign
from bots.rolling_put_diagonal.config import BOT_NAME, RollingPutDiagonalConfig
from bots.rolling_put_diagonal.config import RollingPutDiagonalStrategy as Cfg
from bots.rolling_put_diagonal.lifecycles import CampaignLifecycle, logger
from bots.rolling_put_diagonal.memory import (
    ENTRY_RECHECK_KEY,
    Memory,
    campaign_record,
    decision_event,
    safety_event,
)
from bots.rolling_put_diagonal.states import CampaignState, Trigger
from shared import market_hours
from shared.domain import Position
from shared.event_calendar import EventCalendar
from shared.logger_service import kv
from shared.market_hours import NY
from shared.strategy.exits import FlashMonitor
from shared.strategy.quotes import usable_price
from shared.strategy.wake import WakeHint
from shared.strategy_contract import (
    Action,
    DataRequest,
    ExecutionReport,
    JsonDict,
    OrderStyle,
    Snapshot,
)

S = CampaignState
DEFAULT_MAX_QUOTE_AGE_S = 10.0
NO_NEW_SHORT_MINUTES_BEFORE_CLOSE = 15  # no entry or new short this close to the close (TIME-003)
# A roll-up that is due but finds no higher -0.33 put looks again (the long chain, ~80 REST
# quotes) only after this: the margin rule can hold all day while QQQ stands still.
LONG_ROLL_RECHECK = timedelta(minutes=5)
LONG_ROLL_RECHECK_KEY = "long_roll_recheck"


def _late(now: datetime, session: market_hours.TradingSession) -> bool:
    return now >= session.close - timedelta(minutes=NO_NEW_SHORT_MINUTES_BEFORE_CLOSE)


class RollingPutDiagonalStrategy:
    """The put diagonal's decisions; built by the runtime from the whole config file."""

    HOLDS_OVERNIGHT = True  # positions span days: the demo adds this bot only by name

    bot = BOT_NAME

    @classmethod
    def from_bot_config(
        cls, config: RollingPutDiagonalConfig, calendar: EventCalendar | None = None
    ) -> RollingPutDiagonalStrategy:
        """Build from the whole validated config file and the process's event calendar (the
        runtime's, which re-reads the operator's overlay each day)."""
        return cls(config=config.strategy, calendar=calendar or EventCalendar(),
                   order_style=OrderStyle(config.execution.order_style),
                   max_quote_age_s=config.market_data.stream_stale_seconds)  # fmt: skip

    def __init__(self, *, config: Cfg, calendar: EventCalendar,
                 order_style: OrderStyle = OrderStyle.MARKET,
                 max_quote_age_s: float = DEFAULT_MAX_QUOTE_AGE_S) -> None:  # fmt: skip
        self._cfg = config
        self._calendar = calendar
        self._max_age_s = max_quote_age_s
        self._flash = FlashMonitor(timedelta(minutes=config.flash_move_window_minutes))
        self.cycle = CampaignLifecycle(order_style)
        self.memory = Memory()
        self._qqq = config.instruments.underlying_uic

    # --- contract ------------------------------------------------------------------------
    def state_name(self) -> str:
        return f"campaign:{self.cycle.state.value}"

    def in_position(self) -> bool:
        return not self.cycle.campaign.empty or self.cycle.state in (S.OPENING, S.CLOSING)

    def data_request(self, now: datetime) -> DataRequest:
        today = now.astimezone(NY).date()
        m, cycle = self.memory, self.cycle
        entry_ready = (m.day == today and self._entry_signal_holds(now)
                       and not m.cooling(now, ENTRY_RECHECK_KEY))  # fmt: skip
        short = cycle.campaign.short
        short_due = cycle.campaign.long is not None and (short is None or self._roll_due(now))
        margin_rule_open = (self._cfg.long_roll_bp_threshold_usd > 0 and cycle.state is S.OPEN
                            and cycle.campaign.long is not None and m.long_rolled_on != today)
        return mv.build_request(
            self._cfg, cycle, today=today, need_bars=m.bars_day != today,
            long_chain=mv.wants_long_chain(cycle, entry_ready, m.day == today and m.long_roll_due
                                           and not m.cooling(now, LONG_ROLL_RECHECK_KEY)),
            short_chain=mv.wants_short_chain(cycle, entry_ready, short_due), price=m.last_price,
            account_margin=margin_rule_open,
        )  # fmt: skip

    def decide(self, snapshot: Snapshot) -> Sequence[Action]:
        actions: list[Action] = []
        today = snapshot.calendar.day
        self._new_day(snapshot, today)
        price = usable_price(snapshot, self._qqq, self._max_age_s)
        if price is not None:
            self.memory.last_price = price
            self._flash_check(snapshot, price, actions)
        if self.cycle.busy:
            return actions
        cooldown = timedelta(minutes=self._cfg.failed_action_cooldown_minutes)
        actions.extend(restoring.check_book(self.cycle, self.memory, snapshot, today, cooldown))
        if self._continue_close(snapshot, actions) or price is None:
            return actions
        session = market_hours.session(today)
        if session is None or not session.open <= snapshot.now < session.close:
            return actions
        state = self.cycle.state
        if state in (S.OPEN, S.ROLLING_SHORT, S.ROLLING_LONG):
            self._manage(snapshot, price, today, session, actions)
        elif state is S.WAITING_EVENT:
            self._wait_event(snapshot, today, actions)
        elif state is S.FLAT and not _late(snapshot.now, session):
            self._try_entry(snapshot, price, today, actions)
        return actions

    def on_execution(self, report: ExecutionReport, now: datetime) -> Sequence[Action]:
        order = self.cycle.order
        if order is None or order.intent_id != report.intent_id:
            logger.info(kv("execution_report_other", intent=report.intent_id,
                           status=report.status))  # fmt: skip
            return ()
        was_roll = self.cycle.roll_kind is not None
        outcome = self.cycle.on_report(report)
        if outcome is None:
            return ()
        if outcome.failed:
            minutes = self._cfg.failed_action_cooldown_minutes
            self.memory.cooldown_until[order.step.value] = now + timedelta(minutes=minutes)
        elif was_roll and self.cycle.campaign.short is not None and self.cycle.state is S.OPEN:
            self.memory.last_roll_day = now.astimezone(NY).date()
        if outcome.closed is not None:
            return self._campaign_closed(outcome.closed, outcome.close_reason, now)
        return ()

    def export_state(self) -> JsonDict:
        return {"campaign": self.cycle.to_json(), "memory": self.memory.to_json()}

    def restore(self, saved: Mapping[str, Any] | None, positions: Sequence[Position],
                now: datetime) -> Sequence[Action]:  # fmt: skip
        """See `restoring.restore`: legs from the broker, money from the saved state."""
        return restoring.restore(self.cycle, self.memory, saved, positions, now)

    def wake_hint(self, snapshot: Snapshot) -> WakeHint | None:
        """For backtests: until when nothing can happen while QQQ stays in a band (see
        `bots.rolling_put_diagonal.wake`); None: look at the next pass."""
        return wake.wake_hint(self._cfg, self.cycle, self.memory, self._flash, self._calendar,
                              snapshot, late_minutes=NO_NEW_SHORT_MINUTES_BEFORE_CLOSE,
                              qqq_uic=self._qqq)  # fmt: skip

    # --- protection ------------------------------------------------------------------------
    def _continue_close(self, snap: Snapshot, actions: list[Action]) -> bool:
        """Drive a close in progress (short first, then the longs) and close a naked short;
        True when the close owns this pass."""
        cycle, m, now = self.cycle, self.memory, snap.now
        campaign = cycle.campaign
        held = cycle.state in (S.OPEN, S.ROLLING_SHORT, S.ROLLING_LONG)
        if held and campaign.long is None and campaign.retiring is None:
            if campaign.short is not None:
                actions.append(safety_event(m, now, "naked_short", "short without a long: "
                                            "closed", self.state_name()))  # fmt: skip
            self._start_close("naked_short" if campaign.short is not None else "legs_gone",
                              event=False)  # fmt: skip
        if cycle.state not in (S.CLOSING, S.CLOSE_STUCK):
            return False
        if cycle.order is not None and cycle.order.stuck:
            if not m.cooling(now, cycle.order.step.value):
                actions.append(cycle.reissue())
            return True
        reason = cycle.close_reason or "close"
        if campaign.short is not None:
            actions.append(cycle.buy_back_short(m.next_intent("close_short", now), reason, None))
        elif campaign.long is not None or campaign.retiring is not None:
            leg = campaign.long or campaign.retiring
            assert leg is not None
            actions.append(cycle.sell_long(leg, m.next_intent("close_long", now), reason, None))
        else:  # the legs vanished at the broker (expiry, assignment): nothing left to sell
            outcome = cycle.finish_empty()
            if outcome.closed is not None:
                actions.extend(self._campaign_closed(outcome.closed, outcome.close_reason, now))
        return True

    def _start_close(self, reason: str, *, event: bool) -> None:
        self.cycle.close_reason, self.cycle.close_for_event = reason, event
        self.cycle.fire(Trigger.CLOSE, reason)

    def _flash_check(self, snap: Snapshot, price: Decimal, actions: list[Action]) -> None:
        """MKT-002: a safety event on a flash move (the exits themselves are unchanged)."""
        self._flash.add(snap.now, price)
        move = self._flash.move_percent()
        if move >= Decimal(str(self._cfg.flash_move_percent)):
            self._flash.clear()
            detail = f"QQQ moved {move:.2f}% within {self._cfg.flash_move_window_minutes} min"
            actions.append(safety_event(self.memory, snap.now, "flash_move", detail,
                                        self.state_name()))  # fmt: skip

    # --- the campaign --------------------------------------------------------------------
    def _manage(self, snap: Snapshot, price: Decimal, today: date,
                session: market_hours.TradingSession, actions: list[Action]) -> None:  # fmt: skip
        cfg, cycle, m, now = self._cfg, self.cycle, self.memory, snap.now
        campaign = cycle.campaign
        if campaign.long is None:
            return
        if cycle.state is S.OPEN:
            event = mv.event_within_blackout(cfg, self._calendar, today)
            exit_reason = rules.campaign_close_reason(
                long_dte=campaign.long.dte(today), campaign_close_dte=cfg.campaign_close_dte,
                event_within_blackout=event,
                unrealized_pnl_usd=campaign.unrealized_usd(snap.quotes),
                max_loss_usd=cfg.max_loss_usd_per_contract * cfg.position_size_contracts,
                indicators=m.indicators,
            )  # fmt: skip
            if exit_reason is not None:
                is_event = exit_reason is rules.CloseReason.EVENT
                self._start_close(exit_reason.value, event=is_event)
                self._continue_close(snap, actions)
                return
        short = campaign.short
        if cycle.state is S.OPEN and short is not None and self._roll_due(now):
            if not m.cooling(now, "buy_back_short"):
                cycle.roll_kind = rules.short_roll_kind(price, short.strike)
                cycle.roll_strike = short.strike
                reason = f"{cycle.roll_kind} roll of {short.strike} {short.expiry} at {price}"
                actions.append(cycle.buy_back_short(m.next_intent("roll_short", now), reason,
                                                    Trigger.ROLL_SHORT))  # fmt: skip
            return
        late = _late(now, session)
        if short is None and cycle.state in (S.OPEN, S.ROLLING_SHORT) and not late:
            self._sell_short(snap, price, today, actions)
            return
        if cycle.state is S.ROLLING_LONG and campaign.retiring is not None:
            leg = campaign.retiring
            actions.append(cycle.sell_long(leg, m.next_intent("roll_long_sell", now),
                                           "sell the rolled-up long", None))  # fmt: skip
            return
        self._maybe_roll_long(snap, price, today, actions)

    def _sell_short(self, snap: Snapshot, price: Decimal, today: date,
                    actions: list[Action]) -> None:  # fmt: skip
        cycle, m = self.cycle, self.memory
        if m.cooling(snap.now, "sell_short"):
            return
        kind = cycle.roll_kind
        same = cycle.roll_strike if kind is rules.RollKind.HORIZONTAL else None
        leg = mv.choose_short(self._cfg, snap, price, self._max_age_s, today, same)
        if isinstance(leg, str):
            self._decision(actions, snap.now, "short_not_yet", leg)
            return
        trigger = Trigger.ROLL_SHORT if cycle.state is S.OPEN else None
        reason = f"sell short {leg.strike} {leg.expiry}" + (f" ({kind} roll)" if kind else "")
        actions.append(cycle.sell_short(leg, m.next_intent("sell_short", snap.now), reason,
                                        trigger))  # fmt: skip

    def _maybe_roll_long(self, snap: Snapshot, price: Decimal, today: date,
                         actions: list[Action]) -> None:  # fmt: skip
        cfg, cycle, m = self._cfg, self.cycle, self.memory
        campaign = cycle.campaign
        if (cycle.state is not S.OPEN or campaign.long is None or m.long_rolled_on == today
                or m.cooling(snap.now, "buy_long") or m.cooling(snap.now, LONG_ROLL_RECHECK_KEY)):
            return
        why = rules.long_roll_up_reason(
            long_delta=mv.long_delta(snap, campaign.long, price, today),
            roll_delta_threshold=cfg.long_roll_delta_threshold,
            margin_used_usd=snap.margin_used_usd,
            roll_margin_usd=cfg.long_roll_bp_threshold_usd,
        )  # fmt: skip
        m.long_roll_due = why is not None
        if why is None:
            return
        leg = mv.choose_long(cfg, snap, price, self._max_age_s, today)
        if isinstance(leg, str) or leg.strike <= campaign.long.strike:
            detail = leg if isinstance(leg, str) else f"no higher strike than {leg.strike}"
            self._decision(actions, snap.now, "long_roll_not_yet", f"{why}; {detail}")
            if mv.has_long_chain(cfg, snap, today):  # looked and found none: not every pass
                m.cooldown_until[LONG_ROLL_RECHECK_KEY] = snap.now + LONG_ROLL_RECHECK
            return
        m.long_rolled_on = today
        actions.append(cycle.buy_long(leg, m.next_intent("roll_long_buy", snap.now),
                                      f"roll up: {why}", Trigger.ROLL_LONG))  # fmt: skip

    def _try_entry(self, snap: Snapshot, price: Decimal, today: date,
                   actions: list[Action]) -> None:  # fmt: skip
        m, now = self.memory, snap.now
        if (not snap.breaker_allows_entries or m.closed_on == today or m.cooling(now, "buy_long")
                or m.cooling(now, ENTRY_RECHECK_KEY)):  # fmt: skip
            return
        blockers = self._entry_blockers(now, price)
        if blockers:
            self._decision(actions, now, "entry_waits", "; ".join(blockers))
            return
        leg = mv.choose_long(self._cfg, snap, price, self._max_age_s, today)
        short = mv.choose_short(self._cfg, snap, price, self._max_age_s, today, None)
        if isinstance(leg, str) or isinstance(short, str):
            detail = leg if isinstance(leg, str) else str(short)
            self._decision(actions, now, "entry_not_yet", detail)
            if mv.has_long_chain(self._cfg, snap, today):  # looked and found none: not every pass
                minutes = self._cfg.failed_action_cooldown_minutes
                m.cooldown_until[ENTRY_RECHECK_KEY] = now + timedelta(minutes=minutes)
            return
        intent = m.next_intent("entry", now)
        actions.append(self.cycle.buy_long(leg, intent, f"enter: long {leg.strike} {leg.expiry}",
                                           Trigger.ENTER))  # fmt: skip

    def _wait_event(self, snap: Snapshot, today: date, actions: list[Action]) -> None:
        if mv.event_within_blackout(self._cfg, self._calendar, today) is None:
            self.cycle.fire(Trigger.EVENT_PASSED, "no event within the blackout")

    def _campaign_closed(self, closed: Campaign, reason: str, now: datetime) -> list[Action]:
        """Book a closed campaign: the ledger, its Bot Logs line and its Campaigns row."""
        m, today = self.memory, now.astimezone(NY).date()
        number, realized = m.ledger.campaigns + 1, closed.cash.net_usd
        m.book(realized)
        m.closed_on = today
        detail = f"campaign=c{number} realized_pnl_usd={realized} reason={reason}"
        actions: list[Action] = [campaign_record(closed, number, reason, today)]
        event = decision_event(m, now, f"campaign_closed_c{number}", detail)
        return actions + ([event] if event is not None else [])

    # --- helpers -----------------------------------------------------------------------------
    def _new_day(self, snap: Snapshot, today: date) -> None:
        m = self.memory
        if m.day != today:
            m.new_day(today)
        bars = snap.bars.get(self._qqq)
        if m.bars_day != today and bars:
            completed = mv.completed_bars(bars, today)
            m.indicators = rules.indicators(completed, mv.indicator_settings(self._cfg))
            m.previous_close = Decimal(str(completed[-1].close)) if completed else None
            m.bars_day = today
            logger.info(kv("daily_indicators", day=today, indicators=m.indicators))

    def _entry_blockers(self, now: datetime, price: Decimal | None) -> list[str]:
        session = market_hours.session(now.astimezone(NY).date())
        if session is None:
            return ["no session today"]
        inputs = rules.EntryInputs(
            now_et=now.astimezone(NY), session_open_et=session.open.time(), price=price,
            previous_close=self.memory.previous_close, indicators=self.memory.indicators,
            event_within_blackout=mv.event_within_blackout(self._cfg, self._calendar,
                                                           session.day),
        )  # fmt: skip
        return rules.entry_blockers(inputs, mv.entry_rules(self._cfg))

    def _entry_signal_holds(self, now: datetime) -> bool:
        """The entry rules that need no chain hold now (the chains are fetched only then)."""
        if self.cycle.state is not S.FLAT or self.memory.closed_on == now.astimezone(NY).date():
            return False
        return not self._entry_blockers(now, self.memory.last_price)

    def _roll_due(self, now: datetime) -> bool:
        short = self.cycle.campaign.short
        return short is not None and rules.short_roll_due(
            now_et=now.astimezone(NY), roll_time_et=self._cfg.short_roll_time_et,
            last_roll_day=self.memory.last_roll_day, short_expiry=short.expiry,
        )  # fmt: skip

    def _decision(self, actions: list[Action], now: datetime, name: str, detail: str) -> None:
        event = decision_event(self.memory, now, name, detail)
        if event is not None:
            actions.append(event)
