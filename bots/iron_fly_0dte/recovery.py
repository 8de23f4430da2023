"""The iron fly's reading of the broker's book: one complete fly, or not.

Rules (strategies.md 5.1 POS-001..POS-005): exactly one complete fly (short call and short put
at one strike K, a long call above K and a long put below K, one expiry, equal sizes) is adopted
and monitored. Anything else (a partial fly, extra legs, several flies, odd sizes) is closed
entirely, shorts first (`shared.strategy.recovery.close_all_legs`): a bot that trades one fly a
day has no way to know what a second structure is for, and a flat book is the safe state.
"""

from __future__ import annotations

from collections.abc import Sequence

from bots.iron_fly_0dte.book import Fly, FlyLeg
from bots.iron_fly_0dte.records import logger
from shared.domain import Position, PutCall, Side
from shared.logger_service import kv
from shared.strategy.recovery import BrokerBook, BrokerLeg, read_book, still_open


def single_fly(book: BrokerBook) -> Fly | None:
    """The book as one complete fly (strikes, UICs, size), or None when it is not exactly one.

    The credit is not set here; the caller restores it from saved state or open prices.
    """
    if len(book.legs) != 4 or book.unreadable:
        return None
    by_role: dict[str, BrokerLeg] = {}
    for leg in book.legs:
        if leg.role in by_role:
            return None
        by_role[leg.role] = leg
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


def holds(fly: Fly, positions: Sequence[Position]) -> bool:
    """True when the broker holds every leg of `fly` in full on its opening side."""
    wanted = {spec.uic: spec.quantity for spec in fly.close_legs()}
    held = {spec.uic: spec.quantity for spec in still_open(fly.close_legs(), positions)}
    return held == wanted


def credit_from_broker(fly: Fly, positions: Sequence[Position]) -> None:
    """Book `fly`'s credit from the broker's average open prices when they are all known
    (logged); the fill credit is unknown when this is called."""
    prices = {leg.uic: leg.open_price for leg in read_book(positions).legs
              if leg.open_price is not None}
    if fly.set_credit_from_open_prices(prices):
        logger.warning(kv("credit_from_broker_open_prices", credit_usd=fly.credit_usd))
