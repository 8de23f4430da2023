"""Restart recovery: rebuild the day from the saved state and the broker's positions.

The broker is the truth for what is open (strategies.md 5.1 POS-001..POS-005): one complete
0DTE fly is monitored at once; any other option legs are closed with a safety record.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any

from bots.iron_fly_0dte.book import ROOT, Fly
from bots.iron_fly_0dte.core import StrategyCore, logger
from bots.iron_fly_0dte.memory import Memory
from bots.iron_fly_0dte.opening_range import NY
from bots.iron_fly_0dte.recovery import single_fly
from bots.iron_fly_0dte.states import POSITION_STATES, IronFlyState, Trigger
from shared.domain import Position
from shared.logger_service import kv
from shared.strategy import recovery
from shared.strategy.closing import CloseTracker
from shared.strategy_contract import Action, ClosePosition

S = IronFlyState


class RestoringPart(StrategyCore):
    """`restore` and its cases."""

    def restore(
        self, saved: Mapping[str, Any] | None, positions: Sequence[Position], now: datetime
    ) -> Sequence[Action]:
        """Rebuild from the saved state and the broker's positions; protect at once.

        The broker is the truth for what is open: one complete 0DTE fly is monitored (credit
        and entry time from the saved state when its legs match, else from the broker's open
        prices); any other option legs are closed; a saved day other than today is ignored.
        """
        actions: list[Action] = []
        today = now.astimezone(NY).date()
        self._state = S.IDLE  # restore always rebuilds from scratch
        self._flash.clear()
        saved_state, memory = self._parse_saved(saved, today, now, actions)
        self._m = Memory(day=today, close_seq=memory.close_seq if memory else 0)
        book = recovery.read_book(positions)
        if book.unreadable:
            self._safety(actions, now, "unreadable_positions",
                         f"positions without strike/put-call ignored: {book.unreadable}")
        uics = {leg.uic for leg in book.legs}
        if saved_state is S.ENTERING and memory is not None and memory.fly is not None \
                and uics <= memory.fly.uics:
            self._restore_entering(memory, now)
        elif saved_state in (S.CLOSING, S.CLOSE_STUCK) and memory is not None \
                and memory.close is not None and book.legs \
                and uics <= {leg.uic for leg in memory.close.legs}:
            self._restore_closing(memory, positions, now, actions)
        elif not book.legs:
            self._restore_flat(saved_state, memory, now, actions)
        else:
            fly = single_fly(book)
            if fly is not None and fly.expiry == today:
                self._restore_fly(fly, saved_state, memory, positions, now, actions)
            else:
                self._restore_leftovers(book, today, now, actions)
        logger.info(kv("restored", state=self._state, day=today, legs=book.describe()))
        return actions

    def _parse_saved(self, saved: Mapping[str, Any] | None, today: date, now: datetime,
                     actions: list[Action]) -> tuple[IronFlyState | None, Memory | None]:
        if saved is None:
            return None, None
        try:
            state, memory = Memory.from_json(dict(saved))
        except ValueError as exc:
            logger.error(kv("saved_state_invalid", error=exc))
            self._safety(actions, now, "saved_state_invalid", str(exc), day=today)
            return None, None
        if memory.day != today:
            logger.info(kv("saved_state_other_day", saved_day=memory.day, today=today))
            return None, None
        return state, memory

    def _restore_flat(self, saved_state: IronFlyState | None, memory: Memory | None,
                      now: datetime, actions: list[Action]) -> None:
        if saved_state is None or memory is None:
            return
        if saved_state in POSITION_STATES or saved_state is S.DONE:
            if saved_state in POSITION_STATES:
                self._safety(actions, now, "position_gone_at_restart",
                             f"saved state {saved_state} but the broker shows no legs")
            self._m.fly, self._m.entry_intent_id = memory.fly, memory.entry_intent_id
            self._fire(Trigger.RESTORE_DONE, f"saved {saved_state}, broker flat")
            return
        self._m.opening_range, self._m.range_row_at = memory.opening_range, memory.range_row_at
        self._m.waited_in_range = memory.waited_in_range
        if saved_state is S.OPENING_RANGE and memory.opening_range is not None:
            self._fire(Trigger.RESTORE_RANGE, "opening range restored")
        elif saved_state is S.ENTRY_PENDING and memory.opening_range is not None:
            self._fire(Trigger.RESTORE_PENDING, "filters had passed")

    def _restore_fly(self, fly: Fly, saved_state: IronFlyState | None, memory: Memory | None,
                     positions: Sequence[Position], now: datetime, actions: list[Action]) -> None:
        saved_fly = memory.fly if memory is not None else None
        opened = [p.opened_at for p in positions if p.uic in fly.uics and p.opened_at]
        if memory is not None and saved_fly is not None and saved_fly.uics == fly.uics \
                and saved_fly.quantity == fly.quantity:
            fly = saved_fly
            self._m.entry_intent_id = memory.entry_intent_id
            self._m.close_fills = dict(memory.close_fills)
            if fly.credit_usd is None:  # the entry filled while the bot was down
                fly.entry_at = min(opened) if opened else now
                self._credit_from_broker(fly, positions)
                self._safety(actions, now, "entry_confirmed_by_broker",
                             f"saved {saved_state}; the broker holds the planned fly; credit "
                             f"{fly.credit_usd} from {fly.credit_source}")
        else:
            fly.entry_at = min(opened) if opened else now
            self._credit_from_broker(fly, positions)
            self._safety(actions, now, "fly_adopted",
                         f"broker fly ATM {fly.atm_strike} x{fly.quantity} without matching "
                         f"saved state; credit {fly.credit_usd} from {fly.credit_source}")
        if fly.entry_at is None:
            fly.entry_at = now
        self._m.fly = fly
        self._fire(Trigger.RESTORE_POSITION, f"fly ATM {fly.atm_strike} x{fly.quantity}")

    def _restore_entering(self, memory: Memory, now: datetime) -> None:
        """The entry was in flight: the executor finishes or unwinds it after a restart and
        reports; wait for that report (the entry timeout and the wing stop still apply)."""
        self._m.fly, self._m.entry_intent_id = memory.fly, memory.entry_intent_id
        self._m.entry_sent_at = now
        self._fire(Trigger.RESTORE_ENTERING, "entry interrupted; waiting for the executor")

    def _restore_closing(self, memory: Memory, positions: Sequence[Position], now: datetime,
                         actions: list[Action]) -> None:
        """A close was in flight: re-issue it under its own intent id (the executor ignores it
        if it resumed that close) for the legs the broker still shows."""
        close = memory.close
        assert close is not None
        self._m.fly, self._m.entry_intent_id = memory.fly, memory.entry_intent_id
        self._m.close_fills = dict(memory.close_fills)
        self._m.close = CloseTracker(close.intent_id, close.reason, now, close.legs,
                                     reissues=close.reissues)
        remaining = recovery.still_open(close.legs, positions)
        actions.append(ClosePosition(close.intent_id, remaining, close.reason, urgent=True))
        self._fire(Trigger.RESTORE_CLOSE, f"close {close.intent_id} resumed")

    def _restore_leftovers(self, book: recovery.BrokerBook, today: date, now: datetime,
                           actions: list[Action]) -> None:
        closable = book.unexpired(today)
        self._safety(actions, now, "malformed_position",
                     f"broker legs are not one complete 0DTE fly, closing all: {book.describe()}")
        if not closable.legs:
            self._fire(Trigger.RESTORE_DONE, "only expired legs remain")
            return
        legs = recovery.close_all_legs(closable, ROOT)
        intent = self._next_close_intent(now)
        self._m.close = CloseTracker(intent, "recovered_leftovers", now, legs)
        actions.append(ClosePosition(intent, legs, "recovered_leftovers", urgent=True))
        self._fire(Trigger.RESTORE_CLOSE, "closing malformed legs")
