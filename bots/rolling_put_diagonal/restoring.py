"""Agreement with the broker: rebuilding the campaign on a restart, and checking on every
decide that the legs held are still there (early assignment, expiry, manual trades).

The broker's positions are the truth for WHAT is held (POS-001, DATA-005); the saved state
contributes the money booked from fills when it names the same contracts. A fitting QQQ put is
adopted (the long: the latest expiry; the short: a nearer or equal expiry); every other option
leg is an orphan and is closed (POS-005/006/007); a short without a long is bought back at once
(POS-003). Shares from an assignment are reported, never traded here (the runtime's orphan
handling owns positions that are no option leg).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from bots.rolling_put_diagonal.book import CONTRACT_MULTIPLIER, ROOT, Campaign, PutLeg
from bots.rolling_put_diagonal.lifecycles import CampaignLifecycle, logger
from bots.rolling_put_diagonal.memory import Memory, safety_event
from bots.rolling_put_diagonal.states import CampaignState, Trigger
from shared.domain import Position, PutCall
from shared.logger_service import kv
from shared.market_hours import NY
from shared.strategy.fills import CashFlow
from shared.strategy.recovery import BrokerBook, BrokerLeg, close_all_legs, read_book
from shared.strategy_contract import Action, ClosePosition, Snapshot


def restore(cycle: CampaignLifecycle, memory: Memory, saved: Mapping[str, Any] | None,
            positions: Sequence[Position], now: datetime) -> list[Action]:  # fmt: skip
    """Load `saved` (ValueError naming the field when corrupt), then take the legs from the
    broker; returns the protective closes (orphans, a naked short)."""
    if saved:
        cycle.load(saved.get("campaign"))
        memory.load(saved.get("memory"))
    today = now.astimezone(NY).date()
    book = read_book(positions).unexpired(today)
    long, short, orphans = _fit(book, cycle.campaign)
    held = Campaign(long=long, short=short)
    cash = _restored_cash(cycle.campaign, held, book)
    waiting = cycle.state is CampaignState.WAITING_EVENT
    cycle.order, cycle.roll_kind = None, None  # the runtime reconciled the intents
    cycle.campaign = replace(cycle.campaign, long=long, short=short, retiring=None, cash=cash)
    cycle.state = CampaignState.WAITING_EVENT if waiting and held.empty else CampaignState.FLAT
    actions: list[Action] = []
    state = f"campaign:{cycle.state.value}"
    if held.empty:
        cycle.campaign, cycle.close_reason = Campaign(), None
    else:
        cycle.fire(Trigger.ADOPT, f"restored {sorted(held.uics)}")
        if long is None or cycle.close_reason is not None:
            reason = cycle.close_reason or "naked_short_on_restart"
            cycle.close_reason = reason
            cycle.fire(Trigger.CLOSE, reason)
            if long is None:
                actions.append(safety_event(memory, now, "naked_short", f"short {short} without "
                                            "a long at start: bought back", state))  # fmt: skip
                intent = memory.next_intent("close_naked_short", now)
                actions.append(cycle.buy_back_short(intent, reason, None))
    if orphans:
        detail = BrokerBook(orphans, ()).describe()
        actions.append(safety_event(memory, now, "orphan_position", f"closing {detail}", state))
        actions.append(ClosePosition(intent_id=memory.next_intent("close_orphans", now),
                                     legs=close_all_legs(BrokerBook(orphans, ()), ROOT),
                                     exit_reason="orphan_on_restart"))  # fmt: skip
    for text in read_book(positions).unreadable:
        actions.append(safety_event(memory, now, "unknown_position", text, state))
    return actions


def _fit(book: BrokerBook, saved: Campaign) -> tuple[PutLeg | None, PutLeg | None,
                                                     tuple[BrokerLeg, ...]]:  # fmt: skip
    """The long and short the campaign adopts, and the orphans (every other leg)."""
    saved_uics = saved.uics
    longs = sorted(book.select(put_call=PutCall.PUT, short=False),
                   key=lambda leg: (leg.uic not in saved_uics,
                                    -(leg.expiry or date.min).toordinal()))  # fmt: skip
    long = longs[0] if longs else None
    shorts = [leg for leg in book.select(put_call=PutCall.PUT, short=True)
              if long is None or (leg.expiry or date.max) <= (long.expiry or date.max)]
    shorts.sort(key=lambda leg: leg.uic not in saved_uics)
    short = shorts[0] if shorts else None
    kept = {leg.uic for leg in (long, short) if leg is not None}
    orphans = tuple(leg for leg in book.legs if leg.uic not in kept)
    return _put_leg(long), _put_leg(short), orphans


def _put_leg(leg: BrokerLeg | None) -> PutLeg | None:
    if leg is None or leg.expiry is None:
        return None
    return PutLeg(leg.uic, leg.strike, leg.expiry, abs(leg.amount))


def _restored_cash(saved: Campaign, held: Campaign, book: BrokerBook) -> CashFlow:
    """The saved campaign's cash, plus legs the saved state does not know at the broker's open
    prices (their fills happened while the bot was down; the journal has the exact figures)."""
    unknown = [leg for leg in book.legs if leg.uic in held.uics and leg.uic not in saved.uics]
    if not unknown:
        return saved.cash
    gross = Decimal(0)
    for leg in unknown:
        if leg.open_price is not None:
            gross -= leg.open_price * CONTRACT_MULTIPLIER * leg.amount
    logger.warning(kv("campaign_cash_estimated", legs=[leg.uic for leg in unknown]))
    return saved.cash + CashFlow(gross, Decimal(0))


def check_book(cycle: CampaignLifecycle, memory: Memory, snap: Snapshot, today: date,
               cooldown: timedelta) -> list[Action]:  # fmt: skip
    """Drop legs the broker no longer shows: an expired short quietly; any other lost leg with
    a safety event (POS-004 early assignment: the short is gone and shares appear). A leg must
    be missing from two consecutive full snapshots (a snapshot read just before a fill was
    reported does not show it yet); tick-triggered passes reuse old positions and are skipped.
    After a lost short no new one is sold for `cooldown` (the runtime deals with the shares
    first). A leg past its expiry is dropped at once (the broker settled it). Positions that
    are no leg of the campaign raise one safety event a day (POS-002)."""
    if cycle.order is not None or snap.triggered_by_tick:
        return []
    actions: list[Action] = []
    present = {leg.uic for leg in read_book(snap.positions).legs}
    campaign, state = cycle.campaign, f"campaign:{cycle.state.value}"
    missing = {leg.uic for leg in campaign.legs if leg.uic not in present}
    expired = {leg.uic for leg in campaign.legs if leg.expiry < today}  # settled at expiry
    gone = (missing & memory.missing_once) | expired
    memory.missing_once = missing - gone
    short = campaign.short
    if short is not None and short.uic in gone:
        cycle.campaign = campaign = replace(campaign, short=None)
        if short.expiry < today:
            logger.info(kv("short_expired", uic=short.uic, expiry=short.expiry))
        else:
            memory.cooldown_until["sell_short"] = snap.now + cooldown
            actions.append(safety_event(memory, snap.now, "short_gone", f"short {short.strike} "
                                        f"{short.expiry} gone at the broker (assignment or "
                                        "manual trade)", state))  # fmt: skip
    for leg in (campaign.long, campaign.retiring):
        if leg is not None and leg.uic in gone:
            cycle.campaign = campaign = replace(
                campaign, long=None if campaign.long == leg else campaign.long,
                retiring=None if campaign.retiring == leg else campaign.retiring)
            how = "expired" if leg.expiry < today else "gone at the broker"
            detail = f"long {leg.strike} {leg.expiry} {how}"
            actions.append(safety_event(memory, snap.now, "long_gone", detail, state))
    strays = [f"{p.asset_type} uic {p.uic} amount {p.amount}" for p in snap.positions
              if p.uic not in campaign.uics and p.amount != 0]
    if strays and "orphan_position" not in memory.decisions_today:
        memory.decisions_today.add("orphan_position")
        actions.append(safety_event(memory, snap.now, "orphan_position", ", ".join(strays), state))
    return actions
