"""A throwaway service-account key (freshly generated RSA) and the token endpoint it uses."""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path

import responses
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.shared.sheets.fake_sheets import TOKEN

TOKEN_URI = "https://oauth2.googleapis.com/token"
CLIENT_EMAIL = "calypso-sheets@test-project.iam.gserviceaccount.com"


@cache
def _private_key_pem() -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


def service_account_json() -> str:
    return json.dumps(
        {
            "type": "service_account",
            "project_id": "test-project",
            "private_key_id": "k1",
            "private_key": _private_key_pem(),
            "client_email": CLIENT_EMAIL,
            "client_id": "1",
            "token_uri": TOKEN_URI,
        }
    )


def write_key_file(path: Path, mode: int = 0o600) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(service_account_json())
    path.chmod(mode)
    return path


def install_token_endpoint(mock: responses.RequestsMock) -> None:
    """Google's OAuth token endpoint: any signed JWT assertion gets the fake's bearer token."""
    mock.add(
        responses.POST,
        re.compile(re.escape(TOKEN_URI)),
        json={"access_token": TOKEN, "expires_in": 3600, "token_type": "Bearer"},
    )
