"""The restore step: rebuild the day's lifecycles from the saved state and the broker's book.

The broker is the truth for what is open (strategies.md 5.1 POS-001..POS-005): one complete
0DTE fly is monitored at once (credit and entry time from the saved state when its legs match,
else from the broker's open prices); any other option legs are closed with a safety record; a
saved day other than today is ignored. An entry or a close in flight is resumed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from bots.iron_fly_0dte.book import ROOT, Fly
from bots.iron_fly_0dte.config import IronFlyStrategyConfig
from bots.iron_fly_0dte.entry import EntryLifecycle
from bots.iron_fly_0dte.market import MarketView
from bots.iron_fly_0dte.memory import Memory
from bots.iron_fly_0dte.opening_range import NY
from bots.iron_fly_0dte.position import PositionLifecycle
from bots.iron_fly_0dte.records import Recorder, logger
from bots.iron_fly_0dte.recovery import credit_from_broker, single_fly
from bots.iron_fly_0dte.states import POSITION_STATES, IronFlyState, day_state
from shared.domain import Position
from shared.logger_service import kv
from shared.strategy import recovery
from shared.strategy_contract import OrderStyle

S = IronFlyState


@dataclass
class RestoredDay:
    """Today's (New York date) lifecycles after a restart, and what to send at once."""

    day: date
    entry: EntryLifecycle
    position: PositionLifecycle
    rec: Recorder


class RestoreStep:
    """Builds a protected day from a restart's inputs; one call per restart."""

    def __init__(self, config: IronFlyStrategyConfig, market: MarketView,
                 order_style: OrderStyle) -> None:
        self._cfg = config
        self._market = market
        self._order_style = order_style

    def run(self, saved: Mapping[str, Any] | None, positions: Sequence[Position],
            now: datetime) -> RestoredDay:
        today = now.astimezone(NY).date()
        # the records of a restore carry the state it starts from
        rec = Recorder(now=now, day=today, state=lambda: S.IDLE.value)
        saved_state, memory = self._parse_saved(saved, today, rec)
        entry = EntryLifecycle(self._cfg, self._market, self._order_style)
        position = PositionLifecycle(self._cfg, self._market, today,
                                     close_seq=memory.close_seq if memory else 0)
        day = RestoredDay(today, entry, position, rec)
        book = recovery.read_book(positions)
        if book.unreadable:
            rec.safety("unreadable_positions",
                       f"positions without strike/put-call ignored: {book.unreadable}")
        uics = {leg.uic for leg in book.legs}
        if saved_state is S.ENTERING and memory is not None and memory.fly is not None \
                and uics <= memory.fly.uics:
            entry.restore_entering(memory.fly, memory.entry_intent_id, now)
        elif saved_state in (S.CLOSING, S.CLOSE_STUCK) and memory is not None \
                and memory.close is not None and book.legs \
                and uics <= {leg.uic for leg in memory.close.legs}:
            entry.restore_finished(memory.fly, memory.entry_intent_id, "a close was in flight")
            position.restore_close(memory.close, memory.fly, memory.close_fills, positions, rec)
        elif not book.legs:
            self._flat(day, saved_state, memory)
        else:
            fly = single_fly(book)
            if fly is not None and fly.expiry == today:
                self._fly(day, fly, saved_state, memory, positions)
            else:
                self._leftovers(day, book)
        logger.info(kv("restored", state=day_state(entry.state, position.state), day=today,
                       legs=book.describe()))
        return day

    @staticmethod
    def _parse_saved(saved: Mapping[str, Any] | None, today: date,
                     rec: Recorder) -> tuple[IronFlyState | None, Memory | None]:
        if saved is None:
            return None, None
        try:
            state, memory = Memory.from_json(dict(saved))
        except ValueError as exc:
            logger.error(kv("saved_state_invalid", error=exc))
            rec.safety("saved_state_invalid", str(exc), day=today)
            return None, None
        if memory.day != today:
            logger.info(kv("saved_state_other_day", saved_day=memory.day, today=today))
            return None, None
        return state, memory

    @staticmethod
    def _flat(day: RestoredDay, saved_state: IronFlyState | None,
              memory: Memory | None) -> None:
        if saved_state is None or memory is None:
            return
        if saved_state in POSITION_STATES or saved_state is S.DONE:
            if saved_state in POSITION_STATES:
                day.rec.safety("position_gone_at_restart",
                               f"saved state {saved_state} but the broker shows no legs")
            day.entry.restore_finished(memory.fly, memory.entry_intent_id,
                                       f"saved {saved_state}, broker flat")
            return
        day.entry.restore_morning(saved_state, memory.opening_range, memory.range_row_at,
                                  memory.waited_in_range)

    @staticmethod
    def _fly(day: RestoredDay, fly: Fly, saved_state: IronFlyState | None,
             memory: Memory | None, positions: Sequence[Position]) -> None:
        now, rec = day.rec.now, day.rec
        saved_fly = memory.fly if memory is not None else None
        opened = [p.opened_at for p in positions if p.uic in fly.uics and p.opened_at]
        intent_id = None
        close_fills = {}
        if memory is not None and saved_fly is not None and saved_fly.uics == fly.uics \
                and saved_fly.quantity == fly.quantity:
            fly, intent_id, close_fills = saved_fly, memory.entry_intent_id, memory.close_fills
            if fly.credit_usd is None:  # the entry filled while the bot was down
                fly.entry_at = min(opened) if opened else now
                credit_from_broker(fly, positions)
                rec.safety("entry_confirmed_by_broker",
                           f"saved {saved_state}; the broker holds the planned fly; credit "
                           f"{fly.credit_usd} from {fly.credit_source}")
        else:
            fly.entry_at = min(opened) if opened else now
            credit_from_broker(fly, positions)
            rec.safety("fly_adopted",
                       f"broker fly ATM {fly.atm_strike} x{fly.quantity} without matching "
                       f"saved state; credit {fly.credit_usd} from {fly.credit_source}")
        if fly.entry_at is None:
            fly.entry_at = now
        day.entry.restore_finished(fly if intent_id else None, intent_id, "a fly is held")
        day.position.restore_held(fly, close_fills)

    @staticmethod
    def _leftovers(day: RestoredDay, book: recovery.BrokerBook) -> None:
        closable = book.unexpired(day.day)
        day.rec.safety("malformed_position", "broker legs are not one complete 0DTE fly, "
                       f"closing all: {book.describe()}")
        day.entry.restore_finished(None, None, "legs at the broker that are not our fly")
        if closable.legs:
            day.position.restore_leftover_close(recovery.close_all_legs(closable, ROOT), day.rec)
