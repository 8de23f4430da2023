"""The straddle's and the strangle's lifecycles: each owns its state, its position and its order
in flight, and turns executor reports into state changes. No I/O; money from fills only.

A lifecycle never decides *whether* to act (that is `rules` and the strategy): it builds the
order for an action it is told to take, and books what the executor reports.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, Generic, TypeVar

from bots.delta_neutral.book import (
    CONTRACT_MULTIPLIER,
    Leg,
    OptionPair,
    Straddle,
    Strangle,
    keep_filled,
)
from bots.delta_neutral.states import (
    STRADDLE_TRANSITIONS,
    STRANGLE_TRANSITIONS,
    StraddleState,
    StrangleState,
    Trigger,
    next_state,
)
from shared.domain import PutCall
from shared.logger_service import kv
from shared.strategy.fills import CashFlow, cash_flow
from shared.strategy.recovery import BrokerLeg
from shared.strategy_contract import (
    ClosePosition,
    ExecutionReport,
    LegFill,
    OpenPosition,
    OrderStyle,
)

logger = logging.getLogger("bots.delta_neutral.strategy")

PairT = TypeVar("PairT", Straddle, Strangle)
StateT = TypeVar("StateT", StraddleState, StrangleState)


@dataclass(frozen=True)
class Booked:
    """What a report changed: `realized_usd` is the P&L, net of commissions, of a position
    closed by it (None when nothing closed)."""

    trigger: Trigger
    realized_usd: Decimal | None = None


class _Lifecycle(Generic[PairT, StateT]):
    """State, position and in-flight intent of one lifecycle (shared mechanics)."""

    name: str
    _table: dict[tuple[StateT, Trigger], StateT]
    _pair_type: type[PairT]

    def __init__(self, state: StateT) -> None:
        self._initial: StateT = state
        self.state: StateT = state
        self.held: PairT | None = None  # what the broker holds for this lifecycle
        self.pending: PairT | None = None  # what the order in flight opens
        self.intent_id: str | None = None
        self.close_reason: str | None = None

    def fire(self, trigger: Trigger, reason: str) -> None:
        before = self.state
        self.state = next_state(self._table, before, trigger)
        logger.info(
            kv(
                f"{self.name}_state",
                from_state=before,
                to=self.state,
                trigger=trigger,
                reason=reason,
            )
        )

    def open(
        self,
        pair: PairT,
        intent_id: str,
        reason: str,
        trigger: Trigger | None = Trigger.ORDER_SENT,
        order_style: OrderStyle = OrderStyle.MARKET,
    ) -> OpenPosition:
        """Send the opening orders of `pair` (call, then put). `trigger` None: the state
        already says an entry is due (the second half of a recenter or roll)."""
        self.pending, self.intent_id = pair, intent_id
        if trigger is not None:
            self.fire(trigger, reason)
        return OpenPosition(
            intent_id=intent_id, legs=pair.entry_legs(), reason=reason, order_style=order_style
        )

    def close(self, intent_id: str, reason: str, trigger: Trigger | None) -> ClosePosition:
        """Close everything held (urgent: market orders, verified until flat). `trigger` None:
        the state already says a close is due (a half-filled strangle, a re-issued close)."""
        if self.held is None:
            raise RuntimeError(f"{self.name}: close without a position")
        self.intent_id, self.close_reason = intent_id, reason
        if trigger is not None:
            self.fire(trigger, reason)
        return ClosePosition(intent_id=intent_id, legs=self.held.close_legs(), exit_reason=reason)

    def on_report(self, report: ExecutionReport) -> Booked | None:
        """Book the report of this lifecycle's order in flight (an entry or a close)."""
        if self.state.value in ("opening", "recenter_opening", "roll_opening"):
            return self.on_open_report(report)
        return self.on_close_report(report)

    def on_open_report(self, report: ExecutionReport) -> Booked | None:
        """Book an entry's outcome. A partial fill keeps the filled leg(s) in `held`."""
        pending = self.pending
        if pending is None or report.status == "in_progress":
            return None
        if report.status == "filled":
            self.held = self._merge(pending, report.fills)
            trigger = Trigger.FILLED
        elif report.fills and report.status == "failed":
            call, put = keep_filled(pending, report.fills)
            self.held = self._merge(self._pair_type(call, put), report.fills)
            trigger = Trigger.PARTIAL_FILL
        else:  # failed with nothing filled, or unwound: nothing left open
            trigger = Trigger.FAILED
        self.pending, self.intent_id = None, None
        self.fire(trigger, f"entry {report.status} {report.detail}".strip())
        return Booked(trigger)

    def on_close_report(self, report: ExecutionReport) -> Booked | None:
        """Book a close: `closed` realizes the P&L; `stuck` keeps the position and alerts."""
        if report.status == "in_progress":
            return None
        held = self.held
        if report.status != "closed" or held is None:
            self.intent_id = None  # re-issued by the strategy after the cooldown
            self.fire(Trigger.STUCK, f"close {report.status} {report.detail}".strip())
            return Booked(Trigger.STUCK)
        realized = (held.cash + cash_flow(report.fills)).net_usd
        self.held, self.intent_id = None, None
        self.fire(Trigger.CLOSED, self.close_reason or "closed")
        return Booked(Trigger.CLOSED, realized)

    def _merge(self, pair: PairT, fills: Sequence[LegFill]) -> PairT:
        """`pair` booked from `fills`, joined with any leg already held (a completed partial)."""
        held = self.held
        call = pair.call or (held.call if held is not None else None)
        put = pair.put or (held.put if held is not None else None)
        cash = (held.cash if held is not None else pair.cash) + cash_flow(fills)
        return self._pair_type(call, put, cash)

    def to_json(self) -> dict[str, Any]:
        return {
            "state": self.state.value,
            "held": None if self.held is None else self.held.to_json(),
            "pending": None if self.pending is None else self.pending.to_json(),
            "intent_id": self.intent_id,
            "close_reason": self.close_reason,
        }

    def load(self, data: Any, state_type: type[StateT]) -> None:
        if not isinstance(data, dict):
            raise ValueError(f"{self.name}: expected an object, got {data!r}")
        try:
            self.state = state_type(str(data.get("state")))
        except ValueError:
            raise ValueError(f"{self.name}.state invalid: {data.get('state')!r}") from None
        held, pending = data.get("held"), data.get("pending")
        self.held = None if held is None else self._from_json(held, f"{self.name}.held")
        self.pending = None if pending is None else self._from_json(pending, f"{self.name}.pending")
        intent, reason = data.get("intent_id"), data.get("close_reason")
        self.intent_id = intent if isinstance(intent, str) else None
        self.close_reason = reason if isinstance(reason, str) else None

    def lose_legs(self, present_uics: frozenset[int]) -> frozenset[int]:
        """Drop held legs the broker no longer shows (early assignment, a manual trade);
        returns the uics dropped. The state moves on LEG_LOST (a strangle then closes)."""
        held = self.held
        if held is None or self.intent_id is not None:
            return frozenset()
        lost = held.uics - present_uics
        for uic in lost:
            held = held.without(uic)
        if lost:
            self.held = None if held.empty else held
            self.fire(Trigger.LEG_LOST, f"legs gone at the broker: {sorted(lost)}")
        return lost

    @property
    def closing_without_order(self) -> bool:
        """A close is due but no order is in flight (a half fill, a lost leg, a stuck close)."""
        return (
            self.intent_id is None
            and self.held is not None
            and self.state.value
            in (
                "closing",
                "close_stuck",
            )
        )

    def adopt(self, legs: Sequence[BrokerLeg]) -> None:
        """Take the broker's legs as the truth after a restart (STATE-001/002): the saved
        position's money is kept when it names the same contracts, otherwise the legs are
        valued at the broker's open prices (commissions unknown); nothing in flight survives
        a restart (the runtime reconciled the intents)."""
        saved = self.held if self.held is not None else self.pending
        self.pending, self.intent_id = None, None
        restored = self._pair_type(*_call_put(legs))
        if restored.empty:
            self.held = None
            self.state = self._initial
            return
        if saved is not None and saved.uics == restored.uics:
            restored = self._pair_type(restored.call, restored.put, saved.cash)
        else:
            restored = self._pair_type(restored.call, restored.put, _open_cash(legs))
        self.held = restored
        self.state = self._initial
        self.fire(self._restore_trigger(restored), f"restored {sorted(restored.uics)}")

    def _restore_trigger(self, pair: PairT) -> Trigger:
        return Trigger.RESTORE_HOLDING if pair.complete else Trigger.RESTORE_PARTIAL

    def _from_json(self, data: Any, name: str) -> PairT:
        pair = OptionPair.from_json(data, name)
        return self._pair_type(pair.call, pair.put, pair.cash)


class StraddleLifecycle(_Lifecycle[Straddle, StraddleState]):
    """The long ATM straddle: entry, partial completion, recenter, close."""

    name = "straddle"
    _table = STRADDLE_TRANSITIONS
    _pair_type = Straddle

    def __init__(self) -> None:
        super().__init__(StraddleState.FLAT)

    def missing_leg_order(self, leg: Leg, intent_id: str, order_style: OrderStyle) -> OpenPosition:
        """Buy the one leg a partial straddle lacks (ORDER-001, no shorts against it)."""
        is_call = self.held is not None and self.held.call is None
        pair = Straddle(leg if is_call else None, None if is_call else leg)
        return self.open(pair, intent_id, "complete_partial_straddle", order_style=order_style)


class StrangleLifecycle(_Lifecycle[Strangle, StrangleState]):
    """The weekly short strangle: entry, roll, challenged close, expiry, close."""

    name = "strangle"
    _table = STRANGLE_TRANSITIONS
    _pair_type = Strangle

    def __init__(self) -> None:
        super().__init__(StrangleState.NONE)

    def _restore_trigger(self, pair: Strangle) -> Trigger:
        return Trigger.RESTORE_HOLDING if pair.complete else Trigger.RESTORE_CLOSE

    def expire(self, now: datetime) -> Decimal | None:
        """Drop shorts whose expiry has passed (POS-004); the broker settled them. Returns
        their realized P&L (USD, the premium from the fills less commissions: expired
        worthless; an assignment shows as the shares the operator handles), None if none."""
        held = self.held
        if held is not None:
            logger.info(kv("shorts_expired", expiry=held.expiry, at=now))
        self.held = None
        self.fire(Trigger.EXPIRED, "expiry passed")
        return None if held is None else held.cash.net_usd


def _call_put(legs: Sequence[BrokerLeg]) -> tuple[Leg | None, Leg | None]:
    """The first call and put among `legs` as Legs (quantity = |amount|); a leg without an
    expiry is never adopted (the restore reports it as an orphan)."""
    found: dict[PutCall, Leg] = {}
    for leg in legs:
        if leg.expiry is not None:
            found.setdefault(
                leg.put_call, Leg(leg.uic, leg.strike, leg.put_call, leg.expiry, abs(leg.amount))
            )
    return found.get(PutCall.CALL), found.get(PutCall.PUT)


def _open_cash(legs: Sequence[BrokerLeg]) -> CashFlow:
    """Cash flow of `legs` at the broker's open prices (restart without saved money)."""
    gross = Decimal(0)
    for leg in legs:
        if leg.open_price is not None:
            gross -= leg.open_price * CONTRACT_MULTIPLIER * leg.amount
    return CashFlow(gross, Decimal(0))
