"""The open iron fly: its four legs, the credit from FILLS, and P&L in USD.

Money is USD as Decimal. Premiums are per share; a contract is `multiplier` (100) shares.
- entry credit (USD) = sum over entry fills of (sell - buy) x price x multiplier x quantity,
  less the entry commissions;
- cost to close (USD) = (ask of each short - bid of each long) x 100 x quantity, from quotes;
- unrealized P&L (USD) = entry credit - cost to close - estimated exit commissions (taken
  equal to the entry commissions: the same four legs and quantity).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from shared.domain import PutCall, Quote, Side
from shared.strategy.codec import dec, opt_dec, opt_str, opt_utc, parse_date
from shared.strategy.quotes import touch_problems
from shared.strategy_contract import LegFill, LegSpec

ROOT = "SPXW"
OPTION_ASSET_TYPE = "StockIndexOption"  # LIVE rejects StockOption for SPX (LIVE-001)
CONTRACT_MULTIPLIER = 100
LEG_NAMES = ("long_call", "long_put", "short_call", "short_put")  # entry order, longs first
CLOSE_ORDER = ("short_call", "short_put", "long_call", "long_put")  # buy back shorts first


@dataclass(frozen=True)
class FlyLeg:
    """One leg; `side` is the OPENING side (buy for the wings, sell for the body)."""

    name: str
    uic: int
    strike: Decimal
    put_call: PutCall
    side: Side

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "uic": self.uic, "strike": str(self.strike),
                "put_call": self.put_call.value, "side": self.side.value}

    @classmethod
    def from_json(cls, data: Any) -> FlyLeg:
        if not isinstance(data, dict) or data.get("name") not in LEG_NAMES:
            raise ValueError(f"fly leg invalid: {data!r}")
        uic = data.get("uic")
        if not isinstance(uic, int) or isinstance(uic, bool) or uic <= 0:
            raise ValueError(f"fly leg {data['name']}: uic invalid: {uic!r}")
        try:
            put_call, side = PutCall(str(data.get("put_call"))), Side(str(data.get("side")))
        except ValueError as exc:
            raise ValueError(f"fly leg {data['name']}: {exc}") from None
        return cls(data["name"], uic, dec(data.get("strike"), "fly leg strike"), put_call, side)


@dataclass
class Fly:
    """An iron butterfly of `quantity` contracts per leg, expiring `expiry` (exchange date).

    `credit_usd` is the gross entry credit from fills (None while unknown) and
    `entry_commission_usd` the entry commissions; `entry_at` is when it was filled (UTC).
    """

    expiry: date
    atm_strike: Decimal
    upper_wing: Decimal
    lower_wing: Decimal
    quantity: int
    legs: tuple[FlyLeg, ...]
    entry_at: datetime | None = None
    credit_usd: Decimal | None = None
    entry_commission_usd: Decimal = Decimal(0)
    credit_source: str = "unknown"

    @property
    def uics(self) -> frozenset[int]:
        return frozenset(leg.uic for leg in self.legs)

    def leg(self, name: str) -> FlyLeg:
        for leg in self.legs:
            if leg.name == name:
                return leg
        raise KeyError(name)

    def _spec(self, leg: FlyLeg, side: Side, quantity: int) -> LegSpec:
        return LegSpec(leg=leg.name, uic=leg.uic, asset_type=OPTION_ASSET_TYPE, side=side,
                       quantity=quantity, root=ROOT, strike=leg.strike, put_call=leg.put_call,
                       expiry=self.expiry)

    def entry_legs(self) -> tuple[LegSpec, ...]:
        """Opening orders: long call, long put, short call, short put."""
        return tuple(self._spec(self.leg(n), self.leg(n).side, self.quantity) for n in LEG_NAMES)

    def close_legs(self) -> tuple[LegSpec, ...]:
        """Closing orders for the whole fly, shorts first (never a naked short on the way)."""
        return tuple(
            self._spec(self.leg(n), self.leg(n).side.opposite, self.quantity) for n in CLOSE_ORDER
        )

    def set_credit_from_fills(self, fills: Iterable[LegFill]) -> None:
        """Book the entry credit from the executor's verified fills.

        Raises ValueError (and books nothing) unless every leg filled exactly `quantity`
        contracts on its opening side.
        """
        gross, commission = _cash_flow(fills, self.legs, self.quantity, opening=True)
        self.credit_usd, self.entry_commission_usd = gross, commission
        self.credit_source = "fills"

    def set_credit_from_open_prices(self, open_prices: Mapping[int, Decimal]) -> bool:
        """Book the credit from the broker's average open prices per leg (fills, as the broker
        reports them; commissions unknown, taken as 0). Returns False if a price is missing."""
        gross = Decimal(0)
        for leg in self.legs:
            price = open_prices.get(leg.uic)
            if price is None or price < 0:
                return False
            sign = 1 if leg.side is Side.SELL else -1
            gross += sign * price * CONTRACT_MULTIPLIER * self.quantity
        self.credit_usd, self.entry_commission_usd = gross, Decimal(0)
        self.credit_source = "broker_open_price"
        return True

    @property
    def net_credit_usd(self) -> Decimal | None:
        if self.credit_usd is None:
            return None
        return self.credit_usd - self.entry_commission_usd

    def cost_to_close_usd(self, quotes: Mapping[int, Quote]) -> Decimal | None:
        """USD to buy back the shorts at the ask and sell the longs at the bid; None when a
        leg has no quote or one that fails `touch_problems` (callers pass only quotes that are
        usable by the one rule of `shared.strategy.quotes`, age included)."""
        total = Decimal(0)
        for leg in self.legs:
            quote = quotes.get(leg.uic)
            if quote is None or touch_problems(quote) or quote.bid is None or quote.ask is None:
                return None
            if leg.side is Side.SELL:
                total += quote.ask * CONTRACT_MULTIPLIER * self.quantity
            else:
                total -= quote.bid * CONTRACT_MULTIPLIER * self.quantity
        return total

    def unrealized_pnl_usd(self, quotes: Mapping[int, Quote]) -> Decimal | None:
        """P&L if closed now at the touch, after entry and estimated exit commissions (USD,
        whole position); None when the credit or a leg's quote is unknown."""
        net = self.net_credit_usd
        cost = self.cost_to_close_usd(quotes)
        if net is None or cost is None:
            return None
        return net - cost - self.entry_commission_usd

    def realized_pnl_usd(self, close_fills: Iterable[LegFill]) -> Decimal | None:
        """P&L from the entry fills and the close fills, all commissions included (USD)."""
        net = self.net_credit_usd
        if net is None:
            return None
        closing = Decimal(0)
        commissions = Decimal(0)
        for fill in close_fills:
            sign = 1 if fill.side is Side.SELL else -1
            closing += sign * fill.price * fill.multiplier * fill.quantity
            commissions += fill.commission_usd
        return net + closing - commissions

    def to_json(self) -> dict[str, Any]:
        return {
            "expiry": self.expiry.isoformat(),
            "atm_strike": str(self.atm_strike),
            "upper_wing": str(self.upper_wing),
            "lower_wing": str(self.lower_wing),
            "quantity": self.quantity,
            "legs": [leg.to_json() for leg in self.legs],
            "entry_at": None if self.entry_at is None else self.entry_at.isoformat(),
            "credit_usd": opt_str(self.credit_usd),
            "entry_commission_usd": str(self.entry_commission_usd),
            "credit_source": self.credit_source,
        }

    @classmethod
    def from_json(cls, data: Any) -> Fly:
        """Parse `to_json` output; raises ValueError naming the bad field."""
        if not isinstance(data, dict):
            raise ValueError("fly must be an object")
        quantity = data.get("quantity")
        if not isinstance(quantity, int) or isinstance(quantity, bool) or quantity < 1:
            raise ValueError(f"fly.quantity invalid: {quantity!r}")
        raw_legs = data.get("legs")
        if not isinstance(raw_legs, list):
            raise ValueError("fly.legs must be a list")
        legs = tuple(FlyLeg.from_json(item) for item in raw_legs)
        if sorted(leg.name for leg in legs) != sorted(LEG_NAMES):
            raise ValueError(f"fly.legs must be the four legs {LEG_NAMES}")
        return cls(
            expiry=parse_date(data.get("expiry"), "fly.expiry"),
            atm_strike=dec(data.get("atm_strike"), "fly.atm_strike"),
            upper_wing=dec(data.get("upper_wing"), "fly.upper_wing"),
            lower_wing=dec(data.get("lower_wing"), "fly.lower_wing"),
            quantity=quantity,
            legs=legs,
            entry_at=opt_utc(data.get("entry_at"), "fly.entry_at"),
            credit_usd=opt_dec(data.get("credit_usd"), "fly.credit_usd"),
            entry_commission_usd=dec(data.get("entry_commission_usd", "0"),
                                     "fly.entry_commission_usd"),
            credit_source=str(data.get("credit_source", "unknown")),
        )


def build_fly(
    *, expiry: date, atm: Decimal, wing: Decimal, quantity: int, uics: Mapping[str, int]
) -> Fly:
    """A fly short `atm` call and put, long the wings `wing` points away; `uics` by leg name."""
    strikes = {"long_call": atm + wing, "long_put": atm - wing, "short_call": atm,
               "short_put": atm}
    legs = tuple(
        FlyLeg(name, uics[name], strikes[name],
               PutCall.CALL if name.endswith("call") else PutCall.PUT,
               Side.BUY if name.startswith("long") else Side.SELL)
        for name in LEG_NAMES
    )
    return Fly(expiry=expiry, atm_strike=atm, upper_wing=atm + wing, lower_wing=atm - wing,
               quantity=quantity, legs=legs)


def _cash_flow(
    fills: Iterable[LegFill], legs: tuple[FlyLeg, ...], quantity: int, *, opening: bool
) -> tuple[Decimal, Decimal]:
    by_uic = {leg.uic: leg for leg in legs}
    filled: dict[int, int] = {}
    gross = Decimal(0)
    commission = Decimal(0)
    for fill in fills:
        leg = by_uic.get(fill.uic)
        if leg is None:
            raise ValueError(f"fill for uic {fill.uic} is not a leg of this fly")
        expected_side = leg.side if opening else leg.side.opposite
        if fill.side is not expected_side:
            raise ValueError(f"fill of {leg.name} is a {fill.side}, expected {expected_side}")
        sign = 1 if fill.side is Side.SELL else -1
        gross += sign * fill.price * fill.multiplier * fill.quantity
        commission += fill.commission_usd
        filled[fill.uic] = filled.get(fill.uic, 0) + fill.quantity
    for leg in legs:
        if filled.get(leg.uic, 0) != quantity:
            raise ValueError(
                f"{leg.name} filled {filled.get(leg.uic, 0)} of {quantity} contracts"
            )
    return gross, commission
