"""Reconciliation on its own against the simulator (real HTTP): adopt, ghost fills, orders left
working, orphans (protected, entries blocked), positions missing at the broker, foreign ones.

A "restart" is a new Reconciler (or runtime) over the same journal; the crash hook raises to
stop the executor at a chosen point, as a killed process would stop.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from shared.bot_runtime import BotRuntime
from shared.clock import ManualClock
from shared.domain import OrderOutcome, OrderStatus, OrderType, Side
from shared.execution import Recorder
from shared.journal import IntentStatus, OrderIntent
from shared.reconciliation import Reconciler
from shared.saxo_client.orders import OrderRequest
from shared.strategy_contract import OpenPosition
from tests.runtime.helpers import BOT, MARKET_OPEN, Rig, fly_legs, sim_positions
from tests.runtime.runtime_rig import WatchStrategy, build_runtime, close_runtime


class Crash(Exception):
    """Stands for the process dying at a crash point."""


def crash_at(wanted: str) -> Callable[[str], None]:
    def hook(point: str) -> None:
        if point == wanted:
            raise Crash(point)

    return hook


@pytest.fixture
def server(sim_factory: Callable[..., Any]) -> Any:
    return sim_factory(start=MARKET_OPEN)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(MARKET_OPEN)


def _rig(server: Any, tmp_path: Path, clock: ManualClock, crash: str | None = None) -> Rig:
    return Rig(server, tmp_path, clock, crash=crash_at(crash) if crash else None)


def _reconciler(rig: Rig, clock: ManualClock) -> Reconciler:
    return Reconciler(broker=rig.broker, recorder=rig.recorder, clock=clock)


def _only_intent(rig: Rig) -> OrderIntent:
    intents = rig.journal.intents()
    assert len(intents) == 1
    return intents[0]


def _enter_fly(rig: Rig, clock: ManualClock) -> None:
    rig.executor.submit(OpenPosition("fly-1", fly_legs(rig.server), "test entry"))
    assert [r.status for r in rig.run_until_idle(clock)] == ["filled"]


def _sim_order(rig: Rig, uic: int, side: Side, **kwargs: Any) -> str:
    request = OrderRequest(uic, "StockIndexOption", side, Decimal(1), **kwargs)
    return rig.client.place_order(request).order_id


def test_positions_matching_the_journal_are_adopted(
    server: Any, tmp_path: Path, clock: ManualClock
) -> None:
    with _rig(server, tmp_path, clock) as rig:
        _enter_fly(rig, clock)

        report = _reconciler(rig, clock).run()

        assert report.clean and report.ghost_fills == 0
        assert {p.uic for p in report.ours} == set(sim_positions(server))
        assert rig.journal.safety_events() == []


def test_a_sent_intent_whose_order_filled_is_recorded_from_the_broker(
    server: Any, tmp_path: Path, clock: ManualClock
) -> None:
    with _rig(server, tmp_path, clock, crash="after_send:1") as rig:
        with pytest.raises(Crash):
            rig.executor.submit(OpenPosition("fly-1", fly_legs(server), "test entry"))
        sent = _only_intent(rig)
        assert sent.status is IntentStatus.SENT and rig.journal.open_trades()[0].fills == ()

        reconciler = _reconciler(rig, clock)
        report = reconciler.run()

        trade = rig.journal.open_trades()[0]
        held = server.call(lambda s: list(s.exchange.portfolio.positions.values()))
        assert report.ghost_fills == 1 and report.clean
        assert [(f.uic, f.quantity, f.price) for f in trade.fills] == [
            (p.uic, 1, p.open_price) for p in held
        ]
        resolved = rig.journal.intent(sent.request_id)
        assert resolved is not None and resolved.status is IntentStatus.FILLED
        assert [e.event for e in rig.journal.safety_events()] == ["ghost_fill_resolved"]
        assert reconciler.blocking_reason() is None
        assert _reconciler(rig, clock).run().ghost_fills == 0  # recorded once


def test_a_pending_intent_whose_order_reached_the_broker_is_found_by_its_reference(
    server: Any, tmp_path: Path, clock: ManualClock
) -> None:
    with _rig(server, tmp_path, clock, crash="before_send:1") as rig:
        with pytest.raises(Crash):
            rig.executor.submit(OpenPosition("fly-1", fly_legs(server), "test entry"))
        pending = _only_intent(rig)
        payload = pending.payload
        order_id = _sim_order(rig, int(payload["uic"]), Side(payload["side"]), to_open=True,
                              external_reference=str(payload["external_reference"]))  # fmt: skip

        report = _reconciler(rig, clock).run()

        resolved = rig.journal.intent(pending.request_id)
        assert resolved is not None and resolved.order_id == order_id
        assert resolved.status is IntentStatus.FILLED and report.ghost_fills == 1
        assert [f.order_id for f in rig.journal.open_trades()[0].fills] == [order_id]


def test_a_pending_intent_never_sent_is_marked_failed(
    server: Any, tmp_path: Path, clock: ManualClock
) -> None:
    with _rig(server, tmp_path, clock, crash="before_send:1") as rig:
        with pytest.raises(Crash):
            rig.executor.submit(OpenPosition("fly-1", fly_legs(server), "test entry"))

        report = _reconciler(rig, clock).run()

        assert _only_intent(rig).status is IntentStatus.FAILED
        assert report.clean and sim_positions(server) == {}


def test_an_order_left_working_by_a_dead_process_is_cancelled_and_its_intent_failed(
    server: Any, tmp_path: Path, clock: ManualClock
) -> None:
    with _rig(server, tmp_path, clock, crash="before_send:1") as rig:
        with pytest.raises(Crash):
            rig.executor.submit(OpenPosition("fly-1", fly_legs(server), "test entry"))
        payload = _only_intent(rig).payload
        _sim_order(rig, int(payload["uic"]), Side.BUY, to_open=True,
                   order_type=OrderType.LIMIT, limit_price=Decimal("0.05"),
                   external_reference=str(payload["external_reference"]))  # fmt: skip
        assert len(rig.client.open_orders()) == 1

        report = _reconciler(rig, clock).run()

        assert rig.client.open_orders() == []
        assert _only_intent(rig).status is IntentStatus.FAILED
        assert report.clean and sim_positions(server) == {}


def test_a_trade_with_nothing_left_at_the_broker_is_closed_as_missing(
    server: Any, tmp_path: Path, clock: ManualClock
) -> None:
    with _rig(server, tmp_path, clock) as rig:
        _enter_fly(rig, clock)
        for uic, amount in sim_positions(server).items():
            _sim_order(rig, uic, Side.SELL if amount > 0 else Side.BUY, to_open=False)
        assert sim_positions(server) == {}

        reconciler = _reconciler(rig, clock)
        report = reconciler.run()

        trade = rig.journal.trades()[0]
        assert not trade.is_open and trade.exit_reason == "missing_at_broker"
        assert "trade_missing_at_broker" in [e.event for e in rig.journal.safety_events()]
        assert report.missing == [] and reconciler.blocking_reason() is None


def test_one_leg_missing_at_the_broker_is_flagged_and_blocks_entries(
    server: Any, tmp_path: Path, clock: ManualClock
) -> None:
    with _rig(server, tmp_path, clock) as rig:
        _enter_fly(rig, clock)
        long_call = fly_legs(server)[0].uic
        _sim_order(rig, long_call, Side.SELL, to_open=False)

        reconciler = _reconciler(rig, clock)
        report = reconciler.run()

        assert report.missing == [f"uic {long_call} journal=1 broker=0"]
        assert rig.journal.open_trades() != []
        assert "missing at the broker" in (reconciler.blocking_reason() or "")


def test_a_position_on_a_uic_the_bot_never_traded_is_foreign_and_left_alone(
    server: Any, tmp_path: Path, clock: ManualClock
) -> None:
    with _rig(server, tmp_path, clock) as rig:
        foreign = fly_legs(server)[0].uic
        _sim_order(rig, foreign, Side.BUY, to_open=True)

        report = _reconciler(rig, clock).run()

        assert report.foreign == [foreign] and report.clean
        assert sim_positions(server) == {foreign: Decimal(1)}


@pytest.fixture
def runtime(server: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[BotRuntime]:
    monkeypatch.delenv("NOTIFY_SOCKET", raising=False)
    made = build_runtime(server, tmp_path, WatchStrategy())
    yield made
    close_runtime(made)


def _run_executor(runtime: BotRuntime, timeout_s: float = 20.0) -> list[Any]:
    reports: list[Any] = []
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        runtime.executor.step()
        reports.extend(runtime.executor.drain_reports())
        if not runtime.executor.busy:
            return reports
        time.sleep(0.05)
    raise AssertionError(f"executor still busy: {runtime.executor.export_jobs()}")


def _enter_and_add_an_orphan(server: Any, runtime: BotRuntime) -> dict[int, Decimal]:
    """Start, enter the fly, then buy 2 more long calls behind the bot's back; returns what the
    broker held before the extra buy (the journal's view)."""
    runtime.start()
    legs = fly_legs(server)
    runtime.executor.submit(OpenPosition("fly-1", legs, "test entry"))
    assert [r.status for r in _run_executor(runtime)] == ["filled"]
    journal_view = sim_positions(server)
    client = runtime.broker.client  # type: ignore[attr-defined]
    client.place_order(OrderRequest(legs[0].uic, "StockIndexOption", Side.BUY, Decimal(2),
                                    to_open=True))  # fmt: skip
    return journal_view


def test_an_orphan_on_a_traded_uic_is_flagged_protected_and_blocks_entries_meanwhile(
    server: Any, runtime: BotRuntime
) -> None:
    journal_view = _enter_and_add_an_orphan(server, runtime)

    runtime._reconcile()  # the periodic reconciliation the loop runs when idle
    blocked = runtime.reconciler.blocking_reason()
    runtime.executor.submit(OpenPosition("fly-2", fly_legs(server), "second entry"))
    reports = runtime.executor.drain_reports() + _run_executor(runtime)
    refused = [r for r in reports if r.intent_id == "fly-2"]
    protected = [r for r in reports if r.intent_id.startswith("protect-")]

    assert blocked is not None and "orphan" in blocked
    assert [r.status for r in refused] == ["failed"] and "orphan" in refused[0].detail
    assert [r.status for r in protected] == ["closed"]
    assert sim_positions(server) == journal_view
    assert "orphan_protection" in [e.event for e in runtime.journal.safety_events()]


def test_after_protecting_an_orphan_the_journal_agrees_with_the_broker_again(
    server: Any, runtime: BotRuntime
) -> None:
    _enter_and_add_an_orphan(server, runtime)
    runtime._reconcile()
    _run_executor(runtime)

    runtime._reconcile()

    assert runtime.reconciler.blocking_reason() is None
    assert len(runtime.journal.open_trades()[0].fills) == 4


def test_an_orphan_is_its_own_trade_opened_at_the_broker_price_and_closed_by_the_protection(
    server: Any, runtime: BotRuntime
) -> None:
    journal_view = _enter_and_add_an_orphan(server, runtime)
    long_call = fly_legs(server)[0].uic
    # The simulator nets a uic into one position at the average open price: the 2 extra
    # contracts cost 3 x average - the fly's own long call.
    (netted,) = [p for p in runtime.broker.positions() if p.uic == long_call]
    (own,) = [f for f in runtime.journal.open_trades()[0].fills if f.uic == long_call]
    assert netted.amount == 3 and netted.open_price is not None
    expected = ((netted.open_price * 3 - own.price) / 2).quantize(Decimal("0.0001"))

    runtime._reconcile()
    _run_executor(runtime)

    fly, orphan = runtime.journal.trades()
    assert fly.is_open and {f.open_close.value for f in fly.fills} == {"open"}
    assert not orphan.is_open and orphan.exit_reason == "orphan_protection"
    opened = [f for f in orphan.fills if f.open_close.value == "open"]
    closed = [f for f in orphan.fills if f.open_close.value == "close"]
    assert [(f.uic, f.side.value, f.quantity, f.price) for f in opened] == [
        (long_call, "buy", 2, expected)
    ]
    assert [(f.uic, f.side.value, f.quantity) for f in closed] == [(long_call, "sell", 2)]
    assert sim_positions(server) == journal_view


def test_an_orphan_adopted_just_before_a_crash_is_closed_by_the_next_reconciliation(
    server: Any, runtime: BotRuntime
) -> None:
    journal_view = _enter_and_add_an_orphan(server, runtime)
    long_call = fly_legs(server)[0].uic
    runtime.recorder.adopt_orphan(label=f"orphan-{long_call}-crashed", uic=long_call,
                                  asset_type="StockIndexOption", excess=2, price=Decimal("1.5"),
                                  multiplier=100, simulated=False,
                                  at=runtime.clock.now())  # fmt: skip

    runtime._reconcile()
    _run_executor(runtime)
    runtime._reconcile()

    assert sim_positions(server) == journal_view
    assert [t.label for t in runtime.journal.open_trades()] == ["fly-1"]
    assert runtime.reconciler.blocking_reason() is None


class _VerifiedAs:
    """The real broker, except that each verified outcome passes through `alter` (what Saxo
    shows in a state the simulator does not produce on demand)."""

    def __init__(self, broker: Any, alter: Callable[[OrderOutcome], OrderOutcome]) -> None:
        self._broker = broker
        self._alter = alter

    def __getattr__(self, name: str) -> Any:
        return getattr(self._broker, name)

    def verify_order(self, order_id: str, **kwargs: Any) -> OrderOutcome:
        return self._alter(self._broker.verify_order(order_id, **kwargs))


def _price_not_published(outcome: OrderOutcome) -> OrderOutcome:
    """A partial fill whose price Saxo has not published yet."""
    return replace(outcome, status=OrderStatus.CANCELLED, filled_amount=Decimal(1), fill=None)


def _commission_not_reported(outcome: OrderOutcome) -> OrderOutcome:
    assert outcome.fill is not None
    return replace(outcome, fill=replace(outcome.fill, commission=None))


def test_a_fill_without_a_published_price_is_left_unresolved_not_made_up(
    server: Any, tmp_path: Path, clock: ManualClock
) -> None:
    with _rig(server, tmp_path, clock, crash="after_send:1") as rig:
        with pytest.raises(Crash):
            rig.executor.submit(OpenPosition("fly-1", fly_legs(server), "test entry"))
        sent = _only_intent(rig)

        reconciler = Reconciler(
            broker=_VerifiedAs(rig.broker, _price_not_published), recorder=rig.recorder, clock=clock
        )
        report = reconciler.run()

        assert report.ghost_fills == 0 and not report.clean
        assert any("fill price not published" in item for item in report.unresolved)
        assert rig.journal.open_trades()[0].fills == ()
        still = rig.journal.intent(sent.request_id)
        assert still is not None and still.status is IntentStatus.SENT
        assert reconciler.blocking_reason() is not None


def test_orders_the_executor_is_working_are_not_cancelled_as_leftovers(
    server: Any, tmp_path: Path, clock: ManualClock
) -> None:
    with _rig(server, tmp_path, clock) as rig:
        legs = fly_legs(server)
        order_id = _sim_order(rig, legs[0].uic, legs[0].side, to_open=True,
                              order_type=OrderType.LIMIT, limit_price=Decimal("0.05"))  # fmt: skip
        request_id = "live-order-1"
        with rig.journal.transaction() as tx:
            tx.record_intent(request_id=request_id, bot="iron_fly_0dte", action="open", payload={
                "uic": legs[0].uic, "side": legs[0].side.value, "leg": legs[0].leg,
                "asset_type": legs[0].asset_type})  # fmt: skip
        rig.journal.mark_intent(request_id, IntentStatus.SENT, order_id=order_id)

        _reconciler(rig, clock).run(skip_uics={legs[0].uic})

        assert order_id in {o.order_id for o in rig.client.open_orders()}
        still = rig.journal.intent(request_id)
        assert still is not None and still.status is IntentStatus.SENT


def test_a_ghost_fill_without_a_reported_commission_records_the_configured_rate(
    server: Any, tmp_path: Path, clock: ManualClock
) -> None:
    with _rig(server, tmp_path, clock, crash="after_send:1") as rig:
        with pytest.raises(Crash):
            rig.executor.submit(OpenPosition("fly-1", fly_legs(server), "test entry"))

        recorder = Recorder(
            rig.journal,
            BOT,
            lambda: ("test", {}),
            assumed_commission_per_contract_usd=Decimal("1.25"),
        )
        reconciler = Reconciler(
            broker=_VerifiedAs(rig.broker, _commission_not_reported), recorder=recorder, clock=clock
        )
        report = reconciler.run()

        (fill,) = rig.journal.open_trades()[0].fills
        assert report.ghost_fills == 1 and fill.commission_usd == Decimal("1.25")
        events = [e.event for e in rig.journal.safety_events()]
        assert events == ["commission_assumed", "ghost_fill_resolved"]
