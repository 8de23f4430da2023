"""The shared Saxo token cache: one refresh per expiry across any number of processes.

`CALYPSO_HOME/data/saxo_token_cache.json` (mode 0600, atomic replace) holds one entry per
environment. Refreshing happens under a `filelock` and re-reads the cache inside the lock, so a
process that finds a token another process already refreshed adopts it instead of spending the
single-use refresh token again.

When to refresh: 120 s before the access token expires; for tokens whose lifetime is under
10 minutes (test simulators), when 20% of the lifetime remains (the two rules meet at 600 s).
Expiry bookkeeping is wall-clock UTC through the injected Clock.
On GCP every new token set is also written to Secret Manager (`calypso-saxo-token-<env>`), and an
empty cache is seeded from there.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import socket
import stat
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Final, Protocol

from filelock import FileLock
from filelock import Timeout as FileLockTimeout

from shared.clock import Clock
from shared.logger_service import REDACTED, kv, redact
from shared.private_file import write_private_json
from shared.saxo_client.errors import TokenError
from shared.saxo_client.oauth import RefreshRejected, TokenSet

logger = logging.getLogger(__name__)

CACHE_VERSION: Final = 1
TOKEN_SECRET_PREFIX: Final = "calypso-saxo-token-"
LONG_LIFETIME_S: Final = 600.0
LONG_MARGIN_S: Final = 120.0
SHORT_MARGIN_FRACTION: Final = 0.2


class TokenRefresher(Protocol):
    """The OAuth side of a refresh (OAuthClient in production)."""

    @property
    def token_url(self) -> str: ...

    def refresh(self, refresh_token: str) -> TokenSet: ...


class SecretWriter(Protocol):
    def get(self, name: str) -> str | None: ...

    def put(self, name: str, value: str) -> None: ...


class TokenCacheError(TokenError):
    """The token cache file exists but is unusable; the message names the file, what is wrong
    and what to run."""


class TokenCacheDamaged(TokenCacheError):
    """The cache file was read but its content is damaged (not UTF-8, not JSON, wrong shape):
    a login or refresh may replace it. An unreadable file is a plain TokenCacheError."""


class LoginRequired(TokenError):
    """No refresh can succeed (no token, no refresh token, or the refresh token expired): the
    operator must run `calypso auth login`."""


@dataclass(frozen=True)
class RefreshFailure:
    """A failed attempt to get a fresh token, as told to `TokenCoordinator.on_refresh_failed`.

    `detail` is the error text with every token value and secret-shaped string redacted;
    `login_required` is True when only `calypso auth login` can fix it (the refresh token was
    refused or has expired), False for a failure a retry may fix (endpoint unreachable, 5xx).
    """

    env: str
    detail: str
    login_required: bool


RefreshFailureHook = Callable[[RefreshFailure], None]


def read_cache_environments(path: Path) -> dict[str, Any]:
    """The `environments` object of the token cache at `path` ({} when there is no file).

    Raises TokenCacheError naming `path` for an unreadable file, text that is not UTF-8 or not
    JSON, a top level that is not an object, or `environments` that is not an object (the
    content problems as TokenCacheDamaged).
    """
    fix = "run `calypso auth login` to write a new one"
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    except IsADirectoryError:
        raise TokenCacheError(f"token cache {path} is a directory, not a file") from None
    except UnicodeDecodeError:
        raise TokenCacheDamaged(f"token cache {path} is not UTF-8 text (corrupt); {fix}") from None
    except OSError as exc:
        raise TokenCacheError(f"cannot read token cache {path}: {exc.strerror}") from None
    try:
        document = json.loads(text)
    except (json.JSONDecodeError, RecursionError):
        raise TokenCacheDamaged(f"token cache {path} is not valid JSON (corrupt); {fix}") from None
    if not isinstance(document, dict):
        raise TokenCacheDamaged(
            f"token cache {path}: the top level is a JSON {type(document).__name__}, not an "
            f"object; {fix}"
        )
    environments = document.get("environments", {})
    if not isinstance(environments, dict):
        raise TokenCacheDamaged(f"token cache {path}: 'environments' is not an object; {fix}")
    return environments


def cache_mode_problem(path: Path) -> str | None:
    """Why the cache file's permissions are unsafe (group or other access), else None."""
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
    except OSError:
        return None
    if mode & 0o077:
        return f"token cache {path} has mode {mode:04o}, wider than 0600: run `chmod 600 {path}`"
    return None


def refresh_margin_s(lifetime_s: float) -> float:
    """Seconds before expiry at which to refresh a token that lived `lifetime_s` seconds."""
    if lifetime_s >= LONG_LIFETIME_S:
        return LONG_MARGIN_S
    return max(0.0, lifetime_s) * SHORT_MARGIN_FRACTION


def token_secret_name(env: str) -> str:
    return f"{TOKEN_SECRET_PREFIX}{env}"


class TokenCoordinator:
    """Hands out access tokens for one environment, refreshing them cooperatively."""

    def __init__(
        self,
        *,
        env: str,
        refresher: TokenRefresher,
        cache_path: Path,
        clock: Clock,
        secret_store: SecretWriter | None = None,
        lock_timeout_s: float = 30.0,
    ) -> None:
        self.env = env
        self._refresher = refresher
        self.cache_path = cache_path
        self._lock_path = cache_path.with_name(cache_path.name + ".lock")
        self._clock = clock
        self._secret_store = secret_store
        self._lock_timeout_s = lock_timeout_s
        self._thread_lock = threading.RLock()
        self._tokens: TokenSet | None = None
        self.refresh_count = 0
        # Told of every failed refresh (the bot and the token keeper alert the operator); it
        # runs on the thread that asked for a token and must never raise.
        self.on_refresh_failed: RefreshFailureHook | None = None

    # --- public -----------------------------------------------------------------------------

    def access_token(self) -> str:
        """A valid access token, refreshed first (once, across processes) when it is due."""
        return self.current_tokens().access_token

    def current_tokens(self) -> TokenSet:
        """The token set in use, refreshed first when due. Raises TokenError when none exists."""
        with self._thread_lock:
            tokens = self._tokens
            if tokens is None or self._due(tokens):
                tokens = self._refresh_reporting(rejected=None)
            return tokens

    def force_refresh(self, rejected_token: str) -> str:
        """A token other than `rejected_token` (after a 401): adopt a newer cached one, else
        refresh now."""
        with self._thread_lock:
            tokens = self._tokens
            if (
                tokens is not None
                and tokens.access_token != rejected_token
                and not self._due(tokens)
            ):
                return tokens.access_token
            return self._refresh_reporting(rejected=rejected_token).access_token

    def store(self, tokens: TokenSet) -> None:
        """Save a brand-new token set (after `calypso auth login`)."""
        with self._thread_lock, self._file_lock():
            self._write_entry(tokens)
            self._tokens = tokens
        self._write_back(tokens)

    def cached(self) -> TokenSet | None:
        """The cache entry for this environment as on disk (no refresh), or None."""
        return self._read_entry()

    def next_refresh_at(self) -> datetime | None:
        """When the token in use becomes due for refresh (UTC), or None without a token."""
        tokens = self._tokens or self._read_entry()
        if tokens is None:
            return None
        return tokens.access_expires_at - timedelta(seconds=refresh_margin_s(tokens.lifetime_s))

    # --- internals --------------------------------------------------------------------------

    def _due(self, tokens: TokenSet) -> bool:
        remaining = (tokens.access_expires_at - self._clock.now()).total_seconds()
        return remaining <= refresh_margin_s(tokens.lifetime_s)

    def _refresh_reporting(self, *, rejected: str | None) -> TokenSet:
        """`_refresh_under_lock`, telling `on_refresh_failed` of a failure before raising it."""
        try:
            return self._refresh_under_lock(rejected=rejected)
        except TokenError as exc:
            self._report_failure(exc, rejected)
            raise

    def _report_failure(self, exc: TokenError, rejected: str | None) -> None:
        hook = self.on_refresh_failed
        if hook is None:
            return
        detail = str(exc)
        for known in (self._tokens, self._read_entry_quietly()):
            for value in (known.access_token, known.refresh_token) if known else ():
                if value:
                    detail = detail.replace(value, REDACTED)
        if rejected:
            detail = detail.replace(rejected, REDACTED)
        failure = RefreshFailure(
            env=self.env,
            detail=redact(detail)[:300],
            login_required=isinstance(exc, LoginRequired | RefreshRejected),
        )
        try:
            hook(failure)
        except Exception as hook_error:  # an alert must never turn into a trading failure
            logger.error(kv("token_refresh_alert_failed", env=self.env,
                            error=type(hook_error).__name__))  # fmt: skip

    def _read_entry_quietly(self) -> TokenSet | None:
        try:
            return self._read_entry()
        except TokenError:
            return None

    def _refresh_under_lock(self, *, rejected: str | None) -> TokenSet:
        with self._file_lock():
            cached = self._read_entry()
            if cached is None and self._tokens is None:
                cached = self._seed_from_secret_store()
                if cached is not None:
                    self._write_entry(cached)
            if cached is not None and cached.access_token != rejected and not self._due(cached):
                if self._tokens is None or cached.access_token != self._tokens.access_token:
                    logger.info(kv("token_adopted", env=self.env, reason=_reason(rejected)))
                self._tokens = cached
                return cached
            # Refresh from the newest set we know: the file can lag memory after a failed write.
            candidates = [t for t in (cached, self._tokens) if t is not None]
            source = max(candidates, key=lambda t: t.access_expires_at) if candidates else None
            if source is None:
                raise LoginRequired(
                    f"no Saxo token for env {self.env}: run `calypso auth login --env {self.env}`"
                )
            fresh = self._refresh_with(source)
            # The old refresh token is spent now: keep the new set in memory before anything
            # that can fail, and write Secret Manager inside the lock so that two processes'
            # write-backs cannot land out of order (leaving a spent token as the latest).
            self._tokens = fresh
            self._write_entry(fresh)
            self._write_back(fresh)
        return fresh

    def _refresh_with(self, source: TokenSet) -> TokenSet:
        now = self._clock.now()
        if source.refresh_token is None:
            raise LoginRequired(
                f"token for env {self.env} has no refresh token: run `calypso auth login`"
            )
        if source.refresh_expires_at is not None and source.refresh_expires_at <= now:
            raise LoginRequired(
                f"refresh token for env {self.env} expired at "
                f"{source.refresh_expires_at.isoformat()}: "
                f"run `calypso auth login --env {self.env}`"
            )
        fresh = self._refresher.refresh(source.refresh_token)
        self.refresh_count += 1
        logger.info(kv(
            "token_refreshed",
            env=self.env,
            lifetime_s=fresh.lifetime_s,
            expires_at=fresh.access_expires_at.isoformat(),
            pid=os.getpid(),
        ))
        return fresh

    @contextlib.contextmanager
    def _file_lock(self) -> Iterator[None]:
        self._lock_path.parent.mkdir(parents=True, exist_ok=True)
        lock = FileLock(str(self._lock_path), timeout=self._lock_timeout_s)
        try:
            lock.acquire()
        except FileLockTimeout:
            raise TokenError(
                f"token cache lock {self._lock_path} busy for {self._lock_timeout_s:g}s"
            ) from None
        try:
            yield
        finally:
            lock.release()

    def _read_environments(self) -> dict[str, Any]:
        """The cache's environments. Damaged content reads as empty (logged with its path), so
        a login or refresh replaces it; a file that cannot be read raises TokenCacheError."""
        try:
            return read_cache_environments(self.cache_path)
        except TokenCacheDamaged as exc:
            logger.error(kv("token_cache_corrupt", path=self.cache_path, error=exc))
            return {}

    def _read_entry(self) -> TokenSet | None:
        entry = self._read_environments().get(self.env)
        if not isinstance(entry, dict):
            return None
        if entry.get("token_url") != self._refresher.token_url:
            return None
        try:
            return TokenSet.from_json(entry)
        except TokenError as exc:
            logger.error(kv("token_cache_entry_invalid", env=self.env, path=self.cache_path,
                            error=exc))
            return None

    def _write_entry(self, tokens: TokenSet) -> None:
        environments = dict(self._read_environments())
        entry = tokens.to_json()
        entry["token_url"] = self._refresher.token_url
        entry["updated_by"] = f"{socket.gethostname()}:{os.getpid()}"
        environments[self.env] = entry
        write_private_json(
            self.cache_path, {"version": CACHE_VERSION, "environments": environments}
        )

    def _write_back(self, tokens: TokenSet) -> None:
        if self._secret_store is None:
            return
        payload = tokens.to_json()
        payload["token_url"] = self._refresher.token_url
        try:
            self._secret_store.put(token_secret_name(self.env), json.dumps(payload))
        except Exception as exc:  # a failed write-back must not stop trading
            logger.error(kv(
                "token_secret_write_failed",
                env=self.env,
                secret=token_secret_name(self.env),
                error=type(exc).__name__,
            ))

    def _seed_from_secret_store(self) -> TokenSet | None:
        if self._secret_store is None:
            return None
        try:
            raw = self._secret_store.get(token_secret_name(self.env))
        except Exception as exc:
            logger.error(kv("token_secret_read_failed", env=self.env, error=type(exc).__name__))
            return None
        if raw is None:
            return None
        try:
            data = json.loads(raw)
            if data.get("token_url") != self._refresher.token_url:
                return None
            tokens = TokenSet.from_json(data)
        except (json.JSONDecodeError, AttributeError, TokenError):
            logger.error(kv("token_secret_invalid", env=self.env))
            return None
        logger.info(kv("token_seeded_from_secret", env=self.env))
        return tokens


def _reason(rejected: str | None) -> str:
    return "due" if rejected is None else "unauthorized"
