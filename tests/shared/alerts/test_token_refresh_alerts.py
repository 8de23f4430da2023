"""A failed Saxo token refresh alerts from the process that failed (a bot, the token keeper):
severity per docs/ALERTS.md, grouped per repeat window, and never a token or secret in the text.

A real TokenCoordinator over a real cache file, whose refresher fails the way Saxo's token
endpoint does (with secret-looking text in the error); delivery through the real apprise
library to the Telegram Bot API intercepted by `responses`.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest

from shared import paths, secret_manager
from shared.alerts.queue import ALERT_CHANNEL, AlertQueue
from shared.alerts.sender import AlertSender
from shared.alerts.token_watch import KEEPER_UNIT, watch_bot_refreshes
from shared.alerts.worker import AlertChannel, AlertWorker
from shared.cli.token_keeper_cmd import _watch_refreshes, keep_fresh
from shared.clock import ManualClock
from shared.journal import Journal
from shared.saxo_client.errors import TokenError
from shared.saxo_client.oauth import RefreshRejected, TokenSet
from shared.token_coordinator import TokenCoordinator
from tests.shared.alerts.conftest import TELEGRAM_URL, TelegramApi, destination

BOT = "iron_fly_0dte"
ACCESS = "access-7f3a9c1e5b2d4f60"
REFRESH = "refresh-0c8e2a4b6d1f3e59"
JWT = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIxMjMifQ.c2lnbmF0dXJlLXNlY3JldA"
CLIENT_SECRET = "s3cr3t-app-key-9d2f"
SECRETS = (ACCESS, REFRESH, JWT, CLIENT_SECRET)


class FailingRefresher:
    """Saxo's token endpoint refusing (or unreachable), echoing secrets in its error text."""

    token_url = "http://sim.test/token"

    def __init__(self, *errors: Callable[[str], Exception]) -> None:
        self.errors = list(errors)
        self.calls = 0

    def refresh(self, refresh_token: str) -> TokenSet:
        self.calls += 1
        make = self.errors[min(self.calls, len(self.errors)) - 1]
        raise make(refresh_token)


def rejected(refresh_token: str) -> Exception:
    return RefreshRejected(
        f"token endpoint env=local grant=refresh_token refused: status=400 error=invalid_grant "
        f"for {refresh_token} (Authorization: Bearer {JWT}; client_secret={CLIENT_SECRET})"
    )


def unreachable(refresh_token: str) -> Exception:
    return TokenError(f"token endpoint unreachable env=local grant=refresh_token {refresh_token}")


def due_coordinator(tmp_path: Path, clock: ManualClock, refresher: object) -> TokenCoordinator:
    """A coordinator whose access token is due for refresh (60 s left of 1200 s)."""
    coordinator = TokenCoordinator(
        env="local",
        refresher=refresher,  # type: ignore[arg-type]
        cache_path=tmp_path / "saxo_token_cache.json",
        clock=clock,
    )
    now = clock.now()
    coordinator.store(TokenSet(
        access_token=ACCESS, refresh_token=REFRESH, access_expires_at=now + timedelta(seconds=60),
        refresh_expires_at=now + timedelta(hours=2), issued_at=now - timedelta(seconds=1140),
    ))  # fmt: skip
    return coordinator


def bot_channel(journal_path: Path, clock: ManualClock) -> AlertChannel:
    queue = AlertQueue((destination("telegram"),), repeat_window_s=1800.0)
    worker = AlertWorker(bot=BOT, journal_path=journal_path, urls={}, clock=clock)
    return AlertChannel(queue, worker)  # the sender thread is not started: rows stay queued


def queued(journal: Journal) -> list[dict[str, object]]:
    return [row.payload for row in journal.outbox_pending(100, ALERT_CHANNEL)]


def assert_no_secret(text: str) -> None:
    leaked = [secret for secret in SECRETS if secret in text]
    assert leaked == [], f"alert text leaks {leaked}: {text}"


def test_a_bot_whose_refresh_is_refused_alerts_critical_once_per_window_without_secrets(
    tmp_path: Path, journal_path: Path, journal: Journal, clock: ManualClock,
    telegram: TelegramApi,
) -> None:  # fmt: skip
    refresher = FailingRefresher(rejected)
    coordinator = due_coordinator(tmp_path, clock, refresher)
    channel = bot_channel(journal_path, clock)
    assert watch_bot_refreshes(coordinator, channel, bot=BOT, journal_path=journal_path,
                               clock=clock) is not None  # fmt: skip

    for _ in range(3):  # every API call of a failing pass tries again
        with pytest.raises(RefreshRejected):
            coordinator.access_token()
    with pytest.raises(RefreshRejected):  # after a 401 on the price stream's thread
        failure: list[BaseException] = []
        stream = threading.Thread(target=lambda: _capture(failure, coordinator.force_refresh,
                                                          ACCESS))  # fmt: skip
        stream.start()
        stream.join(10)
        raise failure[0]
    assert refresher.calls == 4
    (alert,) = queued(journal)  # grouped: one alert for the window
    assert alert["severity"] == "critical" and alert["topic"] == "token_refresh_failed"
    assert "calypso auth login --env local" in str(alert["body"])
    assert "invalid_grant" in str(alert["body"])

    clock.advance(timedelta(minutes=31))  # the next repeat window: the operator hears again
    with pytest.raises(RefreshRejected):
        coordinator.access_token()
    assert len(queued(journal)) == 2

    result = AlertSender(journal=journal, urls={"telegram": TELEGRAM_URL}).flush()
    assert result.ok and result.delivered == 2
    assert len(telegram.texts()) == 2
    for text in [*telegram.texts(), *(json.dumps(row) for row in queued(journal))]:
        assert_no_secret(text)
    assert all("CRITICAL: Saxo token refresh failed (local)" in t for t in telegram.texts())


def _capture(into: list[BaseException], call: Callable[[str], object], arg: str) -> None:
    try:
        call(arg)
    except BaseException as exc:
        into.append(exc)


def test_a_transient_failure_warns_and_does_not_hold_back_the_critical_that_follows(
    tmp_path: Path, journal_path: Path, journal: Journal, clock: ManualClock
) -> None:
    refresher = FailingRefresher(unreachable, rejected)
    coordinator = due_coordinator(tmp_path, clock, refresher)
    watch_bot_refreshes(coordinator, bot_channel(journal_path, clock), bot=BOT,
                        journal_path=journal_path, clock=clock)  # fmt: skip

    with pytest.raises(TokenError):
        coordinator.access_token()  # the endpoint is unreachable: a retry may succeed
    clock.advance(timedelta(minutes=1))
    with pytest.raises(RefreshRejected):
        coordinator.access_token()  # then refused: only a login helps

    rows = queued(journal)
    assert [row["severity"] for row in rows] == ["warning", "critical"]
    assert "retrying" in str(rows[0]["body"])
    for row in rows:
        assert_no_secret(json.dumps(row))


def test_a_coordinator_without_a_token_alerts_that_a_login_is_needed(
    tmp_path: Path, journal_path: Path, journal: Journal, clock: ManualClock
) -> None:
    coordinator = TokenCoordinator(env="local", refresher=FailingRefresher(rejected),  # type: ignore[arg-type]
                                   cache_path=tmp_path / "cache.json", clock=clock)  # fmt: skip
    watch_bot_refreshes(coordinator, bot_channel(journal_path, clock), bot=BOT,
                        journal_path=journal_path, clock=clock)  # fmt: skip

    with pytest.raises(TokenError, match="calypso auth login"):
        coordinator.access_token()

    (row,) = queued(journal)
    assert row["severity"] == "critical" and row["source"] == BOT


def test_the_token_keeper_alerts_at_once_before_it_exits_on_a_refused_refresh_token(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, clock: ManualClock, telegram: TelegramApi
) -> None:
    """The keeper has no journal: the alert goes through the first bot with alerts enabled
    and, no bot holding that journal's alerts lock, is delivered before the keeper exits 1."""
    home = tmp_path / "home"
    monkeypatch.setenv("CALYPSO_HOME", str(home))
    monkeypatch.setattr(secret_manager, "metadata_project_id", lambda **_: None)  # not on GCP
    monkeypatch.setenv("CALYPSO_SECRET_CALYPSO_ALERTS_TELEGRAM", TELEGRAM_URL)
    config = json.loads(paths.bot_example_config_path(BOT).read_text())
    config["alerts"] = {"enabled": True, "destinations": [
        {"name": "telegram", "url_secret": "calypso-alerts-telegram", "min_severity": "critical"}
    ]}  # fmt: skip
    paths.bot_config_path(BOT).parent.mkdir(parents=True)
    paths.bot_config_path(BOT).write_text(json.dumps(config))
    coordinator = due_coordinator(tmp_path, clock, FailingRefresher(rejected))
    _watch_refreshes(coordinator)  # what `calypso token-keeper` does at start

    code = keep_fresh(coordinator, clock=clock, stop=threading.Event())

    assert code == 1
    (text,) = telegram.texts()
    assert f"[CALYPSO {KEEPER_UNIT}] CRITICAL: Saxo token refresh failed (local)" in text
    assert "calypso auth login --env local" in text
    assert_no_secret(text)
    with Journal.open_readonly(paths.journal_path(BOT)) as reader:
        assert reader.outbox_pending(10, ALERT_CHANNEL) == []  # delivered, nothing waits
