"""The shared token cache: one refresh per expiry across coordinators, atomic 0600 file."""

from __future__ import annotations

import json
import stat
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from shared.clock import ManualClock
from shared.saxo_client.errors import TokenError
from shared.saxo_client.oauth import RefreshRejected, TokenSet
from shared.token_coordinator import (
    TokenCacheError,
    TokenCoordinator,
    refresh_margin_s,
    token_secret_name,
)

START = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)
TOKEN_URL = "http://sim.test/token"


class SingleUseRefresher:
    """Issues numbered tokens; each refresh token works once (like Saxo)."""

    token_url = TOKEN_URL

    def __init__(self, clock: ManualClock, lifetime_s: float = 1200.0) -> None:
        self._clock = clock
        self._lifetime = lifetime_s
        self._lock = threading.Lock()
        self.valid: set[str] = set()
        self.refreshes = 0
        self.rejected = 0

    def issue(self) -> TokenSet:
        with self._lock:
            n = len(self.valid) + self.refreshes + self.rejected + 1
            refresh = f"refresh-{n}-{self.refreshes}"
            self.valid.add(refresh)
            now = self._clock.now()
            return TokenSet(
                access_token=f"access-{n}-{self.refreshes}",
                refresh_token=refresh,
                access_expires_at=now + timedelta(seconds=self._lifetime),
                refresh_expires_at=now + timedelta(hours=1),
                issued_at=now,
            )

    def refresh(self, refresh_token: str) -> TokenSet:
        with self._lock:
            if refresh_token not in self.valid:
                self.rejected += 1
                raise RefreshRejected("refresh token used or unknown")
            self.valid.discard(refresh_token)
            self.refreshes += 1
        return self.issue()


class DictStore:
    def __init__(self) -> None:
        self.values: dict[str, str] = {}

    def get(self, name: str) -> str | None:
        return self.values.get(name)

    def put(self, name: str, value: str) -> None:
        self.values[name] = value


def coordinator(
    tmp_path: Path, clock: ManualClock, refresher: SingleUseRefresher, **kwargs: object
) -> TokenCoordinator:
    return TokenCoordinator(
        env="local",
        refresher=refresher,
        cache_path=tmp_path / "data" / "saxo_token_cache.json",
        clock=clock,
        **kwargs,  # type: ignore[arg-type]
    )


@pytest.mark.parametrize(("lifetime_s", "margin_s"), [(1200, 120), (600, 120), (300, 60), (3, 0.6)])
def test_refresh_margin_is_two_minutes_or_20_percent_for_short_tokens(
    lifetime_s: float, margin_s: float
) -> None:
    assert refresh_margin_s(lifetime_s) == pytest.approx(margin_s)


def test_token_is_reused_until_the_margin(tmp_path: Path) -> None:
    clock = ManualClock(START)
    refresher = SingleUseRefresher(clock)
    coord = coordinator(tmp_path, clock, refresher)
    first = refresher.issue()
    coord.store(first)

    clock.advance(timedelta(seconds=1200 - 121))

    assert coord.access_token() == first.access_token
    assert refresher.refreshes == 0


def test_due_token_is_refreshed_and_cached_with_mode_0600(tmp_path: Path) -> None:
    clock = ManualClock(START)
    refresher = SingleUseRefresher(clock)
    coord = coordinator(tmp_path, clock, refresher)
    first = refresher.issue()
    coord.store(first)

    clock.advance(timedelta(seconds=1200 - 119))
    token = coord.access_token()

    assert token != first.access_token and refresher.refreshes == 1
    cache = coord.cache_path
    assert stat.S_IMODE(cache.stat().st_mode) == 0o600
    entry = json.loads(cache.read_text())["environments"]["local"]
    assert entry["access_token"] == token


def test_second_process_adopts_the_refreshed_token_instead_of_refreshing(tmp_path: Path) -> None:
    clock = ManualClock(START)
    refresher = SingleUseRefresher(clock)
    first = refresher.issue()
    a = coordinator(tmp_path, clock, refresher)
    b = coordinator(tmp_path, clock, refresher)
    a.store(first)
    assert b.access_token() == first.access_token

    clock.advance(timedelta(seconds=1150))
    token_a = a.access_token()
    token_b = b.access_token()

    assert token_a == token_b
    assert refresher.refreshes == 1 and refresher.rejected == 0


def test_many_concurrent_coordinators_refresh_exactly_once(tmp_path: Path) -> None:
    clock = ManualClock(START)
    refresher = SingleUseRefresher(clock)
    coordinator(tmp_path, clock, refresher).store(refresher.issue())
    coords = [coordinator(tmp_path, clock, refresher) for _ in range(8)]
    for coord in coords:
        coord.access_token()
    clock.advance(timedelta(seconds=1190))
    results: list[str] = []
    barrier = threading.Barrier(len(coords))

    def worker(coord: TokenCoordinator) -> None:
        barrier.wait()
        results.append(coord.access_token())

    threads = [threading.Thread(target=worker, args=(c,)) for c in coords]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert refresher.refreshes == 1 and refresher.rejected == 0
    assert len(set(results)) == 1


def test_force_refresh_adopts_a_token_another_process_already_refreshed(tmp_path: Path) -> None:
    clock = ManualClock(START)
    refresher = SingleUseRefresher(clock)
    a = coordinator(tmp_path, clock, refresher)
    b = coordinator(tmp_path, clock, refresher)
    a.store(refresher.issue())
    stale = b.access_token()
    fresh = a.force_refresh(stale)

    assert b.force_refresh(stale) == fresh
    assert refresher.refreshes == 1


def test_without_any_token_the_error_says_to_log_in(tmp_path: Path) -> None:
    clock = ManualClock(START)
    coord = coordinator(tmp_path, clock, SingleUseRefresher(clock))

    with pytest.raises(TokenError, match="calypso auth login --env local"):
        coord.access_token()


def test_expired_refresh_token_asks_for_login_without_calling_saxo(tmp_path: Path) -> None:
    clock = ManualClock(START)
    refresher = SingleUseRefresher(clock)
    coord = coordinator(tmp_path, clock, refresher)
    coord.store(refresher.issue())

    clock.advance(timedelta(hours=2))

    with pytest.raises(TokenError, match="expired"):
        coord.access_token()
    assert refresher.refreshes == 0


def test_new_tokens_are_written_back_to_the_secret_store(tmp_path: Path) -> None:
    clock = ManualClock(START)
    refresher = SingleUseRefresher(clock)
    store = DictStore()
    coord = coordinator(tmp_path, clock, refresher, secret_store=store)
    coord.store(refresher.issue())
    clock.advance(timedelta(seconds=1190))

    token = coord.access_token()

    saved = json.loads(store.values[token_secret_name("local")])
    assert saved["access_token"] == token and saved["token_url"] == TOKEN_URL


def test_empty_cache_is_seeded_from_the_secret_store(tmp_path: Path) -> None:
    clock = ManualClock(START)
    refresher = SingleUseRefresher(clock)
    seed = refresher.issue()
    store = DictStore()
    store.put(token_secret_name("local"), json.dumps({**seed.to_json(), "token_url": TOKEN_URL}))
    coord = coordinator(tmp_path, clock, refresher, secret_store=store)

    assert coord.access_token() == seed.access_token
    assert coord.cache_path.exists()


def test_a_failing_secret_store_does_not_stop_refreshing(tmp_path: Path) -> None:
    class BrokenStore(DictStore):
        def put(self, name: str, value: str) -> None:
            raise RuntimeError("secret manager down")

    clock = ManualClock(START)
    refresher = SingleUseRefresher(clock)
    coord = coordinator(tmp_path, clock, refresher, secret_store=BrokenStore())
    coord.store(refresher.issue())
    clock.advance(timedelta(seconds=1190))

    assert coord.access_token().startswith("access-")


def test_cache_entry_for_another_token_url_is_ignored(tmp_path: Path) -> None:
    clock = ManualClock(START)
    refresher = SingleUseRefresher(clock)
    coordinator(tmp_path, clock, refresher).store(refresher.issue())

    class OtherSim(SingleUseRefresher):
        token_url = "http://other.test/token"

    other = coordinator(tmp_path, clock, OtherSim(clock))

    assert other.cached() is None


def test_a_failed_cache_write_keeps_the_new_tokens_in_memory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The old refresh token is spent by the refresh: losing the new set would mean a re-login.
    clock = ManualClock(START)
    refresher = SingleUseRefresher(clock)
    coord = coordinator(tmp_path, clock, refresher)
    coord.store(refresher.issue())
    clock.advance(timedelta(seconds=1200 - 119))

    def disk_full(*_: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("shared.token_coordinator.os.replace", disk_full)
    with pytest.raises(OSError):
        coord.access_token()
    monkeypatch.undo()

    token = coord.access_token()
    assert refresher.refreshes == 1 and refresher.rejected == 0
    assert token.startswith("access-")
    clock.advance(timedelta(seconds=1200 - 119))
    coord.access_token()
    assert refresher.refreshes == 2 and refresher.rejected == 0


@pytest.mark.parametrize("content", [b"\xff\xfe garbage", b"[]", b'{"environments": "x"}'])
def test_a_login_replaces_a_damaged_cache(tmp_path: Path, content: bytes) -> None:
    clock = ManualClock(START)
    refresher = SingleUseRefresher(clock)
    coord = coordinator(tmp_path, clock, refresher)
    coord.cache_path.parent.mkdir(parents=True)
    coord.cache_path.write_bytes(content)

    coord.store(refresher.issue())

    assert coord.cached() is not None


def test_a_cache_that_cannot_be_read_is_an_error_not_an_empty_cache(tmp_path: Path) -> None:
    clock = ManualClock(START)
    refresher = SingleUseRefresher(clock)
    coord = coordinator(tmp_path, clock, refresher)
    coord.cache_path.mkdir(parents=True)  # a directory where the cache file belongs

    with pytest.raises(TokenCacheError, match="is a directory"):
        coord.cached()
    assert refresher.refreshes == 0
