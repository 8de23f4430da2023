"""Reconciliation: make the journal agree with the broker, at start and every few minutes.

1. Intents without a known outcome (pending, sent, unknown) are looked up: by order id, else by
   external reference. A working order left by a dead process is cancelled. A fill found this
   way (a "ghost fill": the process died before recording it) is recorded from the broker's
   activities into the intent's trade; an order never seen is marked failed.
2. Positions are compared per uic: the journal's open trades (net of their fills) against the
   broker. Equal: adopted. More at the broker on a uic this bot has traded: an orphan, journaled
   by the runtime as a trade of its own (at the excess's open price) and closed at once.
   Less at the broker: flagged; a trade whose every leg is gone is closed in the journal as
   `missing_at_broker` (a safety event), unless every leg is a physically settled (stock)
   option past its expiry close (the expiry its intents name): the broker settled them (an
   in-the-money one into shares at the strike), so each is booked as a closing fill
   at 0 without commission and the trade closed as `expired` (no alarm; an assignment's shares
   are an orphan of their own). Uics this bot never traded are foreign (another bot, or the
   operator): reported once, never touched.
While anything is unresolved, `blocking_reason()` says why and new entries are refused.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from decimal import Decimal

from shared import market_hours
from shared.broker import Broker
from shared.clock import Clock
from shared.domain import Fill, OrderStatus, Position, Side
from shared.execution.leg_worker import multiplier_of
from shared.execution.recorder import Recorder, net_by_uic
from shared.journal import IntentStatus, OpenClose, OrderIntent, TradeRecord
from shared.logger_service import kv
from shared.strategy_contract import LegFill, LegSpec

logger = logging.getLogger(__name__)

LOOKUP_WINDOW = timedelta(minutes=5)
# Options delivered in shares when exercised (SPY, QQQ): an expired one is worth 0 in itself.
PHYSICALLY_SETTLED = frozenset({"StockOption"})
PRICE_STEP = Decimal("0.0001")  # precision of an orphan's derived open price (USD per share)


@dataclass
class ReconcileReport:
    """What one reconciliation found. `orphans` map uic -> signed excess held at the broker."""

    ghost_fills: int = 0
    unresolved: list[str] = field(default_factory=list)
    orphans: dict[int, tuple[Position, int]] = field(default_factory=dict)
    missing: list[str] = field(default_factory=list)
    foreign: list[int] = field(default_factory=list)
    ours: list[Position] = field(default_factory=list)
    broker_positions: list[Position] = field(default_factory=list)  # as read by this run

    @property
    def clean(self) -> bool:
        return not (self.unresolved or self.orphans or self.missing)


class Reconciler:
    """Compares and repairs one bot's journal against its broker."""

    def __init__(self, *, broker: Broker, recorder: Recorder, clock: Clock) -> None:
        self._broker = broker
        self._recorder = recorder
        self._journal = recorder.journal
        self._clock = clock
        self._foreign_reported: set[int] = set()
        self.last: ReconcileReport | None = None

    def blocking_reason(self) -> str | None:
        """Why new entries must wait (the broker disagrees with the journal), or None."""
        if self.last is None:
            return "not reconciled yet"
        if self.last.unresolved:
            return f"unresolved orders: {', '.join(self.last.unresolved[:3])}"
        if self.last.orphans:
            return f"orphan positions on uics {sorted(self.last.orphans)}"
        if self.last.missing:
            return f"positions missing at the broker: {', '.join(self.last.missing[:3])}"
        return None

    def run(self, *, skip_uics: set[int] | None = None) -> ReconcileReport:
        """Resolve intents, then compare positions.

        Uics in `skip_uics` are in flux: the executor is working them right now, so their
        intents are its own live orders (never "left by a dead process") and their positions
        are mid-change.
        """
        report = ReconcileReport()
        skip = skip_uics or set()
        for intent in self._journal.intents_without_outcome():
            if int(intent.payload.get("uic", -1)) in skip:
                continue
            self._resolve(intent, report)
        self._compare(report, skip)
        self.last = report
        level = logging.INFO if report.clean else logging.WARNING
        logger.log(
            level,
            kv(
                "reconciled",
                ghost_fills=report.ghost_fills,
                unresolved=len(report.unresolved),
                orphans=len(report.orphans),
                missing=len(report.missing),
                foreign=len(report.foreign),
                ours=len(report.ours),
            ),
        )
        return report

    # --- intents -----------------------------------------------------------------------------
    def _resolve(self, intent: OrderIntent, report: ReconcileReport) -> None:
        payload = intent.payload
        order_id = intent.order_id
        if order_id is None:
            reference = str(payload.get("external_reference", ""))
            since = intent.created_at - LOOKUP_WINDOW
            order_id = self._broker.find_order(reference, since) if reference else None
            if order_id is None:
                self._journal.mark_intent(
                    intent.request_id, IntentStatus.FAILED, error="never reached the broker"
                )
                logger.info(kv("intent_not_sent", request_id=intent.request_id))
                return
            self._journal.mark_intent(intent.request_id, IntentStatus.SENT, order_id=order_id)
        outcome = self._broker.verify_order(order_id)
        if not outcome.status.is_final and outcome.status is not OrderStatus.NOT_FOUND:
            logger.warning(kv("orphan_order_cancel", order_id=order_id, status=outcome.status))
            self._broker.cancel_order(order_id)
            outcome = self._broker.verify_order(order_id)
        filled = int(outcome.filled_amount or (outcome.fill.amount if outcome.fill else 0))
        if outcome.status is OrderStatus.FILLED or filled > 0:
            if outcome.fill is None:
                # Never journal a made-up price: wait (entries stay blocked) until Saxo has it.
                report.unresolved.append(f"{order_id} (fill price not published yet)")
                return
            self._record_ghost(intent, order_id, filled, outcome.fill, report)
            self._journal.mark_intent(intent.request_id, IntentStatus.FILLED, order_id=order_id)
        elif outcome.status.is_final:
            self._journal.mark_intent(
                intent.request_id, IntentStatus.FAILED, error=outcome.status.value
            )
        else:
            report.unresolved.append(f"{order_id} ({outcome.status.value})")

    def _record_ghost(
        self,
        intent: OrderIntent,
        order_id: str,
        filled: int,
        fill: Fill,
        report: ReconcileReport,
    ) -> None:
        payload = intent.payload
        trade_id = intent.trade_id or payload.get("trade_id")
        if trade_id is None:
            report.unresolved.append(f"{order_id} (filled, no trade to record it in)")
            return
        trade = self._journal.trade(int(trade_id))
        recorded = sum(f.quantity for f in trade.fills if f.order_id == order_id)
        if filled <= recorded:
            return
        price = fill.price  # a real 0.00 fill stays 0.00
        commission = self._recorder.commission(
            fill.commission, filled - recorded, order_id=order_id, what=f"ghost fill of {order_id}"
        )
        filled_at = fill.filled_at or self._clock.now()
        side = Side(payload["side"])
        spec = LegSpec(
            leg=str(payload["leg"]),
            uic=int(payload["uic"]),
            asset_type=str(payload["asset_type"]),
            side=side,
            quantity=filled - recorded,
            root="",
        )
        self._recorder.fill(
            trade_id=trade.trade_id,
            spec=spec,
            fill=LegFill(
                leg=spec.leg,
                uic=spec.uic,
                side=side,
                quantity=filled - recorded,
                price=price,
                commission_usd=commission,
                filled_at=filled_at,
                multiplier=int(payload.get("multiplier") or multiplier_of(spec.asset_type)),
                simulated=self._broker.simulated,
            ),
            open_close=OpenClose(payload.get("open_close", "open")),
            order_id=order_id,
            execution_id=f"{order_id}:{filled}",
        )
        report.ghost_fills += 1
        self._recorder.safety_event(
            "ghost_fill_resolved",
            f"order {order_id} filled while the bot was not watching; recorded from the broker",
            {"order_id": order_id, "leg": spec.leg, "quantity": filled - recorded},
        )

    # --- positions ---------------------------------------------------------------------------
    def _compare(self, report: ReconcileReport, skip: set[int]) -> None:
        positions = self._broker.positions()
        report.broker_positions = positions
        open_trades = self._journal.open_trades()
        journal_net: dict[int, int] = {}
        for trade in open_trades:
            for uic, qty in net_by_uic(trade).items():
                journal_net[uic] = journal_net.get(uic, 0) + qty
        broker_net: dict[int, int] = {}
        for p in positions:
            broker_net[p.uic] = broker_net.get(p.uic, 0) + int(p.amount)
        # Only these uics are ever looked up below: ask about them, not the whole history.
        traded = self._journal.traded_uics(set(broker_net) | set(journal_net))
        for p in positions:
            if p.uic in traded or p.uic in journal_net:
                report.ours.append(p)
            elif p.uic not in self._foreign_reported:
                self._foreign_reported.add(p.uic)
                report.foreign.append(p.uic)
                logger.warning(kv("foreign_position", uic=p.uic, amount=p.amount))
        for uic in sorted(set(journal_net) | set(broker_net)):
            if uic in skip or (uic not in traded and uic not in journal_net):
                continue
            want, have = journal_net.get(uic, 0), broker_net.get(uic, 0)
            if want == have:
                continue
            excess = have - want
            if want == 0 or (excess != 0 and (excess > 0) == (have > 0) and abs(have) > abs(want)):
                cost = _journal_cost(open_trades, uic)
                report.orphans[uic] = (_excess_position(positions, uic, excess, cost), excess)
                logger.error(kv("orphan_position", uic=uic, journal=want, broker=have))
            else:
                report.missing.append(f"uic {uic} journal={want} broker={have}")
        self._close_vanished_trades(open_trades, broker_net, report, skip)

    def _all_expired(self, uics: set[int]) -> bool:
        """True when every uic is a physically settled option (`PHYSICALLY_SETTLED`) whose
        expiry (named by this bot's intents) has passed its close now. Such an option leaves
        at 0 whatever its moneyness (in the money, its value arrives as shares at the strike);
        a cash-settled index option may settle at its intrinsic value, so it is not booked
        here (the missing trade is flagged for the operator)."""
        expiries: dict[int, date] = {}
        for intent in self._journal.intents():
            uic, expiry = intent.payload.get("uic"), intent.payload.get("expiry")
            physical = intent.payload.get("asset_type") in PHYSICALLY_SETTLED
            if uic is not None and expiry and physical and int(uic) in uics:
                expiries[int(uic)] = date.fromisoformat(str(expiry))
        now = self._clock.now()
        return set(expiries) == uics and all(_option_expired(e, now) for e in expiries.values())

    def _book_expiry(self, trade: TradeRecord, held: dict[int, int]) -> None:
        """Book each expired leg of `trade` as a closing fill at 0 (no order, no commission)
        and close the trade as `expired`: flat, its P&L its fills."""
        now = self._clock.now()
        for uic, quantity in held.items():
            fill = next(f for f in trade.fills if f.uic == uic)
            side = Side.BUY if quantity < 0 else Side.SELL
            spec = LegSpec(leg=fill.leg, uic=uic, asset_type="", side=side,
                           quantity=abs(quantity), root="")  # fmt: skip
            self._recorder.fill(
                trade_id=trade.trade_id,
                spec=spec,
                fill=LegFill(leg=fill.leg, uic=uic, side=side, quantity=abs(quantity),
                             price=Decimal(0), commission_usd=Decimal(0), filled_at=now,
                             multiplier=fill.multiplier, simulated=self._broker.simulated),
                open_close=OpenClose.CLOSE,
                order_id=None,
                execution_id=f"expired:{trade.trade_id}:{uic}",
            )  # fmt: skip
        self._recorder.close_trade(trade.trade_id, "expired", now)
        logger.info(kv("trade_expired", trade_id=trade.trade_id, uics=sorted(held)))

    def _close_vanished_trades(
        self,
        trades: list[TradeRecord],
        broker_net: dict[int, int],
        report: ReconcileReport,
        skip: set[int],
    ) -> None:
        for trade in trades:
            held = net_by_uic(trade)
            if not held or set(held) & skip:
                continue
            if all(broker_net.get(uic, 0) == 0 for uic in held):
                if self._all_expired(set(held)):
                    self._book_expiry(trade, held)
                    report.missing = [m for m in report.missing if int(m.split()[1]) not in held]
                    continue
                self._recorder.safety_event(
                    "trade_missing_at_broker",
                    f"trade {trade.trade_id} ({trade.label}) has no position left at the broker",
                    {"trade_id": trade.trade_id, "uics": sorted(held)},
                )
                self._recorder.close_trade(trade.trade_id, "missing_at_broker", self._clock.now())
                report.missing = [m for m in report.missing if int(m.split()[1]) not in held]


def _option_expired(expiry: date, now: datetime) -> bool:
    """True when options of `expiry` have expired at `now` (UTC): a later New York day, or the
    expiry day from its (NYSE) session's close on."""
    today = now.astimezone(market_hours.NY).date()
    if expiry != today:
        return expiry < today
    session = market_hours.session(today)
    return session is not None and now >= session.close


def _journal_cost(trades: list[TradeRecord], uic: int) -> Decimal:
    """Signed cost (per share, + paid) of what the journal's open trades hold on `uic`."""
    return sum(
        (f.price * (f.quantity if f.side.value == "buy" else -f.quantity)
         for t in trades for f in t.fills if f.uic == uic),
        Decimal(0),
    )  # fmt: skip


def _excess_position(
    positions: list[Position], uic: int, excess: int, journal_cost: Decimal
) -> Position:
    """The broker position standing for an orphan's `excess` on `uic`; its `open_price` is the
    excess's own open price (per share): a position of exactly that amount as booked, else,
    for one netted position at an average price, that average less what the journal holds."""
    on_uic = [p for p in positions if p.uic == uic]
    exact = [p for p in on_uic if int(p.amount) == excess]
    if exact:
        return exact[-1]
    position = on_uic[-1]
    if len(on_uic) == 1 and position.open_price is not None:
        derived = ((position.open_price * position.amount - journal_cost) / excess).quantize(
            PRICE_STEP
        )
        if derived >= 0:
            return replace(position, open_price=derived)
    return position
