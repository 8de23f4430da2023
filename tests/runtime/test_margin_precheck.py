"""LIVE-004 (issue 12 risk 9): Saxo's order pre-check runs before the first leg of an entry.
When it answers WouldExceedMargin the entry is skipped with that reason (safety event
`entry_precheck_failed`, the entry reported `failed`) and no order is sent; when it answers Ok
the entry goes ahead. Simulator over real HTTP; the refusal is set through its control API."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from shared.journal import Journal
from tests.runtime.helpers import BOT, control, sim_orders
from tests.runtime.runtime_rig import TEN_AM, EnterUS500, RuntimeThread, build_runtime

SPEED = 10.0
PRECHECK_ROUTE = "POST /openapi/trade/v2/orders/precheck"


def _run_entry(server: Any, tmp_path: Path) -> EnterUS500:
    """Run the one-leg US500 entry until its first report (30 s real at most)."""
    strategy = EnterUS500()

    def build(stop: Any) -> Any:
        return build_runtime(server, tmp_path, strategy, stop=stop)

    running = RuntimeThread(build).start()
    try:
        deadline = time.monotonic() + 30
        while not strategy.reports and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        assert running.stop() == 0
    return strategy


def test_margin_refusal_at_pre_check_skips_the_entry_and_sends_no_order(
    sim_factory: Callable[..., Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("NOTIFY_SOCKET", raising=False)
    server = sim_factory(start=TEN_AM, speed=SPEED)
    control(server, "POST", "/orders/precheck_refusal", {"error_code": "WouldExceedMargin"})

    strategy = _run_entry(server, tmp_path)

    (report,) = strategy.reports
    assert report.status == "failed" and "WouldExceedMargin" in report.detail
    assert sim_orders(server) == []  # no order reached the simulator
    routes = control(server, "GET", "/stats")["routes"]
    assert routes.get(PRECHECK_ROUTE, 0) >= 1
    assert routes.get("POST /openapi/trade/v2/orders", 0) == 0
    with Journal.open_readonly(tmp_path / "data" / f"{BOT}.sqlite") as journal:
        events = [e for e in journal.safety_events() if e.event == "entry_precheck_failed"]
        intents = journal.intents()
    assert len(events) == 1 and "WouldExceedMargin" in events[0].description
    assert intents == []  # nothing was even intended to be sent


def test_entry_passing_the_pre_check_is_sent(
    sim_factory: Callable[..., Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("NOTIFY_SOCKET", raising=False)
    server = sim_factory(start=TEN_AM, speed=SPEED)

    _run_entry(server, tmp_path)

    # (The simulator then refuses a US500.I order itself: what matters is that it was sent.)
    routes = control(server, "GET", "/stats")["routes"]
    assert routes.get(PRECHECK_ROUTE, 0) == 1
    assert routes.get("POST /openapi/trade/v2/orders", 0) == 1
