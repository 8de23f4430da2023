"""The default names of the secrets CALYPSO reads (names only: values never live in code or
config). Kept apart from `secret_manager` so config models need no secret-store client."""

from __future__ import annotations

SAXO_CREDENTIALS = "calypso-saxo-credentials"
SHEETS_CREDENTIALS = "calypso-google-sheets-credentials"
ACCOUNT_CONFIG = "calypso-account-config"
