"""`ref` service group: instrument search, instrument details, option spaces (chains).

Option spaces list every unexpired expiry; `SpecificOptions` (per-contract Uics, unsorted,
calls and puts interleaved, deterministic under the seed) are filled for: the requested
`ExpiryDates` with `OptionSpaceSegment=SpecificDates`; expiries up to 60 days out with
`AllDates`; the default (nearest) expiry otherwise. Other expiries carry no `SpecificOptions`.
"""

from __future__ import annotations

import random
from datetime import date, timedelta
from typing import Any

from aiohttp import web

from shared.saxo_sim import saxo_shapes
from shared.saxo_sim.errors import SimApiError, invalid_model_state, json_response
from shared.saxo_sim.instruments import OptionContract, OptionRoot
from shared.saxo_sim.routes import feed, get_state, int_param, query_param
from shared.saxo_sim.sim_clock import ny_date, session_for
from shared.saxo_sim.state import SimState, canonical_asset_type

ALL_DATES_HORIZON_DAYS = 60
TRADABLE_UNDERLYING_TYPES = ("Etf",)
ROOT_DESCRIPTIONS = {
    "SPXW": "S&P 500 Index Weeklys (PM settled)",
    "SPY": "SPDR S&P 500 ETF Trust options",
    "QQQ": "Invesco QQQ Trust options",
}


def _tick_scheme(root: OptionRoot) -> dict[str, Any]:
    if root.asset_type == "StockIndexOption":
        return {"DefaultTickSize": 0.1, "Elements": [{"HighPrice": 3.0, "TickSize": 0.05}]}
    return {"DefaultTickSize": 0.01, "Elements": []}


def _roots_of(state: SimState, uic: int) -> list[OptionRoot]:
    return [r for r in state.catalog.roots() if r.underlying_uic == uic]


# --- search and details ------------------------------------------------------------------------
async def instruments(request: web.Request) -> web.Response:
    """GET /ref/v1/instruments?Keywords&AssetTypes&Uics&$top -> feed (id in `Identifier`)."""
    state = get_state(request)
    keywords = (query_param(request, "Keywords") or "").strip().lower()
    types_raw = query_param(request, "AssetTypes")
    types = {canonical_asset_type(t) for t in types_raw.split(",")} if types_raw else None
    uics_raw = query_param(request, "Uics")
    try:
        uics = {int(u) for u in uics_raw.split(",") if u.strip()} if uics_raw else None
    except ValueError:
        raise invalid_model_state(
            {"Uics": [f"The value '{uics_raw}' is not valid for Uics."]}
        ) from None
    rows: list[dict[str, Any]] = []
    for u in state.catalog.underlyings():
        text = f"{u.symbol} {u.description}".lower()
        if (
            (types is None or u.asset_type in types)
            and (uics is None or u.uic in uics)
            and keywords in text
        ):
            rows.append(saxo_shapes.instrument_summary(u, _roots_of(state, u.uic)))
    for root in state.catalog.roots():
        description = ROOT_DESCRIPTIONS.get(root.symbol, root.symbol)
        text = f"{root.symbol} {description}".lower()
        if uics is not None or keywords not in text:
            continue
        if (types is None and keywords) or (types is not None and root.asset_type in types):
            rows.append(saxo_shapes.root_summary(root, description))
    top = int_param(request, "$top")
    return json_response(feed(rows[:top] if top is not None else rows))


def _details(state: SimState, uic: int, asset_type: str) -> dict[str, Any]:
    instrument = state.resolve(uic, asset_type)
    if instrument.underlying is not None:
        u = instrument.underlying
        tradable = u.asset_type in TRADABLE_UNDERLYING_TYPES
        order_types = ["Market", "Limit"] if tradable else []
        return saxo_shapes.instrument_details(u, _roots_of(state, uic), tradable, order_types)
    contract = instrument.option
    assert contract is not None
    root = state.catalog.root(contract.root_id)
    assert root is not None
    display = saxo_shapes.option_display(contract)
    return {
        "AmountDecimals": 0,
        "AssetType": contract.asset_type,
        "ContractSize": contract.contract_size,
        "CurrencyCode": saxo_shapes.CURRENCY,
        "Description": display["Description"],
        "Exchange": saxo_shapes.exchange_block("CBOE"),
        "Format": {"Decimals": 2, "OrderDecimals": 2, "StrikeDecimals": 3, "Format": "Normal"},
        "IsTradable": True,
        "MinimumTradeSize": 1,
        "OptionRootId": contract.root_id,
        "PriceToContractFactor": contract.contract_size,
        "PutCall": contract.put_call,
        "StrikePrice": float(contract.strike),
        "ExpiryDate": contract.expiry.isoformat(),
        "SupportedOrderTypes": ["Market", "Limit"],
        "Symbol": display["Symbol"],
        "TickSizeScheme": _tick_scheme(root),
        "TradingStatus": "Tradable",
        "Uic": contract.uic,
        "UnderlyingUic": contract.underlying_uic,
    }


async def details_list(request: web.Request) -> web.Response:
    """GET /ref/v1/instruments/details?Uics=..&AssetTypes=.. -> feed of details objects."""
    state = get_state(request)
    uics_raw = query_param(request, "Uics")
    types_raw = query_param(request, "AssetTypes")
    types = {canonical_asset_type(t) for t in types_raw.split(",")} if types_raw else None
    try:
        uics = [int(u) for u in uics_raw.split(",") if u.strip()] if uics_raw else None
    except ValueError:
        raise invalid_model_state(
            {"Uics": [f"The value '{uics_raw}' is not valid for Uics."]}
        ) from None
    rows = []
    candidates = uics if uics is not None else [u.uic for u in state.catalog.underlyings()]
    for uic in candidates:
        known = state.catalog.underlying(uic) or state.catalog.option(uic)
        if known is None or (types is not None and known.asset_type not in types):
            continue
        rows.append(_details(state, uic, known.asset_type))
    return json_response(feed(rows))


async def details_single(request: web.Request) -> web.Response:
    """GET /ref/v1/instruments/details/{Uic}/{AssetType} -> one object (404 if unknown)."""
    state = get_state(request)
    try:
        uic = int(request.match_info["uic"])
        return json_response(_details(state, uic, request.match_info["asset_type"]))
    except (ValueError, SimApiError):
        raise SimApiError(404, "NotFound", "Instrument not found") from None


# --- option space ------------------------------------------------------------------------------
def _populated(segment: str, expiries: list[date], today: date, requested: set[date]) -> set[date]:
    if segment == "SpecificDates":
        return {e for e in expiries if e in requested}
    if segment == "AllDates":
        return {e for e in expiries if e <= today + timedelta(days=ALL_DATES_HORIZON_DAYS)}
    return set(expiries[:1])


def _specific_options(
    state: SimState, contracts: list[OptionContract], root_id: int, expiry: date
) -> list[dict[str, Any]]:
    rng = random.Random(f"{state.config.seed}-{root_id}-{expiry.isoformat()}")
    rows: list[dict[str, Any]] = []
    for contract in contracts:
        row: dict[str, Any] = {
            "PutCall": contract.put_call,
            "StrikePrice": float(contract.strike),
            "Uic": contract.uic,
            "UnderlyingUic": contract.underlying_uic,
        }
        if rng.random() < 0.5:
            row["TradingStatus"] = "Tradable"
        rows.append(row)
    rng.shuffle(rows)
    return rows


async def option_space(request: web.Request) -> web.Response:
    """GET /ref/v1/instruments/contractoptionspaces/{OptionRootId} -> object with `OptionSpace`."""
    state = get_state(request)
    try:
        root_id = int(request.match_info["root_id"])
    except ValueError:
        raise SimApiError(404, "NotFound", "Option root not found") from None
    root = state.catalog.root(root_id)
    if root is None:
        raise SimApiError(404, "NotFound", f"Option root {root_id} not found")
    segment = query_param(request, "OptionSpaceSegment") or "DefaultDates"
    if segment not in ("AllDates", "DefaultDates", "SpecificDates"):
        raise invalid_model_state(
            {"OptionSpaceSegment": ["Must be AllDates, DefaultDates or SpecificDates."]}
        )
    requested: set[date] = set()
    for part in (query_param(request, "ExpiryDates") or "").split(","):
        if part.strip():
            try:
                requested.add(date.fromisoformat(part.strip()[:10]))
            except ValueError:
                raise invalid_model_state(
                    {"ExpiryDates": [f"'{part}' is not a YYYY-MM-DD date."]}
                ) from None
    now = state.clock.now()
    today = ny_date(now)
    expiries = state.catalog.expiries(root_id, today)
    populated = _populated(segment, expiries, today, requested)
    reference = state.model.reference_price(root.underlying_uic, today)
    venue = "index_options" if root.asset_type == "StockIndexOption" else "equity_options"
    space: list[dict[str, Any]] = []
    default_option: dict[str, Any] | None = None
    for expiry in expiries:
        session = session_for(expiry, venue)
        entry: dict[str, Any] = {
            "DisplayDaysToExpiry": (expiry - today).days,
            "DisplayExpiry": expiry.isoformat(),
            "Expiry": expiry.isoformat(),
            "TickSizeScheme": _tick_scheme(root),
        }
        if session is not None:
            entry["LastTradeDate"] = saxo_shapes.iso(session.close)
        if expiry in populated:
            contracts = state.catalog.contracts(root_id, expiry, reference)
            entry["SpecificOptions"] = _specific_options(state, contracts, root_id, expiry)
            if default_option is None and contracts:
                atm = min(
                    (c for c in contracts if c.put_call == "Call"),
                    key=lambda c: abs(float(c.strike) - reference),
                )
                default_option = {
                    "PutCall": "Call",
                    "StrikePrice": float(atm.strike),
                    "Uic": atm.uic,
                    "UnderlyingUic": atm.underlying_uic,
                }
        space.append(entry)
    index = root.asset_type == "StockIndexOption"
    underlying = state.catalog.underlying(root.underlying_uic)
    body: dict[str, Any] = {
        "AmountDecimals": 0,
        "AssetType": root.asset_type,
        "CanParticipateInMultiLegOrder": True,
        "ContractSize": 100,
        "CurrencyCode": saxo_shapes.CURRENCY,
        "DefaultAmount": 1,
        "Description": ROOT_DESCRIPTIONS.get(root.symbol, root.symbol),
        "Exchange": saxo_shapes.exchange_block("CBOE"),
        "ExerciseStyle": "European" if index else "American",
        "Format": {"Decimals": 2, "OrderDecimals": 2, "StrikeDecimals": 3},
        "IsTradable": True,
        "LotSize": 1,
        "LotSizeType": "OddLotsAllowed",
        "OptionRootId": root.root_id,
        "OptionSpace": space,
        "PriceToContractFactor": 100,
        "RelatedInstruments": [
            {"AssetType": underlying.asset_type if underlying else "", "Uic": root.underlying_uic}
        ],
        "SettlementStyle": "CashDelivery" if index else "PhysicalDelivery",
        "StandardAmounts": [1, 5, 10, 25, 50],
        "SupportedOrderTypes": ["Market", "Limit"],
        "Symbol": root.symbol,
        "TickSize": 0.05 if index else 0.01,
        "UnderlyingAssetType": underlying.asset_type if underlying else "",
    }
    if expiries:
        body["DefaultExpiry"] = f"{expiries[0].isoformat()}T00:00:00Z"
    if default_option is not None:
        body["DefaultOption"] = default_option
    return json_response(body)


def add_routes(app: web.Application) -> None:
    r = app.router
    r.add_get("/openapi/ref/v1/instruments", instruments)
    r.add_get("/openapi/ref/v1/instruments/details", details_list)
    r.add_get("/openapi/ref/v1/instruments/details/{uic}/{asset_type}", details_single)
    r.add_get("/openapi/ref/v1/instruments/contractoptionspaces/{root_id}", option_space)
