"""The ONE rule for a usable quote: what may drive an entry, a stop or a P&L mark.

A tradable (option) quote is usable when it is not delayed (`delayed_minutes` == 0), has both
sides, ask > 0, bid >= 0, bid <= ask, and its age is known and at most the limit (seconds).
A zero bid is accepted: it is the real market of a worthless far wing, and marking a long at 0
is the conservative mark (rejecting it would leave a fly with no P&L, so no stop, late in the
day). An index (the underlying, VIX) is usable when not delayed, priced (`Quote.price`) and
of known age within the limit. Ages come from the runtime (`Snapshot.quote_ages_s`), else from
the quote's own update time.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal

from shared.domain import Quote
from shared.strategy_contract import Snapshot


def quote_age_s(quote: Quote, ages: Mapping[int, float], now: datetime) -> float | None:
    """Seconds since the quote was updated: the runtime's figure (`ages`), else the quote's
    own update time at `now` (UTC); None when neither is known."""
    age = ages.get(quote.uic)
    return age if age is not None else quote.age_seconds(now)


def snapshot_age_s(snapshot: Snapshot, quote: Quote) -> float | None:
    """`quote_age_s` of a quote in `snapshot`."""
    return quote_age_s(quote, snapshot.quote_ages_s, snapshot.now)


def freshness_problems(quote: Quote, age_s: float | None, max_age_s: float) -> list[str]:
    """Why the quote is too old or delayed to act on (empty: fresh)."""
    problems: list[str] = []
    if quote.delayed_minutes > 0:
        problems.append(f"delayed by {quote.delayed_minutes} min")
    if age_s is None:
        problems.append("age unknown (no update time)")
    elif age_s > max_age_s:
        problems.append(f"stale ({age_s:.1f}s old > {max_age_s:g}s)")
    return problems


def quote_problems(quote: Quote, age_s: float | None, max_age_s: float) -> tuple[str, ...]:
    """Why a two-sided (option) quote is unusable (empty tuple: usable). See the module rule."""
    return (*freshness_problems(quote, age_s, max_age_s), *touch_problems(quote))


def touch_problems(quote: Quote) -> list[str]:
    """Why the quote's bid/ask cannot be traded at (empty: both sides, ask > 0, bid >= 0,
    not crossed). Part of `quote_problems`; used alone on quotes already checked for age."""
    problems: list[str] = []
    bid, ask = quote.bid, quote.ask
    if bid is None or ask is None:
        problems.append(f"not two-sided (bid {bid}, ask {ask})")
    else:
        if ask <= 0:
            problems.append(f"ask not positive ({ask})")
        if bid < 0:
            problems.append(f"bid negative ({bid})")
        if bid > ask:
            problems.append(f"crossed (bid {bid} > ask {ask})")
    return problems


def usable_quote(quote: Quote | None, age_s: float | None, max_age_s: float) -> bool:
    """True when `quote` passes `quote_problems` (None is never usable)."""
    return quote is not None and not quote_problems(quote, age_s, max_age_s)


def usable_snapshot_quote(snapshot: Snapshot, uic: int, max_age_s: float) -> Quote | None:
    """The snapshot's quote of `uic` when usable by the rule, else None."""
    quote = snapshot.quotes.get(uic)
    if quote is None or not usable_quote(quote, snapshot_age_s(snapshot, quote), max_age_s):
        return None
    return quote


def usable_price(snapshot: Snapshot, uic: int, max_age_s: float) -> Decimal | None:
    """The price of an index (underlying, VIX) in the snapshot when not delayed, priced and
    fresh by the rule; else None."""
    quote = snapshot.quotes.get(uic)
    if quote is None or quote.price is None:
        return None
    if freshness_problems(quote, snapshot_age_s(snapshot, quote), max_age_s):
        return None
    return quote.price
