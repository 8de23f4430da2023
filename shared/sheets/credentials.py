"""The Google service account the Sheets mirror signs in with: from a secret or a 0600 file.

Nothing here ever puts key material in a message: errors name the secret or the file and the
missing field. The private key is registered for log redaction as soon as it is read.
"""

from __future__ import annotations

import json
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from shared import paths
from shared.config.envelope import SheetsSection
from shared.logger_service import register_secret
from shared.sheets.client import SCOPES

if TYPE_CHECKING:
    from google.auth.credentials import Credentials
    from pydantic import SecretStr

REQUIRED_FIELDS: tuple[str, ...] = ("type", "client_email", "private_key", "token_uri")


class CredentialsError(ValueError):
    """Service-account credentials that cannot be used; the message holds no secret."""


@dataclass(frozen=True)
class ServiceAccount:
    """A parsed service-account key; `source` says where it came from (never the key)."""

    info: dict[str, Any]
    source: str

    @property
    def client_email(self) -> str:
        return str(self.info["client_email"])

    def credentials(self) -> Credentials:
        """google-auth credentials for the Sheets and Drive (read-only) scopes.

        Raises CredentialsError when the private key cannot be loaded.
        """
        from google.oauth2 import service_account

        try:
            credentials: Credentials = service_account.Credentials.from_service_account_info(
                self.info, scopes=list(SCOPES)
            )
        except (ValueError, KeyError, TypeError):
            raise CredentialsError(
                f"{self.source}: private_key is not a usable service-account key"
            ) from None
        return credentials


def parse_service_account(text: str, *, source: str) -> ServiceAccount:
    """Parse a service-account JSON key. Raises CredentialsError naming `source` and the field."""
    try:
        info = json.loads(text)
    except json.JSONDecodeError as exc:
        raise CredentialsError(
            f"{source}: not valid JSON (line {exc.lineno} column {exc.colno})"
        ) from None
    if not isinstance(info, dict):
        raise CredentialsError(f"{source}: must be a JSON object (a service-account key file)")
    if isinstance(info.get("private_key"), str):
        register_secret(info["private_key"])
    missing = [name for name in REQUIRED_FIELDS if not isinstance(info.get(name), str)]
    if missing:
        raise CredentialsError(f"{source}: missing field(s) {', '.join(missing)}")
    if info["type"] != "service_account":
        raise CredentialsError(f"{source}: type is {info['type']!r}, expected 'service_account'")
    return ServiceAccount(info, source)


def resolve_service_account(
    section: SheetsSection, secret_value: SecretStr | None, *, home: Path | None = None
) -> ServiceAccount | None:
    """The service account configured in `section`: from `secret_value` (the resolved
    `credentials_secret`) or from `credentials_file` (relative to CALYPSO_HOME).

    Returns None when no credentials are configured or the secret was not found. Raises
    CredentialsError for a missing or unreadable file, a file others may read, or bad JSON.
    """
    if section.credentials_secret is not None:
        if secret_value is None:
            return None
        return parse_service_account(
            secret_value.get_secret_value(), source=f"secret {section.credentials_secret}"
        )
    if section.credentials_file is None:
        return None
    file = section.credentials_file
    if not file.is_absolute():
        file = (home or paths.calypso_home()) / file
    source = f"credentials file {file}"
    try:
        mode = stat.S_IMODE(file.stat().st_mode)
        if mode & 0o077:
            raise CredentialsError(
                f"{source} has mode {mode:04o}; it must be readable by its owner only "
                f"(chmod 600 {file})"
            )
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise CredentialsError(f"{source} does not exist") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise CredentialsError(f"{source} cannot be read ({type(exc).__name__})") from None
    return parse_service_account(text, source=source)
