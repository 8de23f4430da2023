"""The campaign the put diagonal holds, its money from FILLS, and the saved-state form.

A campaign is one long put (about 14 DTE) and at most one short put of a nearer expiry, each
`quantity` contracts. Its cash is the sum of EVERY fill of the campaign: the long bought, each
short sold, each short bought back at a roll, each long rolled, and the final close, less every
commission. The realized campaign P&L is that cash once nothing is held, so a short's premium
is counted exactly once and roll buy-backs are booked. Quotes appear only in `mark_usd`, the
estimate of what closing would bring, used by the loss limit. Money is USD per campaign.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal
from typing import Any

from shared.domain import PutCall, Quote, Side
from shared.strategy.codec import dec, parse_date
from shared.strategy.fills import NO_CASH, CashFlow, cash_flow
from shared.strategy_contract import LegFill, LegSpec

ROOT = "QQQ"
OPTION_ASSET_TYPE = "StockOption"
CONTRACT_MULTIPLIER = 100


@dataclass(frozen=True)
class PutLeg:
    """One QQQ put of `quantity` contracts (always positive; the side is the role's)."""

    uic: int
    strike: Decimal
    expiry: date
    quantity: int

    def spec(self, name: str, side: Side) -> LegSpec:
        return LegSpec(
            leg=name, uic=self.uic, asset_type=OPTION_ASSET_TYPE, side=side,
            quantity=self.quantity, root=ROOT, strike=self.strike, put_call=PutCall.PUT,
            expiry=self.expiry,
        )  # fmt: skip

    def dte(self, today: date) -> int:
        return (self.expiry - today).days

    def to_json(self) -> dict[str, Any]:
        return {"uic": self.uic, "strike": str(self.strike), "expiry": self.expiry.isoformat(),
                "quantity": self.quantity}  # fmt: skip

    @classmethod
    def from_json(cls, data: Any, name: str) -> PutLeg:
        if not isinstance(data, dict):
            raise ValueError(f"{name}: expected an object, got {data!r}")
        uic, quantity = data.get("uic"), data.get("quantity")
        for field, value in (("uic", uic), ("quantity", quantity)):
            if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
                raise ValueError(f"{name}.{field}: expected a positive integer, got {value!r}")
        assert isinstance(uic, int) and isinstance(quantity, int)
        return cls(uic, dec(data.get("strike"), f"{name}.strike"),
                   parse_date(data.get("expiry"), f"{name}.expiry"), quantity)  # fmt: skip


def opt_leg(data: Any, name: str) -> PutLeg | None:
    return None if data is None else PutLeg.from_json(data, name)


def leg_json(leg: PutLeg | None) -> dict[str, Any] | None:
    return None if leg is None else leg.to_json()


def cash_json(cash: CashFlow) -> dict[str, str]:
    return {"gross_usd": str(cash.gross_usd), "commission_usd": str(cash.commission_usd)}


def cash_from_json(data: Any, name: str) -> CashFlow:
    if not isinstance(data, dict):
        raise ValueError(f"{name}: expected an object, got {data!r}")
    return CashFlow(dec(data.get("gross_usd"), f"{name}.gross_usd"),
                    dec(data.get("commission_usd"), f"{name}.commission_usd"))  # fmt: skip


@dataclass(frozen=True)
class Campaign:
    """What is held now and the cash of every fill so far (see the module docstring).

    `retiring` is the old long while a long roll-up is under way (the new long is bought first,
    so the short is never left without a long). Counters count completed rolls."""

    long: PutLeg | None = None
    short: PutLeg | None = None
    retiring: PutLeg | None = None
    cash: CashFlow = NO_CASH
    short_rolls: int = 0
    vertical_rolls: int = 0
    long_rolls: int = 0
    opened_on: date | None = None  # New York date of the long's first fill

    @property
    def legs(self) -> tuple[PutLeg, ...]:
        return tuple(leg for leg in (self.short, self.long, self.retiring) if leg is not None)

    @property
    def empty(self) -> bool:
        return not self.legs

    @property
    def uics(self) -> frozenset[int]:
        return frozenset(leg.uic for leg in self.legs)

    def with_fills(self, fills: Iterable[LegFill]) -> Campaign:
        return replace(self, cash=self.cash + cash_flow(fills))

    def mark_usd(self, quotes: Mapping[int, Quote]) -> Decimal | None:
        """What closing every leg would bring now: longs at the bid, shorts at the ask, USD;
        None when a leg lacks that side (the loss rule then waits)."""
        total = Decimal(0)
        for leg, sign in ((self.long, 1), (self.retiring, 1), (self.short, -1)):
            if leg is None:
                continue
            quote = quotes.get(leg.uic)
            price = None if quote is None else (quote.bid if sign > 0 else quote.ask)
            if price is None or price < 0 or (sign < 0 and price == 0):
                return None
            total += sign * price * CONTRACT_MULTIPLIER * leg.quantity
        return total

    def unrealized_usd(self, quotes: Mapping[int, Quote]) -> Decimal | None:
        """The campaign's P&L if closed now: fills so far (net of commissions) plus the mark."""
        mark = self.mark_usd(quotes)
        return None if mark is None else self.cash.net_usd + mark

    def to_json(self) -> dict[str, Any]:
        return {
            "long": leg_json(self.long), "short": leg_json(self.short),
            "retiring": leg_json(self.retiring), "cash": cash_json(self.cash),
            "short_rolls": self.short_rolls, "vertical_rolls": self.vertical_rolls,
            "long_rolls": self.long_rolls,
            "opened_on": None if self.opened_on is None else self.opened_on.isoformat(),
        }  # fmt: skip

    @classmethod
    def from_json(cls, data: Any) -> Campaign:
        if not isinstance(data, dict):
            raise ValueError(f"campaign: expected an object, got {data!r}")
        counts = {k: data.get(k, 0) for k in ("short_rolls", "vertical_rolls", "long_rolls")}
        for key, value in counts.items():
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise ValueError(f"campaign.{key}: expected a count, got {value!r}")
        return cls(
            long=opt_leg(data.get("long"), "campaign.long"),
            short=opt_leg(data.get("short"), "campaign.short"),
            retiring=opt_leg(data.get("retiring"), "campaign.retiring"),
            cash=cash_from_json(data.get("cash"), "campaign.cash"),
            opened_on=None if data.get("opened_on") is None
            else parse_date(data.get("opened_on"), "campaign.opened_on"),
            **counts,
        )


@dataclass(frozen=True)
class Ledger:
    """Results of closed campaigns: USD net of commissions."""

    campaigns: int = 0
    realized_usd: Decimal = Decimal(0)
    last_campaign_usd: Decimal | None = None

    def booked(self, campaign_usd: Decimal) -> Ledger:
        return Ledger(self.campaigns + 1, self.realized_usd + campaign_usd, campaign_usd)

    def to_json(self) -> dict[str, Any]:
        last = self.last_campaign_usd
        return {"campaigns": self.campaigns, "realized_usd": str(self.realized_usd),
                "last_campaign_usd": None if last is None else str(last)}  # fmt: skip

    @classmethod
    def from_json(cls, data: Any) -> Ledger:
        if not isinstance(data, dict):
            raise ValueError(f"ledger: expected an object, got {data!r}")
        count, last = data.get("campaigns"), data.get("last_campaign_usd")
        if not isinstance(count, int) or isinstance(count, bool) or count < 0:
            raise ValueError(f"ledger.campaigns: expected a count, got {count!r}")
        return cls(count, dec(data.get("realized_usd"), "ledger.realized_usd"),
                   None if last is None else dec(last, "ledger.last_campaign_usd"))  # fmt: skip
