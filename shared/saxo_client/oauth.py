"""Saxo OAuth token endpoint: authorization-code exchange and refresh (single-use refresh tokens).

Token values never appear in logs or exception messages. Saxo answers 201 (sample) or 200.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import requests

from shared.clock import Clock
from shared.logger_service import kv
from shared.saxo_client.credentials import AppCredentials
from shared.saxo_client.environments import SaxoEnvironment
from shared.saxo_client.errors import SaxoPayloadError, TokenError
from shared.saxo_client.parsing import parse_time

logger = logging.getLogger(__name__)

TOKEN_TIMEOUT_S = (3.05, 15.0)


class RefreshRejected(TokenError):
    """The token endpoint refused the grant (used, expired or revoked): log in again."""


@dataclass(frozen=True)
class TokenSet:
    """An access token with its refresh token; instants are wall-clock UTC."""

    access_token: str = field(repr=False)
    refresh_token: str | None = field(repr=False)
    access_expires_at: datetime
    refresh_expires_at: datetime | None
    issued_at: datetime

    @property
    def lifetime_s(self) -> float:
        """Access-token lifetime in seconds as issued."""
        return (self.access_expires_at - self.issued_at).total_seconds()

    def to_json(self) -> dict[str, Any]:
        return {
            "access_token": self.access_token,
            "refresh_token": self.refresh_token,
            "access_expires_at": self.access_expires_at.isoformat(),
            "refresh_expires_at": self.refresh_expires_at.isoformat()
            if self.refresh_expires_at
            else None,
            "issued_at": self.issued_at.isoformat(),
        }

    @classmethod
    def from_json(cls, data: object) -> TokenSet:
        """Inverse of `to_json`; raises TokenError (naming the key) on a malformed entry."""
        if not isinstance(data, dict):
            raise TokenError("token entry is not an object")
        access = data.get("access_token")
        refresh = data.get("refresh_token")
        if not isinstance(access, str) or not access:
            raise TokenError("token entry has no access_token")
        if refresh is not None and not isinstance(refresh, str):
            raise TokenError("token entry refresh_token is not a string")
        try:
            access_expires = parse_time(data.get("access_expires_at"), "access_expires_at")
            refresh_expires = parse_time(data.get("refresh_expires_at"), "refresh_expires_at")
            issued = parse_time(data.get("issued_at"), "issued_at")
        except SaxoPayloadError as exc:
            raise TokenError(f"token entry has a bad timestamp: {exc}") from None
        if access_expires is None or issued is None:
            raise TokenError("token entry lacks access_expires_at or issued_at")
        return cls(access, refresh or None, access_expires, refresh_expires, issued)


def token_set_from_response(body: object, *, now: datetime) -> TokenSet:
    """Token endpoint JSON -> TokenSet with expiries relative to `now` (UTC)."""
    if not isinstance(body, dict):
        raise TokenError("token endpoint answer is not a JSON object")
    access = body.get("access_token")
    expires_in = body.get("expires_in")
    if not isinstance(access, str) or not access:
        raise TokenError("token endpoint answer has no access_token")
    if not isinstance(expires_in, int | float) or expires_in <= 0:
        raise TokenError("token endpoint answer has no positive expires_in")
    refresh = body.get("refresh_token")
    refresh_in = body.get("refresh_token_expires_in")
    refresh_expires = (
        now + timedelta(seconds=float(refresh_in))
        if isinstance(refresh_in, int | float) and refresh_in > 0
        else None
    )
    return TokenSet(
        access_token=access,
        refresh_token=refresh if isinstance(refresh, str) and refresh else None,
        access_expires_at=now + timedelta(seconds=float(expires_in)),
        refresh_expires_at=refresh_expires,
        issued_at=now,
    )


class OAuthClient:
    """Talks to one environment's OAuth endpoints with one app's credentials."""

    def __init__(
        self,
        *,
        env: SaxoEnvironment,
        credentials: AppCredentials,
        clock: Clock,
        session: requests.Session | None = None,
    ) -> None:
        self.env = env
        self._credentials = credentials
        self._clock = clock
        self._session = session or requests.Session()

    @property
    def token_url(self) -> str:
        return self.env.token_url

    def authorize_url(self, *, state: str, redirect_uri: str) -> str:
        """The browser URL that starts the authorization-code flow."""
        query = urlencode(
            {
                "response_type": "code",
                "client_id": self._credentials.app_key,
                "state": state,
                "redirect_uri": redirect_uri,
            }
        )
        return f"{self.env.authorize_url}?{query}"

    def exchange_code(self, code: str, *, redirect_uri: str) -> TokenSet:
        """Trade an authorization code for the first tokens."""
        return self._grant(
            {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri},
            grant="authorization_code",
        )

    def refresh(self, refresh_token: str) -> TokenSet:
        """Trade a refresh token (it dies: single use) for new tokens."""
        return self._grant(
            {
                "grant_type": "refresh_token",
                "refresh_token": refresh_token,
                "redirect_uri": self._credentials.redirect_uri,
            },
            grant="refresh_token",
        )

    def _grant(self, fields: dict[str, str], *, grant: str) -> TokenSet:
        form = dict(fields)
        form["client_id"] = self._credentials.app_key
        form["client_secret"] = self._credentials.app_secret
        try:
            response = self._session.post(self.env.token_url, data=form, timeout=TOKEN_TIMEOUT_S)
        except requests.RequestException as exc:
            raise TokenError(
                f"token endpoint unreachable env={self.env.name} grant={grant}: "
                f"{type(exc).__name__}"
            ) from None
        if response.status_code in (200, 201):
            try:
                body = response.json()
            except ValueError:
                raise TokenError(f"token endpoint env={self.env.name} answered non-JSON") from None
            tokens = token_set_from_response(body, now=self._clock.now())
            logger.info(kv(
                "oauth_grant_ok", env=self.env.name, grant=grant, expires_in_s=tokens.lifetime_s
            ))
            return tokens
        error = _oauth_error(response)
        logger.error(kv(
            "oauth_grant_failed",
            env=self.env.name,
            grant=grant,
            status=response.status_code,
            error=error,
        ))
        message = (
            f"token endpoint env={self.env.name} grant={grant} refused: "
            f"status={response.status_code} error={error}"
        )
        if 400 <= response.status_code < 500:
            raise RefreshRejected(message)
        raise TokenError(message)


def _oauth_error(response: requests.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return "-"
    if isinstance(body, dict) and isinstance(body.get("error"), str):
        return str(body["error"])[:80]
    return "-"
