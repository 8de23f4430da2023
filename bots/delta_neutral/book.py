"""The positions the delta neutral bot holds, their money from FILLS, and the saved-state form.

Money is USD per position as Decimal: a fill is price per share x 100 x contracts, and every
commission the executor reports (USD) is kept beside it. The long straddle's cost and the
strangle's premium come from fills only; quotes appear here only in `close_cost_estimate_usd`,
an estimate the roll's net-credit rule needs before any order exists. Positions are frozen:
a change is a new object, so pricing a candidate never alters what the bot holds.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal
from typing import Any, Self

from shared.domain import PutCall, Quote, Side
from shared.strategy.codec import dec, parse_date, positive_int
from shared.strategy.fills import NO_CASH, CashFlow, cash_flow
from shared.strategy_contract import LegFill, LegSpec

ROOT = "SPY"
OPTION_ASSET_TYPE = "StockOption"
CONTRACT_MULTIPLIER = 100


@dataclass(frozen=True)
class Leg:
    """One option leg of `quantity` contracts (always positive; the side is the role's)."""

    uic: int
    strike: Decimal
    put_call: PutCall
    expiry: date
    quantity: int

    def spec(self, name: str, side: Side) -> LegSpec:
        return LegSpec(
            leg=name,
            uic=self.uic,
            asset_type=OPTION_ASSET_TYPE,
            side=side,
            quantity=self.quantity,
            root=ROOT,
            strike=self.strike,
            put_call=self.put_call,
            expiry=self.expiry,
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "uic": self.uic,
            "strike": str(self.strike),
            "put_call": self.put_call.value,
            "expiry": self.expiry.isoformat(),
            "quantity": self.quantity,
        }

    @classmethod
    def from_json(cls, data: Any, name: str) -> Leg:
        if not isinstance(data, dict):
            raise ValueError(f"{name}: expected an object, got {data!r}")
        try:
            put_call = PutCall(str(data.get("put_call")))
        except ValueError:
            raise ValueError(f"{name}.put_call invalid: {data.get('put_call')!r}") from None
        return cls(
            uic=positive_int(data.get("uic"), f"{name}.uic"),
            strike=dec(data.get("strike"), f"{name}.strike"),
            put_call=put_call,
            expiry=parse_date(data.get("expiry"), f"{name}.expiry"),
            quantity=positive_int(data.get("quantity"), f"{name}.quantity"),
        )


def _cash_json(cash: CashFlow) -> dict[str, str]:
    return {"gross_usd": str(cash.gross_usd), "commission_usd": str(cash.commission_usd)}


def _cash_from_json(data: Any, name: str) -> CashFlow:
    if not isinstance(data, dict):
        raise ValueError(f"{name}: expected an object, got {data!r}")
    return CashFlow(
        dec(data.get("gross_usd"), f"{name}.gross_usd"),
        dec(data.get("commission_usd"), f"{name}.commission_usd"),
    )


def _opt_leg(data: Any, name: str) -> Leg | None:
    return None if data is None else Leg.from_json(data, name)


@dataclass(frozen=True)
class OptionPair:
    """A call and a put of one expiry, either possibly missing (a partial fill or an
    assignment), with the cash flow of the fills that opened them."""

    call: Leg | None
    put: Leg | None
    cash: CashFlow = NO_CASH

    @property
    def complete(self) -> bool:
        return self.call is not None and self.put is not None

    @property
    def empty(self) -> bool:
        return self.call is None and self.put is None

    @property
    def legs(self) -> tuple[Leg, ...]:
        return tuple(leg for leg in (self.call, self.put) if leg is not None)

    @property
    def uics(self) -> frozenset[int]:
        return frozenset(leg.uic for leg in self.legs)

    @property
    def expiry(self) -> date:
        return self.legs[0].expiry

    def with_fills(self, fills: Iterable[LegFill]) -> Self:
        """This pair with `fills` added to its cash flow (a new object)."""
        return replace(self, cash=self.cash + cash_flow(fills))

    def without(self, uic: int) -> Self:
        """This pair without the leg `uic` (e.g. assigned or closed)."""
        return replace(
            self,
            call=None if self.call is not None and self.call.uic == uic else self.call,
            put=None if self.put is not None and self.put.uic == uic else self.put,
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "call": None if self.call is None else self.call.to_json(),
            "put": None if self.put is None else self.put.to_json(),
            "cash": _cash_json(self.cash),
        }

    @classmethod
    def from_json(cls, data: Any, name: str) -> OptionPair:
        if not isinstance(data, dict):
            raise ValueError(f"{name}: expected an object, got {data!r}")
        pair = cls(
            _opt_leg(data.get("call"), f"{name}.call"),
            _opt_leg(data.get("put"), f"{name}.put"),
            _cash_from_json(data.get("cash"), f"{name}.cash"),
        )
        if pair.empty:
            raise ValueError(f"{name}: neither a call nor a put")
        return pair


@dataclass(frozen=True)
class Straddle(OptionPair):
    """The long ATM straddle. `cash.gross_usd` is negative (paid)."""

    @property
    def strike(self) -> Decimal:
        return self.legs[0].strike

    @property
    def cost_usd(self) -> Decimal:
        """What the legs cost at their fills, USD per position, before commissions."""
        return -self.cash.gross_usd

    def entry_legs(self) -> tuple[LegSpec, ...]:
        return _specs(self, "long", Side.BUY)

    def close_legs(self) -> tuple[LegSpec, ...]:
        return _specs(self, "long", Side.SELL)


@dataclass(frozen=True)
class Strangle(OptionPair):
    """The weekly short strangle. `cash.gross_usd` is positive (premium received)."""

    @property
    def premium_usd(self) -> Decimal:
        return self.cash.gross_usd

    def entry_legs(self) -> tuple[LegSpec, ...]:
        return _specs(self, "short", Side.SELL)

    def close_legs(self) -> tuple[LegSpec, ...]:
        return _specs(self, "short", Side.BUY)

    def close_cost_estimate_usd(self, quotes: Mapping[int, Quote]) -> Decimal | None:
        """Buying back at the asks, USD per position; None when a leg has no ask (a decision
        input for the roll's net-credit rule, never booked as P&L)."""
        total = Decimal(0)
        for leg in self.legs:
            quote = quotes.get(leg.uic)
            if quote is None or quote.ask is None or quote.ask <= 0:
                return None
            total += quote.ask * CONTRACT_MULTIPLIER * leg.quantity
        return total


def _specs(pair: OptionPair, role: str, side: Side) -> tuple[LegSpec, ...]:
    specs = []
    if pair.call is not None:
        specs.append(pair.call.spec(f"{role}_call", side))
    if pair.put is not None:
        specs.append(pair.put.spec(f"{role}_put", side))
    return tuple(specs)


def filled_uics(fills: Iterable[LegFill]) -> frozenset[int]:
    return frozenset(fill.uic for fill in fills)


def keep_filled(pair: OptionPair, fills: Iterable[LegFill]) -> tuple[Leg | None, Leg | None]:
    """The call and put of `pair` that `fills` show filled (a partial fill keeps one)."""
    uics = filled_uics(fills)
    call = pair.call if pair.call is not None and pair.call.uic in uics else None
    put = pair.put if pair.put is not None and pair.put.uic in uics else None
    return call, put


@dataclass(frozen=True)
class Ledger:
    """Realized results, USD per position, net of commissions, by lifecycle; counters."""

    straddle_realized_usd: Decimal = Decimal(0)
    strangle_realized_usd: Decimal = Decimal(0)
    recenters: int = 0
    rolls: int = 0

    def booked(
        self, lifecycle: str, realized_usd: Decimal, *, recenter: bool, roll: bool
    ) -> Ledger:
        """This ledger with a closed position of `lifecycle` ("straddle" or "strangle")."""
        if lifecycle == "straddle":
            return replace(
                self,
                straddle_realized_usd=self.straddle_realized_usd + realized_usd,
                recenters=self.recenters + int(recenter),
            )
        return replace(
            self,
            strangle_realized_usd=self.strangle_realized_usd + realized_usd,
            rolls=self.rolls + int(roll),
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "straddle_realized_usd": str(self.straddle_realized_usd),
            "strangle_realized_usd": str(self.strangle_realized_usd),
            "recenters": self.recenters,
            "rolls": self.rolls,
        }

    @classmethod
    def from_json(cls, data: Any) -> Ledger:
        if not isinstance(data, dict):
            raise ValueError(f"ledger: expected an object, got {data!r}")
        counts = [data.get("recenters"), data.get("rolls")]
        if not all(isinstance(c, int) and not isinstance(c, bool) and c >= 0 for c in counts):
            raise ValueError(f"ledger counters invalid: {counts!r}")
        return cls(
            dec(data.get("straddle_realized_usd"), "ledger.straddle_realized_usd"),
            dec(data.get("strangle_realized_usd"), "ledger.strangle_realized_usd"),
            int(data["recenters"]),
            int(data["rolls"]),
        )
