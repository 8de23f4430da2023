"""Reading the broker's option positions back into a fly, or into legs to close.

Rules (strategies.md 5.1 POS-001..POS-005): positions are netted per UIC. Exactly one complete
fly (short call and short put at one strike K, a long call above K and a long put below K, one
expiry, equal sizes) is adopted and monitored. Anything else (a partial fly, extra legs,
several flies, odd sizes) is closed entirely, shorts first: a bot that trades one fly a day has
no way to know what a second structure is for, and a flat book is the safe state.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from decimal import Decimal

from bots.iron_fly_0dte.position import OPTION_ASSET_TYPE, ROOT, Fly, FlyLeg
from shared.domain import Position, PutCall, Side
from shared.strategy_contract import LegSpec


@dataclass(frozen=True)
class BrokerLeg:
    """One option UIC at the broker, netted: `amount` signed contracts (negative = short)."""

    uic: int
    amount: int
    strike: Decimal
    put_call: PutCall
    expiry: date | None
    open_price: Decimal | None
    opened_at: datetime | None


@dataclass(frozen=True)
class BrokerBook:
    """The bot's option legs at the broker, and positions it could not read as options."""

    legs: tuple[BrokerLeg, ...]
    unreadable: tuple[str, ...]  # descriptions of positions without strike/put_call/size

    def describe(self) -> str:
        return ", ".join(
            f"{'+' if leg.amount > 0 else ''}{leg.amount} {leg.put_call} {leg.strike} "
            f"{leg.expiry} uic {leg.uic}"
            for leg in self.legs
        ) or "none"


def read_book(positions: Iterable[Position]) -> BrokerBook:
    """Net the positions per UIC; zero nets are dropped."""
    grouped: dict[int, list[Position]] = {}
    unreadable: list[str] = []
    for position in positions:
        if position.put_call is None or position.strike is None:
            unreadable.append(f"{position.asset_type} uic {position.uic} amount {position.amount}")
            continue
        grouped.setdefault(position.uic, []).append(position)
    legs: list[BrokerLeg] = []
    for uic, rows in grouped.items():
        total = sum((row.amount for row in rows), Decimal(0))
        if total != total.to_integral_value():
            unreadable.append(f"uic {uic} has a fractional amount {total}")
            continue
        if total == 0:
            continue
        first = rows[0]
        opened = [row.opened_at for row in rows if row.opened_at is not None]
        prices = [row.open_price for row in rows if row.open_price is not None]
        assert first.put_call is not None and first.strike is not None
        legs.append(BrokerLeg(
            uic=uic, amount=int(total), strike=first.strike, put_call=first.put_call,
            expiry=first.expiry,
            open_price=prices[0] if len(prices) == len(rows) and len(set(prices)) == 1 else None,
            opened_at=min(opened) if opened else None,
        ))
    return BrokerBook(tuple(sorted(legs, key=lambda leg: leg.uic)), tuple(unreadable))


def single_fly(book: BrokerBook) -> Fly | None:
    """The book as one complete fly (strikes, UICs, size), or None when it is not exactly one.

    The credit is not set here; the caller restores it from saved state or open prices.
    """
    if len(book.legs) != 4 or book.unreadable:
        return None
    by_role: dict[str, BrokerLeg] = {}
    for leg in book.legs:
        role = ("short_" if leg.amount < 0 else "long_") + leg.put_call.value
        if role in by_role:
            return None
        by_role[role] = leg
    sc, sp = by_role.get("short_call"), by_role.get("short_put")
    lc, lp = by_role.get("long_call"), by_role.get("long_put")
    if sc is None or sp is None or lc is None or lp is None:
        return None
    if len({abs(leg.amount) for leg in book.legs}) != 1:
        return None
    if len({leg.expiry for leg in book.legs}) != 1:
        return None
    if sc.strike != sp.strike or not lp.strike < sc.strike < lc.strike or sc.expiry is None:
        return None
    legs = (
        FlyLeg("long_call", lc.uic, lc.strike, PutCall.CALL, Side.BUY),
        FlyLeg("long_put", lp.uic, lp.strike, PutCall.PUT, Side.BUY),
        FlyLeg("short_call", sc.uic, sc.strike, PutCall.CALL, Side.SELL),
        FlyLeg("short_put", sp.uic, sp.strike, PutCall.PUT, Side.SELL),
    )
    return Fly(expiry=sc.expiry, atm_strike=sc.strike, upper_wing=lc.strike,
               lower_wing=lp.strike, quantity=abs(sc.amount), legs=legs)


def close_all_legs(book: BrokerBook) -> tuple[LegSpec, ...]:
    """Orders that flatten every readable leg of the book: shorts (bought back) first."""
    ordered = sorted(book.legs, key=lambda leg: (leg.amount > 0, leg.uic))
    return tuple(
        LegSpec(
            leg=f"{'short' if leg.amount < 0 else 'long'}_{leg.put_call.value}_{leg.strike}",
            uic=leg.uic, asset_type=OPTION_ASSET_TYPE,
            side=Side.BUY if leg.amount < 0 else Side.SELL, quantity=abs(leg.amount),
            root=ROOT, strike=leg.strike, put_call=leg.put_call, expiry=leg.expiry,
        )
        for leg in ordered
    )


def holds(fly: Fly, positions: Sequence[Position]) -> bool:
    """True when the broker holds every leg of `fly` in full on its opening side."""
    wanted = {spec.uic: spec.quantity for spec in fly.close_legs()}
    held = {spec.uic: spec.quantity for spec in still_open(fly.close_legs(), positions)}
    return held == wanted


def still_open(legs: Sequence[LegSpec], positions: Sequence[Position]) -> tuple[LegSpec, ...]:
    """The closing orders of `legs` that the broker still needs: each leg's quantity becomes the
    contracts still open on the side the close reduces (a short for a BUY, a long for a SELL).

    A leg the broker shows on the other side (over-closed) is left out; see `over_closed`.
    """
    by_uic = {leg.uic: leg.amount for leg in read_book(positions).legs}
    remaining: list[LegSpec] = []
    for spec in legs:
        amount = by_uic.get(spec.uic, 0)
        open_contracts = -amount if spec.side is Side.BUY else amount
        if open_contracts > 0:
            remaining.append(replace(spec, quantity=open_contracts))
    return tuple(remaining)


def over_closed(legs: Sequence[LegSpec], positions: Sequence[Position]) -> tuple[int, ...]:
    """UICs of `legs` the broker now shows on the side opposite to the one being closed."""
    by_uic = {leg.uic: leg.amount for leg in read_book(positions).legs}
    return tuple(
        spec.uic for spec in legs
        if (by_uic.get(spec.uic, 0) > 0 if spec.side is Side.BUY else by_uic.get(spec.uic, 0) < 0)
    )
