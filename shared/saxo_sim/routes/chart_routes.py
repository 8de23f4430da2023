"""`chart` service group: `GET /chart/v3/charts` (also v2) OHLC samples from the market model.

Last-traded OHLC (+Volume, Interest) for Etf and StockIndex; bid/ask OHLC for CfdOnIndex
(US500.I, half-spread 0.25 points around the model level); no charts for options. `/chart/v1`
is not served (404), as on the real API since 2026-01.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from shared.saxo_sim.errors import SimApiError, invalid_model_state, json_response
from shared.saxo_sim.routes import get_state, int_param, query_param, require_param
from shared.saxo_sim.saxo_shapes import iso
from shared.saxo_sim.state import canonical_asset_type

MAX_COUNT = 1200
CFD_HALF_SPREAD = 0.25


def _sample(bar: Any, asset_type: str) -> dict[str, Any]:
    if asset_type == "CfdOnIndex":
        h = CFD_HALF_SPREAD
        return {
            "Time": iso(bar.time),
            "OpenBid": round(bar.open - h, 2),
            "OpenAsk": round(bar.open + h, 2),
            "HighBid": round(bar.high - h, 2),
            "HighAsk": round(bar.high + h, 2),
            "LowBid": round(bar.low - h, 2),
            "LowAsk": round(bar.low + h, 2),
            "CloseBid": round(bar.close - h, 2),
            "CloseAsk": round(bar.close + h, 2),
        }
    return {
        "Time": iso(bar.time),
        "Open": round(bar.open, 2),
        "High": round(bar.high, 2),
        "Low": round(bar.low, 2),
        "Close": round(bar.close, 2),
        "Volume": float(bar.volume),
        "Interest": 0.0,
    }


def _time(request: web.Request) -> datetime | None:
    raw = query_param(request, "Time")
    if not raw:
        return None
    try:
        value = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise invalid_model_state(
            {"Time": [f"The value '{raw}' is not a valid date time."]}
        ) from None
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)  # Saxo times are UTC


async def charts(request: web.Request) -> web.Response:
    """GET /chart/v3/charts?Uic&AssetType&Horizon[&Count&Mode&Time&FieldGroups]."""
    state = get_state(request)
    uic = int_param(request, "Uic")
    if uic is None:
        raise invalid_model_state({"Uic": ["The Uic field is required."]})
    asset_type = canonical_asset_type(require_param(request, "AssetType"))
    horizon = int_param(request, "Horizon")
    if horizon is None:
        raise invalid_model_state({"Horizon": ["The Horizon field is required."]})
    count = int_param(request, "Count", MAX_COUNT) or MAX_COUNT
    if not 1 <= count <= MAX_COUNT:
        raise invalid_model_state({"Count": [f"Count must be within 1..{MAX_COUNT}."]})
    mode = query_param(request, "Mode") or "UpTo"
    if mode not in ("From", "UpTo"):
        raise invalid_model_state({"Mode": ["Mode must be From or UpTo."]})
    instrument = state.resolve(uic, asset_type)
    if instrument.underlying is None:
        raise SimApiError(400, "InvalidModelState", "Charts are not available for options",
                          {"AssetType": [f"No chart data for {asset_type}."]})  # fmt: skip
    now = state.clock.now()
    at = _time(request)
    try:
        if mode == "From" and at is not None:
            bars = [b for b in state.model.bars(uic, horizon, MAX_COUNT, now) if b.time >= at][
                :count
            ]
        else:
            bars = state.model.bars(uic, horizon, count, at or now)
    except ValueError as exc:
        raise invalid_model_state({"Horizon": [str(exc)]}) from None
    groups_raw = query_param(request, "FieldGroups")
    groups = {g.strip() for g in groups_raw.split(",")} if groups_raw else {"Data"}
    body: dict[str, Any] = {"DataVersion": 1}
    if "Data" in groups:
        body["Data"] = [_sample(bar, asset_type) for bar in bars]
    if "ChartInfo" in groups:
        body["ChartInfo"] = {
            "DelayedByMinutes": 0,
            "ExchangeId": instrument.underlying.exchange_id,
            "FirstSampleTime": iso(bars[0].time) if bars else iso(now),
            "Horizon": horizon,
        }
    if "DisplayAndFormat" in groups:
        body["DisplayAndFormat"] = {
            "Currency": instrument.underlying.currency,
            "Decimals": 2,
            "Description": instrument.underlying.description,
            "Format": "Normal",
            "Symbol": instrument.underlying.symbol,
        }
    return json_response(body)


def add_routes(app: web.Application) -> None:
    app.router.add_get("/openapi/chart/v3/charts", charts)
    app.router.add_get("/openapi/chart/v2/charts", charts)
