"""Reading the broker's option book back on restart (or at a day's rollover), for any bot.

Positions are netted per UIC; zero nets are dropped; a position without strike/put-call or with
a fractional amount is reported as unreadable, never guessed. Legs are classified by what the
broker says (expiry, put/call, strike, side), not by a strategy's shape: each bot decides which
legs form its structure (the fly, a straddle and a strangle, a long put and a short put) and
closes the rest with `close_all_legs`, shorts first.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from decimal import Decimal

from shared.domain import Position, PutCall, Side
from shared.strategy_contract import LegSpec


@dataclass(frozen=True)
class BrokerLeg:
    """One option UIC at the broker, netted: `amount` signed contracts (negative = short)."""

    uic: int
    asset_type: str
    amount: int
    strike: Decimal
    put_call: PutCall
    expiry: date | None
    open_price: Decimal | None
    opened_at: datetime | None

    @property
    def is_short(self) -> bool:
        return self.amount < 0

    @property
    def role(self) -> str:
        """`short_call`, `long_put`, ...: side and right, the way legs are named in orders."""
        return ("short_" if self.is_short else "long_") + self.put_call.value


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

    def unexpired(self, day: date) -> BrokerBook:
        """The legs still tradable on `day` (expiry unknown, `day` or later)."""
        return BrokerBook(
            tuple(leg for leg in self.legs if leg.expiry is None or leg.expiry >= day), ()
        )

    def select(
        self, *, put_call: PutCall | None = None, short: bool | None = None,
        expiry: date | None = None,
    ) -> tuple[BrokerLeg, ...]:
        """The legs matching every given criterion (None: any)."""
        return tuple(
            leg for leg in self.legs
            if (put_call is None or leg.put_call is put_call)
            and (short is None or leg.is_short == short)
            and (expiry is None or leg.expiry == expiry)
        )


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
            uic=uic, asset_type=first.asset_type, amount=int(total), strike=first.strike,
            put_call=first.put_call, expiry=first.expiry,
            open_price=prices[0] if len(prices) == len(rows) and len(set(prices)) == 1 else None,
            opened_at=min(opened) if opened else None,
        ))
    return BrokerBook(tuple(sorted(legs, key=lambda leg: leg.uic)), tuple(unreadable))


def close_all_legs(book: BrokerBook, root: str) -> tuple[LegSpec, ...]:
    """Orders that flatten every readable leg of the book (options of `root`): shorts (bought
    back) first."""
    ordered = sorted(book.legs, key=lambda leg: (leg.amount > 0, leg.uic))
    return tuple(
        LegSpec(
            leg=f"{'short' if leg.amount < 0 else 'long'}_{leg.put_call.value}_{leg.strike}",
            uic=leg.uic, asset_type=leg.asset_type,
            side=Side.BUY if leg.amount < 0 else Side.SELL, quantity=abs(leg.amount),
            root=root, strike=leg.strike, put_call=leg.put_call, expiry=leg.expiry,
        )
        for leg in ordered
    )


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
