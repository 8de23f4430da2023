"""Test helpers: an authenticated `requests` session against a started simulator."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

import requests

from shared.saxo_sim.server import SimServer

REDIRECT_URI = "http://127.0.0.1:9/callback"


def oauth_login(sim: SimServer, state: str = "st-1") -> dict[str, Any]:
    """Run the authorization-code flow over HTTP; returns the token response body."""
    cfg = sim.config
    auth = requests.get(
        f"{sim.base_url}/authorize",
        params={
            "response_type": "code",
            "client_id": cfg.app_key,
            "state": state,
            "redirect_uri": REDIRECT_URI,
        },
        allow_redirects=False,
        timeout=5,
    )
    assert auth.status_code == 302, auth.text
    code = parse_qs(urlsplit(auth.headers["Location"]).query)["code"][0]
    response = requests.post(
        f"{sim.base_url}/token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": REDIRECT_URI,
            "client_id": cfg.app_key,
            "client_secret": cfg.app_secret,
        },
        timeout=5,
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


class Api:
    """`requests` wrapper: paths relative to /openapi, bearer attached, 5 s timeout."""

    def __init__(self, sim: SimServer, token: str | None = None) -> None:
        self.sim = sim
        self.token = token or sim.issue_token()
        self.session = requests.Session()

    def request(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        headers = {"Authorization": f"Bearer {self.token}", **kwargs.pop("headers", {})}
        kwargs.setdefault("timeout", 5)
        return self.session.request(
            method, f"{self.sim.base_url}/openapi{path}", headers=headers, **kwargs
        )

    def get(self, path: str, **params: Any) -> requests.Response:
        return self.request("GET", path, params=params)

    def post(self, path: str, body: Any, **kwargs: Any) -> requests.Response:
        return self.request("POST", path, json=body, **kwargs)

    def control(self, method: str, path: str, body: Any = None) -> requests.Response:
        """A control API call (`/sim/v1` + path), no bearer."""
        return self.session.request(
            method, f"{self.sim.base_url}/sim/v1{path}", json=body, timeout=5
        )


ACCOUNT_KEY = "LZTc7DdejXODf-WSl2aCyQ=="
CLIENT_KEY = "Cf4xZWiYL6W1nMKpygBLLA=="
SPXW_ROOT = 128
US500 = 4913
FROZEN = 1e-6  # simulated seconds per real second: prices do not move during a test
MONDAY_10_ET = "2026-03-02T15:00:00Z"  # Monday 2026-03-02 10:00 America/New_York


def freeze_at(api: Api, at: str = MONDAY_10_ET) -> None:
    """Jump the simulated clock to `at` (an open market by default) and freeze it there."""
    response = api.control("POST", "/clock", {"now": at, "speed": FROZEN})
    assert response.status_code == 200, response.text


def order_body(
    uic: int, asset_type: str, buy_sell: str, amount: int, **extra: Any
) -> dict[str, Any]:
    """A valid placement body: Market DayOrder unless `extra` says otherwise."""
    body: dict[str, Any] = {
        "AccountKey": ACCOUNT_KEY,
        "Uic": uic,
        "AssetType": asset_type,
        "BuySell": buy_sell,
        "Amount": amount,
        "OrderType": "Market",
        "OrderDuration": {"DurationType": "DayOrder"},
        "ManualOrder": False,
    }
    body.update(extra)
    return body


def option_uic(
    api: Api, root_id: int, put_call: str, offset_strikes: int = 0, expiry: str | None = None
) -> int:
    """Uic of a listed option near the money: `offset_strikes` steps from the default strike."""
    params = {"OptionSpaceSegment": "SpecificDates", "ExpiryDates": expiry} if expiry else {}
    space = api.get(f"/ref/v1/instruments/contractoptionspaces/{root_id}", **params).json()
    entry = next(e for e in space["OptionSpace"] if "SpecificOptions" in e)
    options = sorted(
        (o for o in entry["SpecificOptions"] if o["PutCall"] == put_call),
        key=lambda o: o["StrikePrice"],
    )
    atm_strike = space["DefaultOption"]["StrikePrice"] if not expiry else None
    index = (
        next(i for i, o in enumerate(options) if o["StrikePrice"] == atm_strike)
        if atm_strike is not None
        else len(options) // 2
    )
    uic: int = options[index + offset_strikes]["Uic"]
    return uic


def quote(api: Api, uic: int, asset_type: str) -> dict[str, Any]:
    """The Quote block of an info price."""
    response = api.get("/trade/v1/infoprices", Uic=uic, AssetType=asset_type, FieldGroups="Quote")
    assert response.status_code == 200, response.text
    block: dict[str, Any] = response.json()["Quote"]
    return block


def activities(api: Api, **params: Any) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = api.get("/cs/v1/audit/orderactivities", **params).json()["Data"]
    return rows


def positions(api: Api) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = api.get("/port/v1/positions/me").json()["Data"]
    return rows
