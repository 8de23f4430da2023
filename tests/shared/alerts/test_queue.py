"""Alerts in the journal's outbox: routed by severity, grouped per key, atomic with the fact,
and never seen by the Sheets mirror."""

from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal

import pytest
from pydantic import ValidationError

from shared.alerts import messages
from shared.alerts.config import AlertDestination, AlertsSection
from shared.alerts.hook import AlertHook
from shared.alerts.queue import ALERT_CHANNEL, AlertQueue
from shared.alerts.worker import AlertChannel, AlertWorker
from shared.circuit_breaker import BreakerSettings, CircuitBreaker
from shared.clock import ManualClock
from shared.config.errors import ConfigError
from shared.config_loader import parse_bot_config
from shared.execution.recorder import Recorder
from shared.journal import Journal
from tests.shared.alerts.conftest import T0, destination, section
from tests.shared.journal.factories import add_fill

BOT = "iron_fly_0dte"


def queue(*destinations: AlertDestination, window_minutes: int = 30) -> AlertQueue:
    config = section(*destinations, window_minutes=window_minutes)
    return AlertQueue(config.destinations, repeat_window_s=config.repeat_window_s)


def pending(journal: Journal) -> list[tuple[str, str]]:
    return [(row.payload["destination"], row.payload["title"])
            for row in journal.outbox_pending(100, ALERT_CHANNEL)]  # fmt: skip


def safety(event: str, at_minutes: float = 0) -> messages.Alert:
    return messages.safety_event(BOT, event, "x", {}, T0 + timedelta(minutes=at_minutes))


def test_each_destination_gets_only_its_minimum_severity_and_above(journal: Journal) -> None:
    alerts = queue(destination("phone", "critical"), destination("email", "info"))

    alerts.put(journal, safety("commission_assumed"))  # info
    alerts.put(journal, safety("close_stuck"))  # critical

    assert pending(journal) == [
        ("email", "commission assumed"),
        ("phone", "close stuck"),
        ("email", "close stuck"),
    ]


def test_repeats_of_one_event_are_sent_once_per_window(journal: Journal) -> None:
    alerts = queue(destination("phone"), window_minutes=30)

    counts = [
        alerts.put(journal, safety("close_stuck", at_minutes=0)),
        alerts.put(journal, safety("close_stuck", at_minutes=10)),  # same window: grouped
        alerts.put(journal, safety("no_price_close", at_minutes=11)),  # another key
        alerts.put(journal, safety("close_stuck", at_minutes=31)),  # the next window
    ]

    assert counts == [1, 0, 1, 1]
    assert [title for _, title in pending(journal)] == [
        "close stuck",
        "no price close",
        "close stuck",
    ]


def test_an_alert_rolls_back_with_its_transaction_and_never_reaches_the_sheets_mirror(
    journal: Journal,
) -> None:
    alerts = queue(destination("phone"))
    with pytest.raises(RuntimeError), journal.transaction() as tx:
        alerts.put(tx, safety("close_stuck"))
        raise RuntimeError("the fact was not journaled")
    assert pending(journal) == []

    with journal.transaction() as tx:
        alerts.put(tx, safety("close_stuck"))
    assert len(pending(journal)) == 1
    assert journal.outbox_pending(100) == []  # the Sheets channel


def test_the_recorder_queues_the_alert_with_the_safety_event_and_the_trade_close(
    journal: Journal, clock: ManualClock
) -> None:
    channel = AlertChannel(
        queue(destination("phone", "info")),
        AlertWorker(bot=BOT, journal_path=journal.path, urls={}, clock=clock),
    )
    hook = AlertHook(bot=BOT, clock=clock, channel=channel)
    recorder = Recorder(journal, BOT, lambda: ("test", {}), clock=clock, alerts=hook)
    trade_id = journal.open_trade(bot=BOT, quantity=1, label="fly-1")
    add_fill(journal, trade_id)  # sold at 2.50, $1.10 commission
    add_fill(journal, trade_id, side="buy", open_close="close", price=Decimal("1.00"),
             filled_at=T0 + timedelta(minutes=30))  # fmt: skip

    recorder.safety_event("close_stuck", "stop_loss: legs still open", {"trade_id": trade_id})
    recorder.close_trade(trade_id, "profit_target", T0 + timedelta(minutes=30))

    rows = journal.outbox_pending(10, ALERT_CHANNEL)
    assert [row.payload["topic"] for row in rows] == ["safety_event", "trade_closed"]
    closed = rows[1].payload
    # (2.50 - 1.00) x 100 - 2 x 1.10 = 147.80 USD, from the fills.
    assert closed["title"] == "trade closed $147.80"
    assert "P&L $147.80 after commissions $2.20" in closed["body"]
    assert "buy 1 short_call @ 1.00" in closed["body"]
    assert closed["severity"] == "info"
    assert [e.event for e in journal.safety_events()] == ["close_stuck"]


def test_a_recorder_without_alerts_queues_none(journal: Journal, clock: ManualClock) -> None:
    recorder = Recorder(journal, BOT, lambda: ("test", {}), clock=clock)
    recorder.safety_event("close_stuck", "x")
    assert journal.outbox_pending(10, ALERT_CHANNEL) == []


@pytest.mark.parametrize(
    ("changes", "key"),
    [
        ({"url_secret": "tgram://123:abcSECRET/456"}, "alerts.destinations[0].url_secret"),
        ({"min_severity": "urgent"}, "alerts.destinations[0].min_severity"),
        ({"name": "Telegram Phone"}, "alerts.destinations[0].name"),
    ],
)
def test_a_bad_destination_is_named_by_key_and_a_pasted_url_is_not_echoed(
    changes: dict[str, str], key: str
) -> None:
    phone = {"name": "phone", "url_secret": "calypso-alerts-phone", **changes}
    config = {"config_version": 1, "bot": {"name": BOT, "environment": "local"}, "strategy": {},
              "alerts": {"enabled": True, "destinations": [phone]}}  # fmt: skip
    with pytest.raises(ConfigError) as caught:
        parse_bot_config(BOT, json.dumps(config))
    assert key in str(caught.value)
    assert "SECRET" not in str(caught.value)


def test_alerts_enabled_need_a_destination_and_unique_names() -> None:
    with pytest.raises(ValidationError, match="no destination is configured"):
        AlertsSection(enabled=True)
    with pytest.raises(ValidationError, match="repeated: phone"):
        AlertsSection(destinations=(destination("phone"), destination("phone")))


def test_a_breaker_trip_and_its_reset_are_alerted(journal: Journal, clock: ManualClock) -> None:
    channel = AlertChannel(
        queue(destination("phone", "info")),
        AlertWorker(bot=BOT, journal_path=journal.path, urls={}, clock=clock),
    )
    hook = AlertHook(bot=BOT, clock=clock, channel=channel)
    breaker = CircuitBreaker(BOT, BreakerSettings(consecutive_failures=2), clock=clock,
                             store=journal)  # fmt: skip
    breaker.on_change = lambda state, why: hook.breaker_changed(journal, state, why)

    breaker.record_failure("order rejected")
    breaker.record_failure("order rejected")  # trips
    clock.advance(timedelta(minutes=6))  # past the cooldown: half-open
    assert breaker.allows_new_entries()
    breaker.record_success()  # the probe succeeded: reset

    rows = journal.outbox_pending(10, ALERT_CHANNEL)
    assert [(r.payload["title"], r.payload["severity"]) for r in rows] == [
        ("circuit breaker tripped: no new entries", "warning"),
        ("circuit breaker reset: entries allowed", "info"),
    ]
    assert "2 consecutive failures" in rows[0].payload["body"]


def test_a_safety_event_whose_details_quote_a_token_is_queued_redacted(
    journal: Journal, clock: ManualClock
) -> None:
    hook = AlertHook(bot=BOT, clock=clock, channel=AlertChannel(
        queue(destination("phone")), AlertWorker(bot=BOT, journal_path=journal.path, urls={},
                                                 clock=clock)))  # fmt: skip
    recorder = Recorder(journal, BOT, lambda: ("test", {}), clock=clock, alerts=hook)
    jwt = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIxMjMifQ.c2lnbmF0dXJl"
    error = f"401 for Authorization: Bearer {jwt} (refresh_token=r3fr3sh-t0ken-value)"

    recorder.safety_event("order_not_found", f"lookup failed: {error}", {"error": error})

    (row,) = journal.outbox_pending(10, ALERT_CHANNEL)
    text = json.dumps(row.payload)
    assert "lookup failed" in text and "order not found" in text
    assert jwt not in text and "r3fr3sh-t0ken-value" not in text
