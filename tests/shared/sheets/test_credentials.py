"""Service-account credentials from a secret value or an owner-only file; no key in messages."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pydantic import SecretStr

from shared.config.envelope import SheetsSection
from shared.sheets.credentials import (
    CredentialsError,
    parse_service_account,
    resolve_service_account,
)
from tests.shared.sheets.service_account import CLIENT_EMAIL, service_account_json, write_key_file

SECRET = "calypso-google-sheets-credentials"


def test_secret_value_gives_a_service_account_and_signing_credentials() -> None:
    section = SheetsSection(enabled=True, spreadsheet_name="Log", credentials_secret=SECRET)

    account = resolve_service_account(section, SecretStr(service_account_json()))

    assert account is not None
    assert account.client_email == CLIENT_EMAIL
    assert account.source == f"secret {SECRET}"
    assert account.credentials().service_account_email == CLIENT_EMAIL  # type: ignore[attr-defined]


def test_missing_secret_means_no_credentials() -> None:
    section = SheetsSection(enabled=True, spreadsheet_name="Log", credentials_secret=SECRET)

    assert resolve_service_account(section, None) is None


def test_relative_file_is_read_from_calypso_home(tmp_path: Path) -> None:
    write_key_file(tmp_path / "keys" / "sa.json")
    section = SheetsSection(
        enabled=True, spreadsheet_name="Log", credentials_file=Path("keys/sa.json")
    )

    account = resolve_service_account(section, None, home=tmp_path)

    assert account is not None and account.client_email == CLIENT_EMAIL


def test_a_file_others_can_read_is_refused(tmp_path: Path) -> None:
    path = write_key_file(tmp_path / "sa.json", mode=0o644)
    section = SheetsSection(enabled=True, spreadsheet_name="Log", credentials_file=path)

    with pytest.raises(CredentialsError, match="chmod 600"):
        resolve_service_account(section, None)


def test_errors_never_contain_the_private_key() -> None:
    info = json.loads(service_account_json())
    info["type"] = "authorized_user"

    with pytest.raises(CredentialsError) as caught:
        parse_service_account(json.dumps(info), source="secret x")

    assert "authorized_user" in str(caught.value)
    assert "PRIVATE KEY" not in str(caught.value)


def test_a_broken_key_is_a_clear_error_without_the_key() -> None:
    info = json.loads(service_account_json())
    info["private_key"] = "-----BEGIN PRIVATE KEY-----\nnot-a-key\n-----END PRIVATE KEY-----\n"
    account = parse_service_account(json.dumps(info), source="secret x")

    with pytest.raises(CredentialsError, match="not a usable service-account key") as caught:
        account.credentials()

    assert "not-a-key" not in str(caught.value)


def test_invalid_json_names_the_position_only() -> None:
    with pytest.raises(CredentialsError, match="line 1 column"):
        parse_service_account('{"private_key": "abc', source="secret x")
