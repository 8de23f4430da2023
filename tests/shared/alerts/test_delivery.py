"""Must-show (issue 16): alerts go through the real `apprise` library to a local SMTP server and
to the Telegram Bot API (intercepted HTTP), and an outage across a restart loses nothing and
sends nothing twice."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from shared.alerts import messages
from shared.alerts.queue import ALERT_CHANNEL, AlertQueue
from shared.alerts.sender import AlertSender
from shared.alerts.worker import AlertWorker
from shared.clock import ManualClock
from shared.journal import Journal
from tests.shared.alerts.conftest import (
    BOT_TOKEN,
    CHAT_ID,
    T0,
    TELEGRAM_URL,
    Inbox,
    TelegramApi,
    destination,
    section,
)

BOT = "iron_fly_0dte"


def queue_for(*names: str) -> AlertQueue:
    config = section(*(destination(name) for name in names))
    return AlertQueue(config.destinations, repeat_window_s=config.repeat_window_s)


def stuck_close() -> messages.Alert:
    return messages.safety_event(
        BOT, "close_stuck", "stop_loss: 2 legs still open", {"trade_id": 7, "uic": 1001}, T0
    )


def until(predicate: Callable[[], bool], timeout_s: float = 10.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def test_an_alert_reaches_a_real_smtp_server_through_apprise(
    journal: Journal, smtp_inbox: Inbox
) -> None:
    assert queue_for("email").put(journal, stuck_close()) == 1

    result = AlertSender(journal=journal, urls={"email": smtp_inbox.url}).flush()

    assert (result.ok, result.delivered) == (True, 1)
    (mail,) = smtp_inbox.received
    assert mail["Subject"] == "[CALYPSO iron_fly_0dte] CRITICAL: close stuck"
    assert mail["To"] == "ops@example.com"
    (body,) = smtp_inbox.bodies()
    assert "stop_loss: 2 legs still open" in body and "trade_id=7" in body
    assert journal.outbox_pending(10, ALERT_CHANNEL) == []
    assert AlertSender(journal=journal, urls={"email": smtp_inbox.url}).flush().considered == 0
    assert len(smtp_inbox.received) == 1


def test_an_alert_reaches_telegram_through_apprise(journal: Journal, telegram: TelegramApi) -> None:
    queue_for("telegram").put(journal, stuck_close())

    result = AlertSender(journal=journal, urls={"telegram": TELEGRAM_URL}).flush()

    assert (result.ok, result.delivered) == (True, 1)
    (message,) = telegram.sent
    assert str(message["chat_id"]) == CHAT_ID
    assert "[CALYPSO iron_fly_0dte] CRITICAL: close stuck" in message["text"]
    assert "stop_loss: 2 legs still open" in message["text"]
    assert BOT_TOKEN not in message["text"]


def test_a_telegram_outage_across_a_restart_loses_nothing_and_sends_nothing_twice(
    journal_path: Path, clock: ManualClock, telegram: TelegramApi, smtp_inbox: Inbox
) -> None:
    urls = {"telegram": TELEGRAM_URL, "email": smtp_inbox.url}
    with Journal.open(journal_path, clock=clock) as journal:
        queue_for("telegram", "email").put(journal, stuck_close())
    telegram.down = True

    # The bot's sender thread during the outage: email goes, Telegram waits with its error.
    first = fast_worker(journal_path, urls, clock)
    first.start()
    until(lambda: first.status().consecutive_failures >= 2)
    assert first.stop(5.0)  # the bot restarts
    assert len(smtp_inbox.received) == 1
    assert telegram.sent == [] and telegram.calls >= 2
    with Journal.open_readonly(journal_path) as reader:
        (waiting,) = reader.outbox_pending(10, ALERT_CHANNEL)
    assert waiting.payload["destination"] == "telegram"
    assert waiting.attempts >= 2
    assert waiting.last_error is not None and BOT_TOKEN not in waiting.last_error

    # After the restart, with Telegram back: delivered once, and only the waiting alert.
    telegram.down = False
    second = fast_worker(journal_path, urls, clock)
    second.start()
    until(lambda: second.status().delivered_total == 1)
    time.sleep(0.2)  # a few more idle passes: nothing else may be sent
    assert second.stop(5.0)
    assert len(telegram.sent) == 1 and "close stuck" in telegram.texts()[0]
    assert len(smtp_inbox.received) == 1
    with Journal.open_readonly(journal_path) as reader:
        assert reader.outbox_pending(10, ALERT_CHANNEL) == []


def fast_worker(journal_path: Path, urls: dict[str, str], clock: ManualClock) -> AlertWorker:
    return AlertWorker(
        bot=BOT,
        journal_path=journal_path,
        urls=urls,
        clock=clock,
        idle_interval_s=0.05,
        batch_window_s=0.01,
        outage_backoff_s=0.05,
        outage_backoff_max_s=0.1,
    )


def test_alerts_for_a_destination_without_url_wait_without_holding_back_the_others(
    journal: Journal, smtp_inbox: Inbox
) -> None:
    alerts = queue_for("removed", "email")
    for number in range(2):
        alerts.put(journal, messages.safety_event(BOT, f"drill_{number}", "x", {}, T0))
    sender = AlertSender(journal=journal, urls={"email": smtp_inbox.url}, batch=1)

    results = [sender.flush() for _ in range(5)]

    assert all(result.ok for result in results)  # a config problem, not an outage
    assert sum(result.delivered for result in results) == 2
    assert results[-1].considered == 0
    assert len(smtp_inbox.received) == 2
    waiting = journal.outbox_pending(10, ALERT_CHANNEL)
    assert [row.payload["destination"] for row in waiting] == ["removed"] * 2
    assert {row.attempts for row in waiting} == {1}
    assert waiting[0].last_error == "destination removed is not configured or its secret is missing"
