"""Margin pre-check before an entry (catalogue LIVE-004): every leg of an `OpenPosition` is
checked with the broker's order pre-check before the first order is sent; one refusal skips the
whole entry (no order sent), with the broker's reason."""

from __future__ import annotations

import logging

from shared.broker import Broker, BrokerError, OrderTicket
from shared.domain import OrderType
from shared.logger_service import kv
from shared.strategy_contract import OpenPosition

logger = logging.getLogger(__name__)

PRECHECK_REFERENCE = "cal-precheck"


def entry_refusal(broker: Broker, entry: OpenPosition) -> str | None:
    """Why the broker would refuse `entry` (the first refused leg, e.g. "leg short_call:
    WouldExceedMargin: ..."), or None when every leg passes. A pre-check that gets no answer
    (5xx, timeout) does not block: the entry goes on (Saxo checks margin again at placement,
    and an outage is the circuit breaker's business), with a warning."""
    for leg in entry.legs:
        ticket = OrderTicket(uic=leg.uic, asset_type=leg.asset_type, side=leg.side,
                             quantity=leg.quantity, order_type=OrderType.MARKET,
                             external_reference=PRECHECK_REFERENCE, to_open=True)  # fmt: skip
        try:
            refusal = broker.precheck(ticket)
        except BrokerError as exc:
            logger.warning(kv("entry_precheck_unavailable", intent=entry.intent_id, leg=leg.leg,
                              error=exc))  # fmt: skip
            return None
        if refusal is not None:
            logger.warning(kv("entry_precheck_refused", intent=entry.intent_id, leg=leg.leg,
                              refusal=refusal))  # fmt: skip
            return f"leg {leg.leg}: {refusal}"
    logger.info(kv("entry_precheck_ok", intent=entry.intent_id, legs=len(entry.legs)))
    return None
