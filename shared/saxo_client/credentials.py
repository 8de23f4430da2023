"""Saxo app credentials per environment, parsed from the `calypso-saxo-credentials` secret.

The secret is JSON: `{"sim": {"app_key", "app_secret", "redirect_uri"?}, "live": {...}}`.
`local` (our simulator) uses its fixed public test values and needs no secret.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Final, Protocol

from shared.config.secret_names import SAXO_CREDENTIALS

CREDENTIALS_SECRET: Final = SAXO_CREDENTIALS
LOCAL_APP_KEY: Final = "calypso-local"
LOCAL_APP_SECRET: Final = "calypso-local-secret"
DEFAULT_REDIRECT_URI: Final = "http://127.0.0.1:8976/callback"


class SecretReader(Protocol):
    def get(self, name: str) -> str | None: ...


class CredentialsError(ValueError):
    """The credentials secret is missing or malformed (the message never holds secret values)."""


@dataclass(frozen=True)
class AppCredentials:
    """One Saxo application's key, secret and registered redirect URI."""

    app_key: str
    app_secret: str = field(repr=False)
    redirect_uri: str = DEFAULT_REDIRECT_URI


LOCAL_CREDENTIALS: Final = AppCredentials(app_key=LOCAL_APP_KEY, app_secret=LOCAL_APP_SECRET)


def parse_credentials(raw: str, env: str) -> AppCredentials:
    """The `env` entry of the secret text; raises CredentialsError naming the problem."""
    try:
        document = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise CredentialsError(
            f"secret {CREDENTIALS_SECRET} is not valid JSON (line {exc.lineno})"
        ) from None
    if not isinstance(document, dict):
        raise CredentialsError(f"secret {CREDENTIALS_SECRET} must be a JSON object keyed by env")
    entry = document.get(env)
    if not isinstance(entry, dict):
        raise CredentialsError(f"secret {CREDENTIALS_SECRET} has no object for env {env!r}")
    unknown = sorted(set(entry) - {"app_key", "app_secret", "redirect_uri"})
    if unknown:
        raise CredentialsError(
            f"secret {CREDENTIALS_SECRET} env {env!r} has unknown keys: {', '.join(unknown)}"
        )
    values: dict[str, str] = {}
    for key in ("app_key", "app_secret"):
        value = entry.get(key)
        if not isinstance(value, str) or not value.strip():
            raise CredentialsError(
                f"secret {CREDENTIALS_SECRET} env {env!r}: {key} is missing or empty"
            )
        values[key] = value.strip()
    redirect = entry.get("redirect_uri", DEFAULT_REDIRECT_URI)
    if not isinstance(redirect, str) or not redirect.startswith(("http://", "https://")):
        raise CredentialsError(
            f"secret {CREDENTIALS_SECRET} env {env!r}: redirect_uri must be an http(s) URL"
        )
    return AppCredentials(values["app_key"], values["app_secret"], redirect)


def load_credentials(env: str, store: SecretReader | None) -> AppCredentials:
    """Credentials for `env`: fixed values for `local`, else parsed from the secret in `store`."""
    if env == "local":
        return LOCAL_CREDENTIALS
    if store is None:
        raise CredentialsError(f"env {env!r} needs secret {CREDENTIALS_SECRET} but no store given")
    raw = store.get(CREDENTIALS_SECRET)
    if raw is None:
        raise CredentialsError(f"secret {CREDENTIALS_SECRET} not found (needed for env {env!r})")
    return parse_credentials(raw, env)
