"""Canonical objects for the delta neutral tests: a fixed SPY chain with hand-set bids."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

from shared.domain import Greeks, OptionContract, PutCall, Quote

NOW = datetime(2026, 6, 4, 15, 0, tzinfo=UTC)  # Thursday 11:00 ET
SPOT = Decimal(600)
SHORT_EXPIRY = date(2026, 6, 12)
SPY_ROOT_ID = 5291

# Offsets from spot (USD) -> bid, for the fixed chain; ask = bid + 0.04.
# The ATM 600 call and put are bid 3.98 / ask 4.02: mid 4.00 each, expected move 8.00.
CALL_BIDS = {4: "2.00", 6: "1.40", 8: "0.95", 10: "0.60", 12: "0.38", 14: "0.22", 16: "0.12",
             18: "0.06"}  # fmt: skip
PUT_BIDS = {4: "2.20", 6: "1.55", 8: "1.05", 10: "0.70", 12: "0.45", 14: "0.28", 16: "0.16",
            18: "0.09"}  # fmt: skip


def contract(uic: int, strike: Decimal, put_call: PutCall, expiry: date) -> OptionContract:
    return OptionContract(uic, "SPY", SPY_ROOT_ID, "StockOption", 36590, expiry, strike, put_call)


def quote(
    uic: int, bid: str, ask: str, *, updated_at: datetime = NOW, theta: float | None = None
) -> Quote:
    greeks = None if theta is None else Greeks(None, None, theta, None, None, None)
    b, a = Decimal(bid), Decimal(ask)
    return Quote(uic, "StockOption", b, a, (b + a) / 2, None, updated_at, greeks=greeks)


def fixed_chain(
    scale: Decimal = Decimal(1), expiry: date = SHORT_EXPIRY, uic_base: int = 1000
) -> tuple[list[OptionContract], dict[int, Quote]]:
    """The fixed chain around SPOT: strikes at SPOT +/- offset x `scale`; scaling the ATM mids
    by `scale` too scales the expected move, so the same multiples land on wider strikes."""
    contracts: list[OptionContract] = []
    quotes: dict[int, Quote] = {}
    uic = uic_base
    atm_bid = Decimal("3.98") * scale
    for put_call in (PutCall.CALL, PutCall.PUT):
        uic += 1
        contracts.append(contract(uic, SPOT, put_call, expiry))
        quotes[uic] = quote(uic, str(atm_bid), str(atm_bid + Decimal("0.04") * scale))
    for bids, put_call, sign in ((CALL_BIDS, PutCall.CALL, 1), (PUT_BIDS, PutCall.PUT, -1)):
        for offset, bid in bids.items():
            uic += 1
            strike = SPOT + sign * Decimal(offset) * scale
            contracts.append(contract(uic, strike, put_call, expiry))
            quotes[uic] = quote(uic, bid, str(Decimal(bid) + Decimal("0.04")))
    return contracts, quotes


LONG_EXPIRY = date(2026, 10, 16)  # the monthly expiry nearest 120 days after 2026-06-04
SPY_UIC, VIX_UIC = 36590, 10606


def long_chain(
    spot: Decimal = SPOT, expiry: date = LONG_EXPIRY, theta: float | None = -0.05
) -> tuple[list[OptionContract], dict[int, Quote]]:
    """ATM-ish calls and puts (1 USD strikes, spot +/- 3) with tight spreads and theta."""
    contracts: list[OptionContract] = []
    quotes: dict[int, Quote] = {}
    for offset in range(-3, 4):
        strike = spot.to_integral_value() + offset
        for put_call, uic_base in ((PutCall.CALL, 50000), (PutCall.PUT, 60000)):
            uic = uic_base + int(strike)
            contracts.append(contract(uic, strike, put_call, expiry))
            quotes[uic] = quote(uic, "11.98", "12.02", theta=theta)
    return contracts, quotes
