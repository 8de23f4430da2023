"""An option that expired between sessions is booked in the journal on the new day's first open
pass, before the strategy decides (real simulator: its clock jumps to the next morning, as the
demo and the scenario tests move it, which leaves `monotonic` and so the periodic
reconciliation's interval behind).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from shared.bot_runtime import BotRuntime
from shared.domain import PutCall, Side
from shared.journal import FillSide, Journal
from shared.saxo_sim.instruments import QQQ_ROOT_ID, QQQ_UIC
from shared.strategy_contract import Action, LegSpec, OpenPosition, Snapshot
from tests.runtime.helpers import NEW_YORK, control, sim_positions
from tests.runtime.runtime_rig import WatchStrategy, build_runtime, close_runtime

EXPIRY_DAY = date(2026, 3, 2)  # a Monday; QQQ lists an expiry every trading day
LATE_AFTERNOON = datetime(2026, 3, 2, 15, 30, tzinfo=NEW_YORK)
NEXT_MORNING = datetime(2026, 3, 3, 9, 40, tzinfo=NEW_YORK)


class JournalWatch(WatchStrategy):
    """Remembers, at every decide, the open trades of the journal it is given."""

    def __init__(self) -> None:
        super().__init__()
        self.journal: Journal | None = None
        self.open_at_decide: list[list[int]] = []

    def decide(self, snapshot: Snapshot) -> Sequence[Action]:
        assert self.journal is not None
        self.open_at_decide.append([t.trade_id for t in self.journal.open_trades()])
        return super().decide(snapshot)


@pytest.fixture
def server(sim_factory: Callable[..., Any]) -> Any:
    return sim_factory(start=LATE_AFTERNOON)


@pytest.fixture
def watch() -> JournalWatch:
    return JournalWatch()


@pytest.fixture
def runtime(
    server: Any, tmp_path: Path, watch: JournalWatch, monkeypatch: pytest.MonkeyPatch
) -> Iterator[BotRuntime]:
    monkeypatch.delenv("NOTIFY_SOCKET", raising=False)
    made = build_runtime(server, tmp_path, watch)
    watch.journal = made.journal
    yield made
    close_runtime(made)


def _put_expiring_today(server: Any) -> LegSpec:
    def pick(state: Any) -> Any:
        spot = state.model.spot(QQQ_UIC)
        puts = [c for c in state.catalog.contracts(QQQ_ROOT_ID, EXPIRY_DAY, spot)
                if c.put_call == "Put"]  # fmt: skip
        return min(puts, key=lambda c: abs(float(c.strike) - spot))

    contract = server.call(pick)
    return LegSpec("long_put", contract.uic, "StockOption", Side.BUY, 1, "QQQ",
                   strike=contract.strike, put_call=PutCall.PUT, expiry=EXPIRY_DAY)  # fmt: skip


def _fill(runtime: BotRuntime, action: OpenPosition, timeout_s: float = 20.0) -> None:
    runtime.executor.submit(action)
    deadline = time.monotonic() + timeout_s
    while runtime.executor.busy:
        assert time.monotonic() < deadline, runtime.executor.export_jobs()
        runtime.executor.step()
        time.sleep(0.05)
    assert [r.status for r in runtime.executor.drain_reports()] == ["filled"]


def test_an_option_expired_overnight_is_booked_before_the_first_decide_of_the_new_day(
    server: Any, runtime: BotRuntime, watch: JournalWatch
) -> None:
    runtime.start()
    leg = _put_expiring_today(server)
    _fill(runtime, OpenPosition("put-1", (leg,), "test entry"))
    runtime.iteration()  # a pass on the expiry day: the put is held and journaled open
    (trade,) = runtime.journal.open_trades()
    assert watch.open_at_decide[-1] == [trade.trade_id]

    control(server, "POST", "/clock", {"now": NEXT_MORNING.isoformat()})
    assert leg.uic not in sim_positions(server)  # the simulator expired it at the close
    runtime.iteration()

    assert watch.open_at_decide[-1] == []  # the strategy saw it booked already
    (booked,) = runtime.journal.trades()
    assert booked.exit_reason == "expired" and not booked.is_open
    closing = [f for f in booked.fills if f.side is FillSide.SELL]
    assert [(f.price, f.commission_usd) for f in closing] == [(Decimal(0), Decimal(0))]
