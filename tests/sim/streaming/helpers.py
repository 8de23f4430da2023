"""Small request helpers shared by the streaming tests."""

from __future__ import annotations

from typing import Any

import requests

PRICES = "/openapi/trade/v1/prices/subscriptions"
INFOPRICES = "/openapi/trade/v1/infoprices/subscriptions"

SPX_QUOTE = {
    "LastUpdated": "2026-03-02T15:00:00.000000Z",
    "Quote": {"Bid": 6000.25, "Ask": 6000.75, "Mid": 6000.5, "MarketState": "Open"},
    "PriceInfoDetails": {"LastTraded": 6000.5, "Open": 5990.0},
}
VIX_QUOTE = {
    "LastUpdated": "2026-03-02T15:00:00.000000Z",
    "Quote": {"MarketState": "Open"},
    "PriceInfoDetails": {"LastTraded": 16.42},
}


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def price_body(ctx: str, ref: str, uic: int, asset_type: str, **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "ContextId": ctx,
        "ReferenceId": ref,
        "RefreshRate": 0,
        "Arguments": {"Uic": uic, "AssetType": asset_type, "FieldGroups": ["Quote"]},
    }
    body.update(extra)
    return body


def subscribe(base: str, token: str, path: str, body: dict[str, Any]) -> requests.Response:
    return requests.post(base + path, json=body, headers=auth(token), timeout=5)
