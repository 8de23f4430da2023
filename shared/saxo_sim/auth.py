"""OAuth for the simulator: auto-consent codes, JWT-shaped access tokens, single-use refresh tokens.

Lifetimes are REAL seconds measured on the injected clock's `monotonic()` (wall clock by default),
never simulated time. Token values never appear in logs or error messages.
"""

from __future__ import annotations

import base64
import json
import logging
import secrets
from collections import Counter
from dataclasses import dataclass

from shared.clock import Clock, WallClock
from shared.logger_service import kv

logger = logging.getLogger(__name__)


@dataclass
class AccessGrant:
    """A valid access token and the session it belongs to (expiry on REAL `time.monotonic()`)."""

    token: str
    session_id: str
    expires_at_monotonic: float


@dataclass
class _RefreshGrant:
    session_id: str
    expires_at_monotonic: float
    used: bool = False


@dataclass
class _CodeGrant:
    session_id: str
    redirect_uri: str
    expires_at_monotonic: float


class OAuthError(Exception):
    """A token-endpoint failure: HTTP `status` with OAuth `error` (e.g. invalid_grant)."""

    def __init__(self, status: int, error: str, description: str) -> None:
        super().__init__(f"{status} {error}: {description}")
        self.status = status
        self.error = error
        self.description = description

    def body(self) -> dict[str, str]:
        return {"error": self.error, "error_description": self.description}


def _b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


class AuthService:
    """Issues and validates tokens for one simulator; owned by the server's event loop."""

    def __init__(
        self,
        *,
        app_key: str,
        app_secret: str,
        token_lifetime_s: float,
        refresh_token_lifetime_s: float,
        code_lifetime_s: float = 300.0,
        real: Clock | None = None,
    ) -> None:
        self._app_key = app_key
        self._app_secret = app_secret
        self.token_lifetime_s = token_lifetime_s
        self.refresh_token_lifetime_s = refresh_token_lifetime_s
        self._code_lifetime_s = code_lifetime_s
        self._real: Clock = real or WallClock()
        self._access: dict[str, AccessGrant] = {}
        self._refresh: dict[str, _RefreshGrant] = {}
        self._codes: dict[str, _CodeGrant] = {}
        self._revoked_sessions: set[str] = set()
        self.grants: Counter[str] = Counter()
        self.refresh_rejected = 0
        self.code_rejected = 0

    # --- authorization-code flow -------------------------------------------------------------
    def authorize(self, client_id: str, redirect_uri: str) -> str:
        """Auto-consent: a new single-use authorization code for a new session."""
        if client_id != self._app_key:
            raise OAuthError(400, "unauthorized_client", "unknown client_id")
        if not redirect_uri:
            raise OAuthError(400, "invalid_request", "redirect_uri is required")
        code = secrets.token_hex(16)
        expires = self._real.monotonic() + self._code_lifetime_s
        self._codes[code] = _CodeGrant(secrets.token_hex(16), redirect_uri, expires)
        logger.info(kv("oauth_code_issued", client_id=client_id))
        return code

    def exchange_code(
        self, code: str, client_id: str, client_secret: str, redirect_uri: str | None
    ) -> dict[str, object]:
        """Trade a code for tokens (grant_type=authorization_code); a code works once."""
        self._check_client(client_id, client_secret)
        grant = self._codes.pop(code, None)
        if grant is None or grant.expires_at_monotonic <= self._real.monotonic():
            self.code_rejected += 1
            raise OAuthError(400, "invalid_grant", "authorization code is unknown, used or expired")
        if redirect_uri and redirect_uri != grant.redirect_uri:
            self.code_rejected += 1
            raise OAuthError(400, "invalid_grant", "redirect_uri does not match the authorize call")
        self.grants["authorization_code"] += 1
        return self._issue(grant.session_id)

    def refresh(self, refresh_token: str, client_id: str, client_secret: str) -> dict[str, object]:
        """Trade a refresh token for new tokens; the old refresh token dies (single use)."""
        self._check_client(client_id, client_secret)
        grant = self._refresh.get(refresh_token)
        now = self._real.monotonic()
        if grant is None or grant.used or grant.expires_at_monotonic <= now:
            self.refresh_rejected += 1
            reason = "unknown" if grant is None else "used" if grant.used else "expired"
            logger.warning(kv("oauth_refresh_rejected", reason=reason))
            raise OAuthError(400, "invalid_grant", "refresh token is invalid, used or expired")
        if grant.session_id in self._revoked_sessions:
            self.refresh_rejected += 1
            raise OAuthError(400, "invalid_grant", "session has been ended")
        grant.used = True
        self.grants["refresh_token"] += 1
        return self._issue(grant.session_id)

    def issue_direct(self) -> dict[str, object]:
        """Tokens for a brand-new session without the browser dance (tests, control API)."""
        self.grants["direct"] += 1
        return self._issue(secrets.token_hex(16))

    # --- bearer checks -----------------------------------------------------------------------
    def validate(self, bearer: str) -> AccessGrant | None:
        """The grant for `bearer` ("<token>" or "Bearer <token>"); None when unknown or expired."""
        token = bearer.strip()
        if token[:7].lower() == "bearer ":
            token = token[7:].strip()
        grant = self._access.get(token)
        if grant is None:
            return None
        if grant.expires_at_monotonic <= self._real.monotonic():
            return None
        if grant.session_id in self._revoked_sessions:
            return None
        return grant

    def expire_all(self, *, include_refresh: bool = False) -> int:
        """Expire every access token now (and refresh tokens too if asked); returns the count."""
        now = self._real.monotonic()
        count = 0
        for grant in self._access.values():
            if grant.expires_at_monotonic > now:
                grant.expires_at_monotonic = now
                count += 1
        if include_refresh:
            for refresh in self._refresh.values():
                refresh.expires_at_monotonic = min(refresh.expires_at_monotonic, now)
        logger.info(kv("oauth_tokens_expired", count=count, include_refresh=include_refresh))
        return count

    def end_session(self, session_id: str) -> None:
        """Log a session out: its access and refresh tokens stop working (like `_disconnect`)."""
        self._revoked_sessions.add(session_id)

    def set_lifetimes(
        self, token_lifetime_s: float | None, refresh_lifetime_s: float | None
    ) -> None:
        """Change lifetimes for tokens issued from now on (real seconds, > 0)."""
        for value in (token_lifetime_s, refresh_lifetime_s):
            if value is not None and value <= 0:
                raise ValueError("token lifetimes must be > 0 seconds")
        if token_lifetime_s is not None:
            self.token_lifetime_s = token_lifetime_s
        if refresh_lifetime_s is not None:
            self.refresh_token_lifetime_s = refresh_lifetime_s

    def stats(self) -> dict[str, object]:
        """Grant counts by type and rejected grants."""
        now = self._real.monotonic()
        return {
            "token_grants": dict(self.grants),
            "refresh_grants_rejected": self.refresh_rejected,
            "code_grants_rejected": self.code_rejected,
            "active_access_tokens": sum(
                1 for g in self._access.values() if g.expires_at_monotonic > now
            ),
        }

    # --- internals ---------------------------------------------------------------------------
    def _check_client(self, client_id: str, client_secret: str) -> None:
        if client_id != self._app_key or not secrets.compare_digest(
            client_secret, self._app_secret
        ):
            raise OAuthError(401, "invalid_client", "client authentication failed")

    def _issue(self, session_id: str) -> dict[str, object]:
        now = self._real.monotonic()
        token = self._jwt(session_id)
        self._access[token] = AccessGrant(token, session_id, now + self.token_lifetime_s)
        refresh_token = secrets.token_hex(16)
        self._refresh[refresh_token] = _RefreshGrant(
            session_id, now + self.refresh_token_lifetime_s
        )
        self._forget_dead(now)
        logger.info(kv(
            "oauth_tokens_issued", session=session_id[:8], expires_in_s=self.token_lifetime_s
        ))
        return {
            "access_token": token,
            "token_type": "Bearer",
            "expires_in": int(self.token_lifetime_s),
            "refresh_token": refresh_token,
            "refresh_token_expires_in": int(self.refresh_token_lifetime_s),
            "base_uri": None,
        }

    def _jwt(self, session_id: str) -> str:
        wall_now = self._real.now().timestamp()
        header = {"alg": "ES256", "x5t": "calypso-sim"}
        claims = {
            "oaa": "77770",
            "iss": "oa",
            "aid": "1",
            "uid": "calypso-sim-user",
            "cid": "calypso-sim-client",
            "isa": "False",
            "tid": "1",
            "sid": session_id,
            "dgi": "84",
            "exp": str(int(wall_now + self.token_lifetime_s)),
            "oal": "1F",
            "jti": secrets.token_hex(8),
        }
        parts = (
            _b64url(json.dumps(header, separators=(",", ":")).encode()),
            _b64url(json.dumps(claims, separators=(",", ":")).encode()),
            _b64url(secrets.token_bytes(64)),
        )
        return ".".join(parts)

    def _forget_dead(self, now: float) -> None:
        """Drop grants dead for over an hour so a long run does not grow without bound."""
        horizon = now - 3600.0
        self._access = {k: g for k, g in self._access.items() if g.expires_at_monotonic > horizon}
        self._refresh = {k: g for k, g in self._refresh.items() if g.expires_at_monotonic > horizon}
