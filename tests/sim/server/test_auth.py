"""OAuth behaviour from saxo_api.md §1.2/§1.3 and §5.1, over real HTTP."""

from __future__ import annotations

import base64
import json
import time
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from shared.saxo_sim.server import SimServer
from tests.sim.server.helpers import REDIRECT_URI, Api, oauth_login

CAPS = "/openapi/root/v1/sessions/capabilities"


def _claims(token: str) -> dict[str, str]:
    payload = token.split(".")[1]
    padded = payload + "=" * (-len(payload) % 4)
    claims: dict[str, str] = json.loads(base64.urlsafe_b64decode(padded))
    return claims


def _refresh(sim: SimServer, refresh_token: str, **extra: str) -> requests.Response:
    data = {
        "grant_type": "refresh_token",
        "refresh_token": refresh_token,
        "redirect_uri": REDIRECT_URI,
        "client_id": sim.config.app_key,
        "client_secret": sim.config.app_secret,
        **extra,
    }
    return requests.post(f"{sim.base_url}/token", data=data, timeout=5)


def _caps(sim: SimServer, token: str) -> requests.Response:
    return requests.get(
        f"{sim.base_url}{CAPS}", headers={"Authorization": f"Bearer {token}"}, timeout=5
    )


def test_authorize_redirects_with_code_and_echoed_state(simulator: SimServer) -> None:
    response = requests.get(
        f"{simulator.base_url}/authorize",
        params={
            "response_type": "code",
            "client_id": "calypso-local",
            "state": "a b/c",
            "redirect_uri": REDIRECT_URI,
        },
        allow_redirects=False,
        timeout=5,
    )
    assert response.status_code == 302
    location = urlsplit(response.headers["Location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == REDIRECT_URI
    query = parse_qs(location.query)
    assert query["state"] == ["a b/c"]
    assert query["code"][0]


def test_token_response_has_saxo_fields_and_jwt_exp_as_string(simulator: SimServer) -> None:
    before = time.time()
    body = oauth_login(simulator)
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 1200
    assert body["refresh_token_expires_in"] == 3600
    exp = _claims(body["access_token"])["exp"]
    assert isinstance(exp, str)
    assert before + 1195 <= int(exp) <= time.time() + 1205


@pytest.mark.sim_config(token_lifetime_s=90, refresh_token_lifetime_s=300)
def test_lifetimes_come_from_config(simulator: SimServer) -> None:
    body = oauth_login(simulator)
    assert (body["expires_in"], body["refresh_token_expires_in"]) == (90, 300)


def test_authorization_code_works_once(simulator: SimServer) -> None:
    auth = requests.get(
        f"{simulator.base_url}/authorize",
        params={
            "response_type": "code",
            "client_id": "calypso-local",
            "redirect_uri": REDIRECT_URI,
        },
        allow_redirects=False,
        timeout=5,
    )
    code = parse_qs(urlsplit(auth.headers["Location"]).query)["code"][0]
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": REDIRECT_URI,
        "client_id": "calypso-local",
        "client_secret": "calypso-local-secret",
    }
    first = requests.post(f"{simulator.base_url}/token", data=form, timeout=5)
    second = requests.post(f"{simulator.base_url}/token", data=form, timeout=5)
    assert first.status_code == 201
    assert second.status_code == 400
    assert second.json()["error"] == "invalid_grant"


def test_refresh_issues_working_token_and_old_refresh_token_dies(simulator: SimServer) -> None:
    first = oauth_login(simulator)
    refreshed = _refresh(simulator, first["refresh_token"])
    assert refreshed.status_code == 201
    new = refreshed.json()
    assert new["refresh_token"] != first["refresh_token"]
    assert _caps(simulator, new["access_token"]).status_code == 200

    reused = _refresh(simulator, first["refresh_token"])
    assert reused.status_code == 400
    assert reused.json()["error"] == "invalid_grant"
    stats = requests.get(f"{simulator.base_url}/sim/v1/stats", timeout=5).json()
    assert stats["refresh_grants_rejected"] == 1
    assert stats["token_grants"] == {"authorization_code": 1, "refresh_token": 1}


def test_refresh_accepts_query_params_and_http_basic(simulator: SimServer) -> None:
    tokens = oauth_login(simulator)
    response = requests.post(
        f"{simulator.base_url}/token",
        params={"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]},
        auth=("calypso-local", "calypso-local-secret"),
        timeout=5,
    )
    assert response.status_code == 201


def test_wrong_client_secret_is_refused_without_echoing_it(simulator: SimServer) -> None:
    tokens = oauth_login(simulator)
    response = _refresh(simulator, tokens["refresh_token"], client_secret="hunter2-wrong")
    assert response.status_code == 401
    assert "hunter2" not in response.text


def test_missing_or_unknown_bearer_gives_401_with_empty_body(simulator: SimServer) -> None:
    missing = requests.get(f"{simulator.base_url}{CAPS}", timeout=5)
    unknown = _caps(simulator, "not-a-token")
    assert (missing.status_code, missing.content) == (401, b"")
    assert (unknown.status_code, unknown.content) == (401, b"")


@pytest.mark.sim_config(token_lifetime_s=0.3)
def test_access_token_expires_after_its_lifetime_in_real_seconds(simulator: SimServer) -> None:
    token = oauth_login(simulator)["access_token"]
    assert _caps(simulator, token).status_code == 200
    time.sleep(0.4)
    expired = _caps(simulator, token)
    assert (expired.status_code, expired.content) == (401, b"")


def test_control_expire_all_tokens_makes_rest_answer_401(simulator: SimServer) -> None:
    api = Api(simulator)
    assert api.get("/root/v1/sessions/capabilities").status_code == 200
    assert api.control("POST", "/auth/expire").json()["expired"] >= 1
    response = api.get("/root/v1/sessions/capabilities")
    assert (response.status_code, response.content) == (401, b"")


def test_every_response_has_correlation_and_echoes_request_id(simulator: SimServer) -> None:
    api = Api(simulator)
    response = api.request(
        "GET", "/root/v1/sessions/capabilities", headers={"X-Request-ID": "req-42"}
    )
    assert response.headers["X-Request-ID"] == "req-42"
    assert response.headers["X-Correlation"]


def test_trade_level_upgrade_is_remembered_per_session(simulator: SimServer) -> None:
    api = Api(simulator)
    patched = api.request(
        "PATCH", "/root/v1/sessions/capabilities", json={"TradeLevel": "FullTradingAndChat"}
    )
    assert patched.status_code == 202
    assert api.get("/root/v1/sessions/capabilities").json()["TradeLevel"] == "FullTradingAndChat"
    other = Api(simulator)
    assert other.get("/root/v1/sessions/capabilities").json()["TradeLevel"] == "OrdersOnly"
