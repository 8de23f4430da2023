"""Building close jobs: the unwind of a failed entry and the re-planned jobs after a restart.

An unwind closes the filled legs in REVERSE entry order (for the fly: shorts bought back before
longs are sold, so no short is ever left naked), urgently, with market orders.
"""

from __future__ import annotations

from dataclasses import replace

from shared.execution.model import Job, JobKind, LegWork, Phase
from shared.strategy_contract import LegSpec, OrderStyle


def closing_spec(spec: LegSpec, quantity: int) -> LegSpec:
    """The order that closes `quantity` of what `spec` opened (opposite side)."""
    return replace(spec, side=spec.side.opposite, quantity=quantity)


def unwind_job(entry: Job, reason: str) -> Job | None:
    """A close job for every filled leg of `entry`, newest first; None when nothing filled."""
    legs = [
        LegWork(closing_spec(leg.spec, leg.filled_qty))
        for leg in reversed(entry.legs)
        if leg.filled_qty > 0
    ]
    if not legs:
        return None
    return Job(
        kind=JobKind.CLOSE,
        intent_id=f"{entry.intent_id}:unwind{entry.attempt}",
        legs=legs,
        style=OrderStyle.MARKET,
        urgent=True,
        reason=reason,
        trade_id=entry.trade_id,
        report_as=entry.intent_id,
    )


def restored_entry_unwind(entry: Job, net_by_leg: dict[str, int]) -> Job | None:
    """After a restart: a close job for whatever the interrupted entry left filled."""
    legs: list[LegWork] = []
    for leg in reversed(entry.legs):
        held = net_by_leg.get(leg.spec.leg, 0)
        opened = held if leg.spec.side.value == "buy" else -held
        if opened > 0:
            legs.append(LegWork(closing_spec(leg.spec, opened)))
    if not legs:
        return None
    return Job(
        kind=JobKind.CLOSE,
        intent_id=f"{entry.intent_id}:unwind-restart",
        legs=legs,
        style=OrderStyle.MARKET,
        urgent=True,
        reason="entry_interrupted",
        trade_id=entry.trade_id,
        report_as=entry.intent_id,
    )


def entry_complete(entry: Job, net_by_leg: dict[str, int]) -> bool:
    """True when the journal shows every leg of `entry` fully filled on its side."""
    for leg in entry.legs:
        held = net_by_leg.get(leg.spec.leg, 0)
        opened = held if leg.spec.side.value == "buy" else -held
        if opened < leg.spec.quantity:
            return False
    return True


def replanned_close(close: Job, net_by_uic: dict[int, int] | None) -> Job:
    """A close job interrupted by a restart, re-planned from what is still held.

    With the trade's net fills known, each leg closes what is left on its uic; without a trade
    (an adopted position) the legs stay as they were and are clamped to the broker's position
    when each order is sent.
    """
    legs: list[LegWork] = []
    for leg in close.legs:
        if net_by_uic is None:
            legs.append(LegWork(leg.spec))
            continue
        held = net_by_uic.get(leg.spec.uic, 0)
        closable = -held if leg.spec.side.value == "buy" else held
        if closable > 0:
            legs.append(LegWork(replace(leg.spec, quantity=closable)))
    job = replace(close, legs=legs, phase=Phase.WORKING if legs else Phase.CONFIRMING)
    job.unwind = None
    return job
