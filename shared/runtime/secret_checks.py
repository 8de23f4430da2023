"""Check that the secrets and credential files a config names hold what `run` and `sheets sync`
will load, parsed with the same models (`calypso config check --secrets` and start-up use this).

Messages name the config key and the secret or file, never a secret value.
"""

from __future__ import annotations

from pathlib import Path

from shared.config.errors import ConfigProblem
from shared.config_loader import LoadedConfig
from shared.saxo_client.credentials import CredentialsError, parse_credentials
from shared.sheets.credentials import CredentialsError as SheetsCredentialsError
from shared.sheets.credentials import resolve_service_account

SAXO_ENVIRONMENTS = ("live", "sim")


def saxo_credential_problems(loaded: LoadedConfig, env: str) -> list[ConfigProblem]:
    """Problems with the Saxo app credentials for `env` (none for `local`). Needs a
    `LoadedConfig` whose secrets were resolved; a missing secret was already reported then."""
    secret = loaded.secrets.saxo_credentials
    if env not in SAXO_ENVIRONMENTS or secret is None:
        return []
    try:
        parse_credentials(secret.get_secret_value(), env)
    except CredentialsError as exc:
        return [ConfigProblem(loaded.path, "account.saxo_credentials_secret", str(exc))]
    return []


def sheets_credential_problems(
    loaded: LoadedConfig, *, home: Path | None = None
) -> list[ConfigProblem]:
    """Problems with the Google credentials of an enabled Sheets mirror, exactly as
    `calypso sheets sync` loads them: a missing, unreadable, world-readable or malformed
    `credentials_file`, a malformed secret, or no credentials at all (only when the secrets
    were resolved, since a secret cannot be judged unread)."""
    section = loaded.config.sheets
    if not section.enabled:
        return []
    key = "sheets.credentials_file" if section.credentials_file else "sheets.credentials_secret"
    if section.credentials_secret is not None and not loaded.secrets_resolved:
        return []
    try:
        account = resolve_service_account(section, loaded.secrets.sheets_credentials, home=home)
    except SheetsCredentialsError as exc:
        return [ConfigProblem(loaded.path, key, str(exc))]
    if account is None:
        return [ConfigProblem(loaded.path, key, "sheets.enabled is true but no Google "
                              "service-account credentials could be loaded")]
    return []
