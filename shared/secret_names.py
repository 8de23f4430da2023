"""Names of the secrets CALYPSO reads (never their values), importable without the secret
store's network code: configs name secrets, `secret_manager` fetches them."""

from __future__ import annotations

SAXO_CREDENTIALS = "calypso-saxo-credentials"
SHEETS_CREDENTIALS = "calypso-google-sheets-credentials"
ACCOUNT_CONFIG = "calypso-account-config"
