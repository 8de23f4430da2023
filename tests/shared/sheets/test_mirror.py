"""SheetsMirror: the background thread in a bot, its outage handling across a restart, and
the mirror being off (once, loudly) when no credentials exist."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from pydantic import SecretStr

from shared import paths
from shared.clock import ManualClock
from shared.config_loader import LoadedConfig, ResolvedSecrets, parse_bot_config
from shared.journal import Journal
from shared.sheets.mirror import DisabledMirror, SheetsMirror, build_mirror
from shared.sheets.payloads import DashboardRow, TradeRow, enqueue
from shared.sheets.sender import DeliveryPolicy
from tests.shared.sheets.conftest import BOT, START, open_backend
from tests.shared.sheets.fake_sheets import FakeSheets
from tests.shared.sheets.service_account import service_account_json

FAST = DeliveryPolicy(writes_per_minute=6000, reads_per_minute=6000, jitter_fraction=0.0)


def wait_until(condition: Callable[[], bool], timeout_s: float = 10.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.01)


def loaded_config(*, enabled: bool, secret: str | None) -> LoadedConfig:
    data = json.loads(paths.bot_example_config_path(BOT).read_text())
    data["sheets"]["enabled"] = enabled
    config = parse_bot_config(BOT, json.dumps(data))
    secrets = ResolvedSecrets(sheets_credentials=None if secret is None else SecretStr(secret))
    return LoadedConfig(BOT, Path("config.json"), config, secrets, is_example=False)


def make_mirror(fake: FakeSheets, journal_path: Path, clock: ManualClock) -> SheetsMirror:
    return SheetsMirror(
        bot=BOT,
        journal_path=journal_path,
        connect=lambda: open_backend(fake),
        clock=clock,
        policy=FAST,
        idle_interval_s=0.05,
        batch_window_s=0.0,
        outage_backoff_s=0.05,
        outage_backoff_max_s=0.1,
    )


def trade(trade_id: int) -> TradeRow:
    return TradeRow(
        timestamp=START + timedelta(minutes=trade_id),
        trade_id=trade_id,
        action="CLOSE",
        pnl_usd=Decimal("10"),
    )


def test_no_credentials_turns_the_mirror_off_and_says_so_once(
    caplog: pytest.LogCaptureFixture, clock: ManualClock
) -> None:
    caplog.set_level(logging.INFO, logger="shared.sheets")

    mirror = build_mirror(loaded_config(enabled=True, secret=None), clock=clock)
    mirror.start()
    mirror.notify()

    assert isinstance(mirror, DisabledMirror) and not mirror.enabled
    assert mirror.stop(0.1)
    off = [r.getMessage() for r in caplog.records if "sheets_mirror_off" in r.getMessage()]
    assert off == [f"sheets_mirror_off bot={BOT} reason=no_credentials action=trading_continues"]


def test_disabled_in_config_is_off_without_looking_for_credentials(clock: ManualClock) -> None:
    mirror = build_mirror(loaded_config(enabled=False, secret="{not json"), clock=clock)

    assert isinstance(mirror, DisabledMirror)
    assert mirror.reason == "disabled_in_config"


def test_bad_credentials_turn_the_mirror_off_with_an_error_not_a_crash(
    caplog: pytest.LogCaptureFixture, clock: ManualClock
) -> None:
    mirror = build_mirror(loaded_config(enabled=True, secret="{not json"), clock=clock)

    assert isinstance(mirror, DisabledMirror)
    assert any(r.levelno == logging.ERROR for r in caplog.records)


def test_credentials_present_give_an_enabled_mirror(
    clock: ManualClock, journal_path: Path
) -> None:
    mirror = build_mirror(
        loaded_config(enabled=True, secret=service_account_json()),
        clock=clock,
        journal_path=journal_path,
    )

    assert isinstance(mirror, SheetsMirror) and mirror.enabled


def test_started_mirror_delivers_rows_after_notify(
    fake: FakeSheets, journal: Journal, journal_path: Path, clock: ManualClock
) -> None:
    mirror = make_mirror(fake, journal_path, clock)
    mirror.start()
    try:
        enqueue(journal, trade(1).to_outbox(BOT))
        enqueue(journal, DashboardRow(bot=BOT, state="IDLE", last_update=START).to_outbox(BOT))
        mirror.notify()
        wait_until(lambda: journal.outbox_pending(10) == [])
    finally:
        assert mirror.stop(5.0)

    assert [r["Trade ID"] for r in fake.records("Trades")] == [1]
    assert [r["State"] for r in fake.records("Dashboard")] == ["IDLE"]
    assert mirror.status().delivered_total == 2


def test_notify_and_stop_return_promptly_during_an_outage(
    fake: FakeSheets, journal: Journal, journal_path: Path, clock: ManualClock
) -> None:
    fake.outage(503)
    mirror = make_mirror(fake, journal_path, clock)
    mirror.start()
    enqueue(journal, trade(1).to_outbox(BOT))
    started = time.monotonic()
    mirror.notify()
    notify_s = time.monotonic() - started

    wait_until(lambda: mirror.status().consecutive_failures >= 1)
    stopped = mirror.stop(2.0)

    assert notify_s < 0.01
    assert stopped


def test_rows_queued_during_an_outage_arrive_once_after_a_restart(
    fake: FakeSheets, journal: Journal, journal_path: Path, clock: ManualClock
) -> None:
    fake.outage(503)
    first = make_mirror(fake, journal_path, clock)
    first.start()
    for trade_id in (1, 2, 3):
        enqueue(journal, trade(trade_id).to_outbox(BOT))
    first.notify()
    wait_until(lambda: first.status().consecutive_failures >= 2)
    assert first.stop(2.0)
    assert len(journal.outbox_pending(10)) == 3  # nothing lost while Sheets was down

    fake.restore()
    second = make_mirror(fake, journal_path, clock)  # the bot process restarted
    second.start()
    try:
        wait_until(lambda: journal.outbox_pending(10) == [])
    finally:
        assert second.stop(2.0)

    assert [r["Trade ID"] for r in fake.records("Trades")] == [1, 2, 3]
