"""Real alert destinations on loopback: an SMTP server (aiosmtpd) and the Telegram Bot API
behind `responses` (apprise's real HTTP requests, intercepted)."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
import responses
from aiosmtpd.controller import Controller

from shared.alerts.config import AlertDestination, AlertsSection
from shared.clock import ManualClock
from shared.journal import Journal

BOT_TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"
CHAT_ID = "-1001234567890"
TELEGRAM_URL = f"tgram://{BOT_TOKEN}/{CHAT_ID}"
SEND_MESSAGE = f"https://api.telegram.org/bot{BOT_TOKEN}/sendMessage"
T0 = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)


@dataclass
class Inbox:
    """Messages the local SMTP server accepted."""

    url: str = ""
    received: list[EmailMessage] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.received.append(message_from_bytes(envelope.content, policy=policy.default))  # type: ignore[arg-type]
        return "250 OK"

    def bodies(self) -> list[str]:
        return [str(message.get_body(("plain",)).get_content()) for message in self.received]  # type: ignore[union-attr]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def smtp_url(port: int) -> str:
    return f"mailto://127.0.0.1:{port}?from=calypso@example.com&to=ops@example.com&mode=insecure"


@pytest.fixture
def smtp_inbox() -> Iterator[Inbox]:
    """A real SMTP server on 127.0.0.1; `inbox.url` is its apprise URL."""
    port = free_port()
    inbox = Inbox(url=smtp_url(port))
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield inbox
    finally:
        controller.stop()


@dataclass
class TelegramApi:
    """The Bot API's sendMessage, intercepted; `down` answers 502 (an outage)."""

    sent: list[dict[str, Any]] = field(default_factory=list)
    calls: int = 0
    down: bool = False

    def handler(self, request: Any) -> tuple[int, dict[str, str], str]:
        self.calls += 1
        if self.down:
            return 502, {}, json.dumps({"ok": False, "description": "Bad Gateway"})
        self.sent.append(json.loads(request.body))
        return 200, {}, json.dumps({"ok": True, "result": {"message_id": len(self.sent)}})

    def texts(self) -> list[str]:
        return [str(message["text"]) for message in self.sent]


@pytest.fixture
def telegram() -> Iterator[TelegramApi]:
    api = TelegramApi()
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.add_callback(responses.POST, SEND_MESSAGE, callback=api.handler)
        yield api


def section(*destinations: AlertDestination, window_minutes: int = 30) -> AlertsSection:
    return AlertsSection(
        enabled=True, destinations=destinations, repeat_window_minutes=window_minutes
    )


def destination(name: str, min_severity: str = "info") -> AlertDestination:
    return AlertDestination(
        name=name,
        url_secret=f"calypso-alerts-{name}",
        min_severity=min_severity,  # type: ignore[arg-type]
    )


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(T0)


@pytest.fixture
def journal_path(tmp_path: Path) -> Path:
    return tmp_path / "data" / "iron_fly_0dte.sqlite"


@pytest.fixture
def journal(journal_path: Path, clock: ManualClock) -> Iterator[Journal]:
    with Journal.open(journal_path, clock=clock) as opened:
        yield opened
