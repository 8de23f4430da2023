"""Limit-ladder pricing and the market-order spread guard (pure functions, Decimal prices).

Step `s` percent prices a buy at ask x (1 + s/100) rounded DOWN to the tick and a sell at
bid x (1 - s/100) rounded UP, so a step never concedes more than it says. Option roots use
`options_math.round_to_tick`; other instruments use a one-cent tick.
"""

from __future__ import annotations

from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal

from shared import options_math
from shared.domain import Quote, Side

CENT = Decimal("0.01")


def touch_price(side: Side, quote: Quote) -> Decimal | None:
    """The price a marketable order meets: the ask for a buy, the bid for a sell (None if
    that side is missing or not positive)."""
    value = quote.ask if side is Side.BUY else quote.bid
    if value is None or value <= 0:
        return None
    return value


def _round(root: str | None, price: Decimal, mode: str) -> Decimal:
    try:
        if root:
            return options_math.round_to_tick(root, price, "down" if mode == "down" else "up")
    except ValueError:
        pass  # not an option root we know: fall back to cents
    rounding = ROUND_FLOOR if mode == "down" else ROUND_CEILING
    return price.quantize(CENT, rounding=rounding)


def ladder_price(
    side: Side, quote: Quote, step_percent: Decimal, root: str | None
) -> Decimal | None:
    """The limit price of one ladder step, or None when the quote has no usable touch."""
    touch = touch_price(side, quote)
    if touch is None:
        return None
    factor = step_percent / Decimal(100)
    if side is Side.BUY:
        price = _round(root, touch * (1 + factor), "down")
        return max(price, touch)
    price = _round(root, touch * (1 - factor), "up")
    if price <= 0:
        return None
    return min(price, touch)


def spread_usd(quote: Quote) -> Decimal | None:
    """ask - bid per share, or None when either side is missing."""
    if quote.bid is None or quote.ask is None:
        return None
    return quote.ask - quote.bid


def market_allowed(quote: Quote | None, max_spread_usd: Decimal) -> tuple[bool, str]:
    """(allowed, why) for a non-emergency MARKET order under the spread guard."""
    if quote is None:
        return False, "no quote to check the spread"
    spread = spread_usd(quote)
    if spread is None:
        return False, "one-sided quote"
    if spread > max_spread_usd:
        return False, f"spread {spread} > guard {max_spread_usd}"
    return True, f"spread {spread}"
