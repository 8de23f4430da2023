"""The campaign's lifecycle: its state, the legs held, the one order in flight, and the
booking of each executor report. No I/O; money from fills only.

Every order is one leg, in the campaign's safe order: the long is bought before any short is
sold; a short roll buys the old short back, then sells the new one; a long roll buys the new
long, then sells the old (so the short always has a long under it); a close buys the short
back, then sells the long(s). The lifecycle never decides *whether* to act (rules and the
strategy do): it builds the order it is told to send and books what the executor reports.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from decimal import Decimal
from enum import StrEnum
from typing import Any

from bots.rolling_put_diagonal.book import Campaign, PutLeg
from bots.rolling_put_diagonal.rules import RollKind
from bots.rolling_put_diagonal.states import CampaignState, Trigger, next_state
from shared.domain import Side
from shared.logger_service import kv
from shared.market_hours import NY
from shared.strategy.codec import dec
from shared.strategy_contract import (
    ClosePosition,
    ExecutionReport,
    OpenPosition,
    OrderStyle,
)

logger = logging.getLogger("bots.rolling_put_diagonal.strategy")
S = CampaignState


class Step(StrEnum):
    BUY_LONG = "buy_long"
    SELL_SHORT = "sell_short"
    BUY_BACK_SHORT = "buy_back_short"
    SELL_LONG = "sell_long"


@dataclass(frozen=True)
class InFlight:
    """The order the executor is working on (`stuck`: a close it could not complete, to be
    re-issued under the same intent id)."""

    intent_id: str
    step: Step
    leg: PutLeg
    stuck: bool = False

    def to_json(self) -> dict[str, Any]:
        return {"intent_id": self.intent_id, "step": self.step.value, "leg": self.leg.to_json(),
                "stuck": self.stuck}  # fmt: skip

    @classmethod
    def from_json(cls, data: Any) -> InFlight:
        if not isinstance(data, dict) or not isinstance(data.get("intent_id"), str):
            raise ValueError(f"order: expected an object with an intent_id, got {data!r}")
        try:
            step = Step(str(data.get("step")))
        except ValueError:
            raise ValueError(f"order.step invalid: {data.get('step')!r}") from None
        return cls(data["intent_id"], step, PutLeg.from_json(data.get("leg"), "order.leg"),
                   bool(data.get("stuck", False)))  # fmt: skip


@dataclass(frozen=True)
class Outcome:
    """What a report changed: `failed` an action to cool down after; `closed` the campaign
    the report finished closing (its P&L is `closed.cash.net_usd`) and why."""

    failed: bool = False
    closed: Campaign | None = None
    close_reason: str = ""

    @property
    def realized_usd(self) -> Decimal | None:
        return None if self.closed is None else self.closed.cash.net_usd


class CampaignLifecycle:
    """State, campaign and order in flight (see the module docstring)."""

    def __init__(self, order_style: OrderStyle = OrderStyle.MARKET) -> None:
        self.state = S.FLAT
        self.campaign = Campaign()
        self.order: InFlight | None = None
        self.close_reason: str | None = None
        self.close_for_event = False
        self.roll_kind: RollKind | None = None  # the short roll under way
        self.roll_strike: Decimal | None = None  # its old short's strike (a horizontal target)
        self._style = order_style

    # --- state ---------------------------------------------------------------------------
    def fire(self, trigger: Trigger, reason: str) -> None:
        before = self.state
        self.state = next_state(before, trigger)
        logger.info(kv("campaign_state", from_state=before, to=self.state, trigger=trigger,
                       reason=reason))  # fmt: skip

    @property
    def busy(self) -> bool:
        """An order is being worked (a stuck close is not: it waits to be re-issued)."""
        return self.order is not None and not self.order.stuck

    # --- orders --------------------------------------------------------------------------
    def buy_long(self, leg: PutLeg, intent_id: str, reason: str,
                 trigger: Trigger | None) -> OpenPosition:  # fmt: skip
        """Buy a long put: the campaign's entry (ENTER) or a roll-up's new long (ROLL_LONG)."""
        return self._open(Step.BUY_LONG, leg, intent_id, reason, trigger, Side.BUY)

    def sell_short(self, leg: PutLeg, intent_id: str, reason: str,
                   trigger: Trigger | None) -> OpenPosition:  # fmt: skip
        """Sell a short put: a missing short (ROLL_SHORT from OPEN) or a roll's second half."""
        return self._open(Step.SELL_SHORT, leg, intent_id, reason, trigger, Side.SELL)

    def buy_back_short(self, intent_id: str, reason: str,
                       trigger: Trigger | None) -> ClosePosition:  # fmt: skip
        short = self.campaign.short
        if short is None:
            raise RuntimeError("buy back without a short")
        return self._close(Step.BUY_BACK_SHORT, short, intent_id, reason, trigger, Side.BUY)

    def sell_long(self, leg: PutLeg, intent_id: str, reason: str,
                  trigger: Trigger | None) -> ClosePosition:  # fmt: skip
        return self._close(Step.SELL_LONG, leg, intent_id, reason, trigger, Side.SELL)

    def reissue(self) -> ClosePosition:
        """The stuck close again, under its own intent id (never a second close of a leg)."""
        order = self.order
        if order is None or not order.stuck:
            raise RuntimeError("no stuck close to re-issue")
        self.order = replace(order, stuck=False)
        side = Side.BUY if order.step is Step.BUY_BACK_SHORT else Side.SELL
        return ClosePosition(intent_id=order.intent_id, legs=(order.leg.spec(order.step, side),),
                             exit_reason=self.close_reason or "close_stuck")  # fmt: skip

    def _open(self, step: Step, leg: PutLeg, intent_id: str, reason: str,
              trigger: Trigger | None, side: Side) -> OpenPosition:  # fmt: skip
        if trigger is not None:
            self.fire(trigger, reason)
        self.order = InFlight(intent_id, step, leg)
        return OpenPosition(intent_id=intent_id, legs=(leg.spec(step.value, side),),
                            reason=reason, order_style=self._style)  # fmt: skip

    def _close(self, step: Step, leg: PutLeg, intent_id: str, reason: str,
               trigger: Trigger | None, side: Side) -> ClosePosition:  # fmt: skip
        if trigger is not None:
            self.fire(trigger, reason)
        self.order = InFlight(intent_id, step, leg)
        return ClosePosition(intent_id=intent_id, legs=(leg.spec(step.value, side),),
                             exit_reason=reason)  # fmt: skip

    # --- reports -------------------------------------------------------------------------
    def on_report(self, report: ExecutionReport) -> Outcome | None:
        """Book the report of the order in flight; None while it is still being worked."""
        order = self.order
        if order is None or report.intent_id != order.intent_id or report.status == "in_progress":
            return None
        self.campaign = self.campaign.with_fills(report.fills)
        done = report.status in ("filled", "closed")
        detail = f"{order.step} {report.status} {report.detail}".strip()
        if order.step in (Step.BUY_BACK_SHORT, Step.SELL_LONG) and not done:
            return self._stuck(order, detail)
        self.order = None
        if order.step is Step.BUY_LONG:
            return self._long_bought(order.leg, done, detail, report)
        if order.step is Step.SELL_SHORT:
            return self._short_sold(order.leg, done, detail)
        if order.step is Step.BUY_BACK_SHORT:
            self.campaign = replace(self.campaign, short=None)
        else:
            self._long_sold(order.leg)
        return self._maybe_closed()

    def _long_bought(self, leg: PutLeg, done: bool, detail: str,
                     report: ExecutionReport) -> Outcome:  # fmt: skip
        if self.state is S.OPENING:
            if not done:
                self.fire(Trigger.ENTRY_FAILED, detail)
                self.campaign = Campaign()
                return Outcome(failed=True)
            opened_on = report.fills[0].filled_at.astimezone(NY).date() if report.fills else None
            self.campaign = replace(self.campaign, long=leg, opened_on=opened_on)
            self.fire(Trigger.OPENED, detail)
            return Outcome()
        if not done:  # a roll-up's new long: the old diagonal stays as it was
            self.fire(Trigger.ROLL_FAILED, detail)
            return Outcome(failed=True)
        self.campaign = replace(self.campaign, long=leg, retiring=self.campaign.long)
        return Outcome()

    def _short_sold(self, leg: PutLeg, done: bool, detail: str) -> Outcome:
        kind, self.roll_kind, self.roll_strike = self.roll_kind, None, None
        if not done:
            self.fire(Trigger.ROLL_FAILED, detail)
            return Outcome(failed=True)
        campaign = replace(self.campaign, short=leg)
        if kind is not None:
            campaign = replace(
                campaign,
                short_rolls=campaign.short_rolls + 1,
                vertical_rolls=campaign.vertical_rolls + int(kind is RollKind.VERTICAL),
            )
        self.campaign = campaign
        self.fire(Trigger.ROLLED, detail)
        return Outcome()

    def _long_sold(self, leg: PutLeg) -> None:
        campaign = self.campaign
        if campaign.retiring is not None and campaign.retiring.uic == leg.uic:
            self.campaign = replace(campaign, retiring=None, long_rolls=campaign.long_rolls + 1)
            if self.state is S.ROLLING_LONG:
                self.fire(Trigger.ROLLED, f"long rolled up to {campaign.long}")
        elif campaign.long is not None and campaign.long.uic == leg.uic:
            self.campaign = replace(campaign, long=None)

    def _stuck(self, order: InFlight, detail: str) -> Outcome:
        self.order = replace(order, stuck=True)
        if self.state not in (S.CLOSING, S.CLOSE_STUCK):
            self.close_reason = self.close_reason or "close_stuck"
            self.fire(Trigger.CLOSE, detail)
        if self.state is S.CLOSING:
            self.fire(Trigger.STUCK, detail)
        return Outcome(failed=True)

    def finish_empty(self) -> Outcome:
        """Close the books of a closing campaign whose legs all vanished at the broker
        (expired, assigned): its cash so far is its P&L."""
        return self._maybe_closed()

    def _maybe_closed(self) -> Outcome:
        """After a close step in CLOSING/CLOSE_STUCK: book the campaign once nothing is held."""
        if self.state not in (S.CLOSING, S.CLOSE_STUCK) or not self.campaign.empty:
            return Outcome()
        closed, reason = self.campaign, self.close_reason or "closed"
        trigger = Trigger.CLOSED_FOR_EVENT if self.close_for_event else Trigger.CLOSED
        self.fire(trigger, f"{reason} realized {closed.cash.net_usd} USD")
        self.campaign, self.close_reason, self.close_for_event = Campaign(), None, False
        return Outcome(closed=closed, close_reason=reason)

    # --- saved state ---------------------------------------------------------------------
    def to_json(self) -> dict[str, Any]:
        return {
            "state": self.state.value, "campaign": self.campaign.to_json(),
            "order": None if self.order is None else self.order.to_json(),
            "close_reason": self.close_reason, "close_for_event": self.close_for_event,
            "roll_kind": None if self.roll_kind is None else self.roll_kind.value,
            "roll_strike": None if self.roll_strike is None else str(self.roll_strike),
        }  # fmt: skip

    def load(self, data: Any) -> None:
        """Load a saved lifecycle; ValueError naming the field when corrupt."""
        if not isinstance(data, dict):
            raise ValueError(f"campaign lifecycle: expected an object, got {data!r}")
        try:
            self.state = CampaignState(str(data.get("state")))
        except ValueError:
            raise ValueError(f"campaign.state invalid: {data.get('state')!r}") from None
        self.campaign = Campaign.from_json(data.get("campaign"))
        order = data.get("order")
        self.order = None if order is None else InFlight.from_json(order)
        reason = data.get("close_reason")
        self.close_reason = reason if isinstance(reason, str) else None
        self.close_for_event = data.get("close_for_event") is True
        kind = data.get("roll_kind")
        self.roll_kind = None if kind is None else RollKind(str(kind))
        strike = data.get("roll_strike")
        self.roll_strike = None if strike is None else dec(strike, "campaign.roll_strike")

