"""Delta Neutral on the local simulator, as a real `calypso run delta_neutral` process with the
shipped example config: it waits while VIX is high, buys the straddle and sells the first
strangle once VIX falls, and after an early assignment of its short put (the simulator's
`POST /sim/v1/assignments`) reports the lost leg and closes the naked short call. (The shares
the assignment leaves are the runtime's orphan handling, not the strategy's.)
Prices are scripted through the control API; the journal and the simulator's books are read.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import time as clock_time
from decimal import Decimal
from pathlib import Path

import pytest

from shared import paths
from shared.journal import Journal
from shared.journal.models import FillSide, TradeRecord
from tests.scenarios.delta_neutral.harness import DeltaNeutralProcess
from tests.scenarios.iron_fly.harness import PLAIN_DAY, VIX, Day, until

pytestmark = pytest.mark.e2e

BOT = "delta_neutral"
SPEED = 150.0  # simulated seconds per real second
START = clock_time(9, 31)
SPY, SPY_LEVEL = "SPY", 600.0


def trades(home: Path) -> list[TradeRecord]:
    path = paths.journal_path(BOT, home)
    if not path.exists():
        return []
    try:
        with Journal.open_readonly(path) as journal:
            return journal.trades()
    except Exception:  # the bot may be creating the file right now
        return []


def safety(home: Path) -> list[str]:
    with Journal.open_readonly(paths.journal_path(BOT, home)) as journal:
        return [event.event for event in journal.safety_events()]


def decisions(home: Path) -> list[str]:
    with Journal.open_readonly(paths.journal_path(BOT, home)) as journal:
        rows = journal.outbox_pending(100_000)
    return [str(r.payload.get("message")) for r in rows if r.kind == "bot_log"]


def fills_cash_usd(trade: TradeRecord) -> Decimal:
    """Signed fills x 100 x quantity (sells positive) less commissions, USD, computed here."""
    total = Decimal(0)
    for fill in trade.fills:
        sign = 1 if fill.side is FillSide.SELL else -1
        total += sign * fill.price * fill.multiplier * fill.quantity - fill.commission_usd
    return total


def test_waits_for_vix_then_straddle_and_strangle_then_survives_an_early_assignment(
    make_day: Callable[..., Day],
) -> None:
    day = make_day(day=PLAIN_DAY, start=START, speed=SPEED, vix=21.0)
    day.pin(SPY, SPY_LEVEL)
    bot = DeltaNeutralProcess(day.server, day.home)
    try:
        until(lambda: any("straddle_entry_waits" in m for m in _safe(decisions, day.home)), 60,
              "VIX wait")  # fmt: skip
        assert trades(day.home) == []
        day.pin(VIX, 15.0)
        until(lambda: len(trades(day.home)) == 2 and len(trades(day.home)[1].fills) == 2, 60,
              "straddle and strangle filled")  # fmt: skip
        straddle, strangle = trades(day.home)
        assert straddle.label.startswith("delta_neutral:straddle_entry")
        assert strangle.label.startswith("delta_neutral:shorts")
        held = day.positions()
        assert sorted(amount for amount in held.values()) == [-1, -1, 1, 1]
        # The account's cash moved by exactly the fills x 100 less commissions of both trades.
        assert day.cash_change_usd() == fills_cash_usd(straddle) + fills_cash_usd(strangle)

        short_put = _short_put_position_id(day)
        day.control("POST", "/assignments", {"position_id": short_put})
        until(lambda: "strangle_leg_gone" in _safe(safety, day.home), 60, "assignment seen")
        until(lambda: sum(1 for a in day.positions().values() if a < 0 and abs(a) < 100) == 0,
              60, "the naked short call bought back")  # fmt: skip
        longs = [a for a in day.positions().values() if a == 1]
        assert len(longs) == 2  # the straddle is kept
    finally:
        code = bot.stop()
    assert code == 0, bot.log.read_text()[-3000:]


def _safe(read: Callable[[Path], list[str]], home: Path) -> list[str]:
    try:
        return read(home)
    except Exception:  # journal not created yet
        return []


def _short_put_position_id(day: Day) -> str:
    def find(state: object) -> str:
        catalog = state.catalog  # type: ignore[attr-defined]
        for position in state.exchange.portfolio.positions.values():  # type: ignore[attr-defined]
            contract = catalog.option(position.uic)
            if (
                position.amount < 0
                and contract is not None
                and "put" in str(contract.put_call).lower()
            ):
                return str(position.position_id)
        raise AssertionError("no short put at the simulator")

    return str(day.server.call(find))
