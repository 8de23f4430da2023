"""Token endpoint calls over `responses`: 200/201 accepted, refusals typed, secrets never shown."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import parse_qs

import pytest
import responses

from shared.clock import ManualClock
from shared.saxo_client.credentials import AppCredentials
from shared.saxo_client.environments import local_environment
from shared.saxo_client.oauth import OAuthClient, RefreshRejected
from tests.shared.saxo_client.fakes import BASE, START
from tests.shared.saxo_client.recorded import load

TOKEN_URL = f"{BASE}/token"
CREDS = AppCredentials("app-key", "app-secret-value", "http://127.0.0.1:1/cb")


def oauth() -> OAuthClient:
    return OAuthClient(env=local_environment(BASE), credentials=CREDS, clock=ManualClock(START))


@pytest.mark.parametrize("status", [200, 201])
@responses.activate
def test_refresh_accepts_200_and_201_and_sets_expiries(status: int) -> None:
    responses.post(TOKEN_URL, status=status, json=load("token_response.json"))

    tokens = oauth().refresh("old-refresh")

    assert tokens.access_expires_at == START + timedelta(seconds=1200)
    assert tokens.refresh_expires_at == START + timedelta(seconds=3600)
    form = parse_qs(responses.calls[0].request.body)  # type: ignore[type-var]
    assert form["grant_type"] == ["refresh_token"] and form["refresh_token"] == ["old-refresh"]
    assert form["client_id"] == ["app-key"]


@responses.activate
def test_refused_refresh_is_typed_and_leaks_nothing() -> None:
    responses.post(TOKEN_URL, status=400, json={"error": "invalid_grant"})

    with pytest.raises(RefreshRejected) as info:
        oauth().refresh("spent-refresh-token")

    message = str(info.value)
    assert "invalid_grant" in message
    assert "spent-refresh-token" not in message and "app-secret-value" not in message


@responses.activate
def test_answer_without_expires_in_is_rejected() -> None:
    responses.post(TOKEN_URL, status=201, json={"access_token": "a", "refresh_token": "r"})

    with pytest.raises(Exception, match="expires_in"):
        oauth().exchange_code("code-1", redirect_uri="http://127.0.0.1:1/cb")


def test_authorize_url_carries_client_state_and_redirect() -> None:
    url = oauth().authorize_url(state="s1", redirect_uri="http://127.0.0.1:5/cb")

    query = parse_qs(url.split("?", 1)[1])
    assert query == {
        "response_type": ["code"],
        "client_id": ["app-key"],
        "state": ["s1"],
        "redirect_uri": ["http://127.0.0.1:5/cb"],
    }
