"""HTTP transport to Saxo OpenAPI: session, timeouts, pacing, retries, auth refresh, typed errors.

Rules (saxo_api.md 4 and 5):
- connect and read timeouts on every call;
- GETs (idempotent) retry with exponential backoff and jitter on transport errors and 5xx;
- any request answered 401 gets one forced token refresh and one retry (401 means not executed);
- 429 waits for the `X-RateLimit-*-Reset` of the exhausted dimension, then retries (not executed);
- order requests (POST/PATCH/DELETE) are never retried on timeouts or 5xx: the caller looks the
  order up instead; every order request carries a unique `X-Request-ID`.
"""

from __future__ import annotations

import logging
import random
import re
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

import requests
import tenacity

from shared.clock import Clock
from shared.logger_service import kv
from shared.saxo_client.environments import SaxoEnvironment
from shared.saxo_client.errors import (
    SaxoPayloadError,
    SaxoServerError,
    SaxoTransportError,
    api_error,
)
from shared.saxo_client.rate_limiter import RateLimiter, service_group

logger = logging.getLogger(__name__)

_RESET_HEADER = re.compile(r"^x-ratelimit-(?P<dim>[a-z0-9]+)-reset$", re.IGNORECASE)


class TokenProvider(Protocol):
    """Source of bearer tokens (the token coordinator in production)."""

    def access_token(self) -> str:
        """A currently valid access token (refreshing first if it is about to expire)."""
        ...

    def force_refresh(self, rejected_token: str) -> str:
        """A token other than `rejected_token`, refreshing unless another process already has."""
        ...


@dataclass(frozen=True)
class Timeouts:
    """Seconds to establish a connection and to wait for response bytes."""

    connect_s: float = 3.05
    read_s: float = 10.0


@dataclass(frozen=True)
class RetryPolicy:
    """GET retries (`attempts` in total) and the 429 waiting budget."""

    attempts: int = 4
    base_delay_s: float = 0.25
    max_delay_s: float = 4.0
    rate_limit_retries: int = 3
    max_rate_limit_wait_s: float = 65.0


@dataclass(frozen=True)
class SaxoResponse:
    """A successful (2xx) answer. `body` is the decoded JSON, or None for an empty body."""

    status: int
    body: Any
    headers: Mapping[str, str] = field(repr=False)
    correlation: str | None
    request_id: str | None
    elapsed_s: float


def rate_limit_wait_s(headers: Mapping[str, str]) -> float | None:
    """Seconds to wait after a 429: `Retry-After` if sent, else the `X-RateLimit-<dim>-Reset` of
    the dimension whose `Remaining` is 0 (else the largest Reset); None when nothing says."""
    retry_after = headers.get("Retry-After")
    if retry_after is not None:
        try:
            return max(0.0, float(retry_after))
        except ValueError:
            pass
    resets: dict[str, float] = {}
    for name, value in headers.items():
        match = _RESET_HEADER.match(name)
        if match is None:
            continue
        try:
            resets[match["dim"].lower()] = float(value)
        except ValueError:
            continue
    if not resets:
        return None
    exhausted = [
        reset
        for dim, reset in resets.items()
        if _header(headers, f"X-RateLimit-{dim}-Remaining") in ("0", "0.0")
    ]
    return max(exhausted) if exhausted else max(resets.values())


def _header(headers: Mapping[str, str], name: str) -> str | None:
    lowered = name.lower()
    for key, value in headers.items():
        if key.lower() == lowered:
            return value.strip()
    return None


class SaxoTransport:
    """Sends REST requests to one environment. Thread-safe (requests.Session per call site is
    shared; requests' Session is safe for concurrent simple use)."""

    def __init__(
        self,
        *,
        env: SaxoEnvironment,
        tokens: TokenProvider,
        clock: Clock,
        limiter: RateLimiter | None = None,
        session: requests.Session | None = None,
        timeouts: Timeouts | None = None,
        retry: RetryPolicy | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self.env = env
        self._tokens = tokens
        self._clock = clock
        self._limiter = limiter or RateLimiter(clock=clock)
        self._session = session or requests.Session()
        self._timeouts = timeouts or Timeouts()
        self._retry = retry or RetryPolicy()
        self._rng = rng or random.Random()

    @property
    def tokens(self) -> TokenProvider:
        return self._tokens

    def close(self) -> None:
        self._session.close()

    def get(self, path: str, params: Mapping[str, Any] | None = None) -> SaxoResponse:
        """GET `path` (relative to the REST base); retried on transport errors and 5xx
        (`RetryPolicy.attempts` in all, jittered exponential backoff on the injected clock).
        Only GETs are retried here: they are idempotent; orders never are (`send`)."""
        retrying = tenacity.Retrying(
            stop=tenacity.stop_after_attempt(self._retry.attempts),
            wait=lambda state: self._backoff(state.attempt_number),
            retry=tenacity.retry_if_exception_type((SaxoTransportError, SaxoServerError)),
            sleep=self._clock.sleep,
            before_sleep=lambda state: _log_get_retry(path, state),
            reraise=True,
        )
        return retrying(self._send, "GET", path, params=params, json_body=None, headers={})

    def send(
        self,
        method: str,
        path: str,
        *,
        json_body: Any = None,
        params: Mapping[str, Any] | None = None,
        is_order: bool = False,
        request_id: str | None = None,
        url: str | None = None,
    ) -> SaxoResponse:
        """A non-GET request, sent once (plus the safe 401/429 retries). Order requests get an
        `X-Request-ID` (`request_id` or a fresh UUID) and order pacing. `url` overrides the REST
        base (streaming re-authorize). Raises SaxoTransportError when the outcome is unknown."""
        headers: dict[str, str] = {}
        if is_order or request_id is not None:
            headers["X-Request-ID"] = request_id or new_request_id()
        return self._send(
            method.upper(),
            path,
            params=params,
            json_body=json_body,
            headers=headers,
            is_order=is_order,
            url=url,
        )

    def _backoff(self, attempt: int) -> float:
        base = min(self._retry.max_delay_s, self._retry.base_delay_s * (2 ** (attempt - 1)))
        return base + self._rng.uniform(0, base / 2)

    def _send(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None,
        json_body: Any,
        headers: dict[str, str],
        is_order: bool = False,
        url: str | None = None,
    ) -> SaxoResponse:
        group = service_group(path)
        refreshed = False
        rate_limited = 0
        token = self._tokens.access_token()
        while True:
            self._limiter.acquire(group, is_order=is_order)
            response = self._once(method, path, params, json_body, headers, token, url)
            if response.status_code == 401 and not refreshed:
                logger.warning(kv("saxo_unauthorized_refresh", method=method, path=path))
                token = self._tokens.force_refresh(token)
                refreshed = True
                continue
            if response.status_code == 429 and rate_limited < self._retry.rate_limit_retries:
                rate_limited += 1
                wait = rate_limit_wait_s(response.headers)
                if wait is None:
                    wait = self._backoff(rate_limited) * 4
                wait = min(wait, self._retry.max_rate_limit_wait_s)
                logger.warning(kv(
                    "saxo_rate_limited", method=method, path=path, wait_s=wait, attempt=rate_limited
                ))
                self._limiter.pause(group, wait)
                continue
            return self._result(method, path, response)

    def _once(
        self,
        method: str,
        path: str,
        params: Mapping[str, Any] | None,
        json_body: Any,
        headers: Mapping[str, str],
        token: str,
        url: str | None,
    ) -> requests.Response:
        full_url = url or f"{self.env.rest_base}{path}"
        all_headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
        all_headers.update(headers)
        started = time.perf_counter()
        try:
            response = self._session.request(
                method,
                full_url,
                params=dict(params) if params else None,
                json=json_body,
                headers=all_headers,
                timeout=(self._timeouts.connect_s, self._timeouts.read_s),
            )
        except requests.Timeout as exc:
            raise SaxoTransportError(
                f"saxo {method} {path} timed out: {type(exc).__name__}"
            ) from None
        except requests.RequestException as exc:
            raise SaxoTransportError(
                f"saxo {method} {path} transport error: {type(exc).__name__}"
            ) from None
        logger.debug(kv(
            "saxo_http",
            method=method,
            path=path,
            status=response.status_code,
            ms=(time.perf_counter() - started) * 1000,
            correlation=response.headers.get("X-Correlation", "-"),
            request_id=headers.get("X-Request-ID", "-"),
        ))
        return response

    def _result(self, method: str, path: str, response: requests.Response) -> SaxoResponse:
        correlation = response.headers.get("X-Correlation")
        body = _decode(response)
        if response.status_code >= 400:
            raise api_error(
                status=response.status_code,
                body=body,
                method=method,
                path=path,
                correlation=correlation,
                headers=response.headers,
            )
        if body is _UNDECODABLE:
            raise SaxoPayloadError(
                f"saxo {method} {path} -> {response.status_code}: body is not JSON "
                f"(correlation={correlation or '-'})"
            )
        return SaxoResponse(
            status=response.status_code,
            body=body,
            headers=response.headers,
            correlation=correlation,
            request_id=response.request.headers.get("X-Request-ID")
            if response.request is not None
            else None,
            elapsed_s=response.elapsed.total_seconds(),
        )


_UNDECODABLE: Any = object()


def _decode(response: requests.Response) -> Any:
    if not response.content or not response.content.strip():
        return None
    try:
        return response.json()
    except ValueError:
        if response.status_code >= 400:
            return response.text[:200]
        return _UNDECODABLE


def new_request_id() -> str:
    """A unique X-Request-ID value."""
    return uuid.uuid4().hex


def _log_get_retry(path: str, state: tenacity.RetryCallState) -> None:
    error = state.outcome.exception() if state.outcome is not None else None
    delay = state.next_action.sleep if state.next_action is not None else 0.0
    logger.warning(kv("saxo_get_retry", path=path, attempt=state.attempt_number,
                      delay_s=round(delay, 2), error=type(error).__name__))  # fmt: skip
