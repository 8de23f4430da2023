"""Credentials secret parsing and environment URLs."""

from __future__ import annotations

import json

import pytest

from shared.saxo_client.credentials import (
    LOCAL_CREDENTIALS,
    CredentialsError,
    load_credentials,
    parse_credentials,
)
from shared.saxo_client.environments import environment

SECRET = json.dumps(
    {
        "sim": {"app_key": "sim-key", "app_secret": "sim-very-secret"},
        "live": {
            "app_key": "live-key",
            "app_secret": "live-secret",
            "redirect_uri": "http://localhost:9/cb",
        },
    }
)


class Store:
    def __init__(self, value: str | None) -> None:
        self.value = value

    def get(self, name: str) -> str | None:
        assert name == "calypso-saxo-credentials"
        return self.value


def test_env_entry_is_read_with_default_redirect() -> None:
    creds = parse_credentials(SECRET, "sim")

    assert creds.app_key == "sim-key"
    assert creds.redirect_uri.startswith("http://127.0.0.1")


def test_missing_secret_value_is_named_without_revealing_others() -> None:
    raw = json.dumps({"live": {"app_key": "k", "app_secret": ""}, "sim": {"app_secret": "s3cr3t!"}})

    with pytest.raises(CredentialsError, match="app_secret is missing") as info:
        parse_credentials(raw, "live")

    assert "s3cr3t!" not in str(info.value)


def test_unknown_key_is_an_error() -> None:
    raw = json.dumps({"sim": {"app_key": "k", "app_secret": "s", "appsecret": "x"}})

    with pytest.raises(CredentialsError, match="unknown keys: appsecret"):
        parse_credentials(raw, "sim")


def test_invalid_json_is_reported_without_content() -> None:
    with pytest.raises(CredentialsError, match="not valid JSON") as info:
        parse_credentials('{"sim": {"app_secret": "leak', "sim")

    assert "leak" not in str(info.value)


def test_local_needs_no_secret() -> None:
    assert load_credentials("local", None) == LOCAL_CREDENTIALS


def test_absent_secret_is_a_clear_error() -> None:
    with pytest.raises(CredentialsError, match="not found"):
        load_credentials("sim", Store(None))


def test_secret_repr_hides_the_app_secret() -> None:
    assert "sim-very-secret" not in repr(parse_credentials(SECRET, "sim"))


def test_local_environment_uses_the_given_simulator_for_every_endpoint(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CALYPSO_SIM_URL", "http://127.0.0.1:9999")

    env = environment("local")

    assert env.rest_base == "http://127.0.0.1:9999/openapi"
    assert env.token_url == "http://127.0.0.1:9999/token"
    assert env.stream_connect_url == "ws://127.0.0.1:9999/openapi/streamingws/connect"


def test_sim_url_argument_beats_the_environment_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CALYPSO_SIM_URL", "http://127.0.0.1:9999")

    assert environment("local", sim_url="http://127.0.0.1:1234").rest_base.endswith(":1234/openapi")


def test_live_and_sim_gateways_differ() -> None:
    assert environment("live").rest_base == "https://gateway.saxobank.com/openapi"
    assert environment("sim").rest_base == "https://gateway.saxobank.com/sim/openapi"


def test_unknown_environment_names_the_choices() -> None:
    with pytest.raises(ValueError, match="live, sim, local"):
        environment("prod")
