"""Builders of Saxo-shaped JSON for prices and reference data (PascalCase stays in the simulator).

Order, position and activity shapes live in `portfolio_shapes.py`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime
from decimal import Decimal
from functools import lru_cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from shared.saxo_sim.instruments import OptionContract, OptionRoot, Underlying
    from shared.saxo_sim.pricing import OptionQuote, Quote

# One simulated client with one USD account.
CLIENT_KEY = "Cf4xZWiYL6W1nMKpygBLLA=="
ACCOUNT_KEY = "LZTc7DdejXODf-WSl2aCyQ=="
CLIENT_ID = "9226397"
ACCOUNT_ID = "9226397"
USER_KEY = "uQ5c1ZpLTBQ7mAXLLtnjcA=="
CURRENCY = "USD"
KNOWN_FIELD_GROUPS = (
    "Quote",
    "PriceInfo",
    "PriceInfoDetails",
    "Greeks",
    "DisplayAndFormat",
    "InstrumentPriceDetails",
)
OPTION_ASSET_TYPES = ("StockOption", "StockIndexOption")
EXCHANGE_NAMES = {"CBOE": "Chicago Board Options Exchange", "NYSE_ARCA": "NYSE Arca"}


def iso(ts: datetime) -> str:
    """UTC ISO-8601 with 6 fractional digits and Z, as Saxo writes timestamps."""
    return ts.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def iso_date_midnight(day: date) -> str:
    """A date written as midnight UTC with a time part (`OptionsData.ExpiryDate` style)."""
    return f"{day.isoformat()}T00:00:00.000000Z"


def num(value: Decimal | float | int | None) -> float | None:
    """JSON number for a price (Saxo sends plain numbers)."""
    if value is None:
        return None
    return float(value)


def _drop_none(obj: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in obj.items() if v is not None}


def parse_field_groups(raw: str | Sequence[str] | None, default: Sequence[str]) -> list[str]:
    """FieldGroups from a comma list (GET) or a JSON array (subscription body), case-insensitive."""
    if raw is None or raw == "":
        return list(default)
    items = raw.split(",") if isinstance(raw, str) else list(raw)
    by_lower = {g.lower(): g for g in KNOWN_FIELD_GROUPS}
    return [by_lower.get(item.strip().lower(), item.strip()) for item in items if item.strip()]


def _quote_block(quote: Quote, amount: int) -> dict[str, Any]:
    has_sides = quote.bid is not None and quote.ask is not None
    price_type = ("Tradable" if quote.market_open else "OldIndicative") if has_sides else "NoMarket"
    block: dict[str, Any] = {
        "Amount": amount,
        "DelayedByMinutes": 0,
        "ErrorCode": "None",
        "PriceSource": "CALYPSO-SIM",
        "PriceSourceType": "Firm",
        "PriceTypeAsk": price_type,
        "PriceTypeBid": price_type,
        "MarketState": "Open" if quote.market_open else "Closed",
    }
    if has_sides:
        block.update(
            Bid=num(quote.bid),
            Ask=num(quote.ask),
            Mid=num(quote.mid),
            BidSize=quote.bid_size,
            AskSize=quote.ask_size,
        )
    elif quote.mid is not None:
        block["Mid"] = num(quote.mid)
    return block


def info_price(
    *,
    uic: int,
    asset_type: str,
    quote: Quote,
    field_groups: Sequence[str],
    now: datetime,
    display: dict[str, Any],
    day_stats: dict[str, float | None],
    amount: int = 1,
) -> dict[str, Any]:
    """An InfoPrice object with only the requested field groups.

    `day_stats` carries `open`, `high`, `low`, `last_close` (floats or None) for PriceInfo and
    PriceInfoDetails. Greeks appear only for option quotes.
    """
    groups = set(field_groups)
    body: dict[str, Any] = {"AssetType": asset_type, "Uic": uic, "LastUpdated": iso(now)}
    last = quote.last if quote.last is not None else quote.mid
    if "Quote" in groups:
        body["Quote"] = _quote_block(quote, amount)
    if "PriceInfo" in groups:
        last_close = day_stats.get("last_close")
        change = float(last) - last_close if last is not None and last_close else 0.0
        pct = 100.0 * change / last_close if last_close else 0.0
        body["PriceInfo"] = _drop_none(
            {
                "High": day_stats.get("high"),
                "Low": day_stats.get("low"),
                "NetChange": round(change, 4),
                "PercentChange": round(pct, 2),
            }
        )
    if "PriceInfoDetails" in groups:
        body["PriceInfoDetails"] = _drop_none(
            {
                "AskSize": float(quote.ask_size) if quote.ask is not None else None,
                "BidSize": float(quote.bid_size) if quote.bid is not None else None,
                "LastClose": day_stats.get("last_close"),
                "LastTraded": num(last),
                "LastTradedSize": 0.0,
                "Open": day_stats.get("open"),
                "Volume": 0.0,
            }
        )
    if "Greeks" in groups and asset_type in OPTION_ASSET_TYPES and hasattr(quote, "delta"):
        body["Greeks"] = greeks_block(quote, amount)  # type: ignore[arg-type]
    if "DisplayAndFormat" in groups:
        body["DisplayAndFormat"] = display
    if "InstrumentPriceDetails" in groups:
        body["InstrumentPriceDetails"] = {
            "IsMarketOpen": quote.market_open,
            "ShortTradeDisabled": False,
            "ValueDate": now.astimezone(UTC).date().isoformat(),
        }
    return body


def unpriced_info_price(
    *, uic: int, asset_type: str, field_groups: Sequence[str], since: datetime, amount: int = 1
) -> dict[str, Any]:
    """An InfoPrice of an instrument the session may not price (`NoAccess`): no Bid, Ask, Mid or
    LastTraded, and `LastUpdated` frozen at `since` (so a stream sends no new prices)."""
    body: dict[str, Any] = {"AssetType": asset_type, "Uic": uic, "LastUpdated": iso(since)}
    if "Quote" in field_groups:
        body["Quote"] = {
            "Amount": amount,
            "DelayedByMinutes": 0,
            "ErrorCode": "None",
            "PriceTypeAsk": "NoAccess",
            "PriceTypeBid": "NoAccess",
        }
    return body


def greeks_block(quote: OptionQuote, amount: int, contract_size: int = 100) -> dict[str, Any]:
    """Saxo Greeks: per-contract `Instrument*` plus position-scaled plain names (amount x size)."""
    scale = amount * contract_size
    return {
        "InstrumentDelta": round(quote.delta, 6),
        "InstrumentGamma": round(quote.gamma, 6),
        "InstrumentTheta": round(quote.theta_per_day, 6),
        "InstrumentVega": round(quote.vega_per_point, 6),
        "Delta": round(quote.delta * scale, 4),
        "Gamma": round(quote.gamma * scale, 4),
        "Theta": round(quote.theta_per_day * scale, 4),
        "Vega": round(quote.vega_per_point * scale, 4),
        "MidVol": round(quote.iv, 6),
        "TheoreticalPrice": round(quote.theo, 4),
    }


def underlying_display(u: Underlying) -> dict[str, Any]:
    decimals = max(0, -u.tick_size.as_tuple().exponent)  # type: ignore[operator]
    return {
        "Currency": u.currency,
        "Decimals": decimals,
        "Description": u.description,
        "Format": "Normal",
        "OrderDecimals": decimals,
        "Symbol": u.symbol,
    }


def option_symbol(contract: OptionContract) -> str:
    """Saxo-style option symbol, e.g. "SPXW/30Jan26C5900:xcbf"."""
    strike = contract.strike.normalize()
    strike_text = f"{strike:f}"
    pc = "C" if contract.put_call == "Call" else "P"
    return f"{contract.root}/{contract.expiry.strftime('%d%b%y')}{pc}{strike_text}:xcbf"


def option_display(contract: OptionContract) -> dict[str, Any]:
    """The DisplayAndFormat block of an option (a fresh dict; the content is cached per contract,
    since it never changes and the streaming feed asks for it every market step)."""
    return dict(_option_display_items(contract))


@lru_cache(maxsize=65_536)
def _option_display_items(contract: OptionContract) -> tuple[tuple[str, Any], ...]:
    return (
        ("Currency", CURRENCY),
        ("Decimals", 2),
        (
            "Description",
            f"{contract.root} {contract.expiry.isoformat()} {contract.put_call} {contract.strike}",
        ),
        ("Format", "Normal"),
        ("OrderDecimals", 2),
        ("StrikeDecimals", 3),
        ("Symbol", option_symbol(contract)),
    )


def exchange_block(exchange_id: str) -> dict[str, Any]:
    return {
        "CountryCode": "US",
        "ExchangeId": exchange_id,
        "Name": EXCHANGE_NAMES.get(exchange_id, exchange_id),
    }


def instrument_summary(u: Underlying, roots: Sequence[OptionRoot]) -> dict[str, Any]:
    """One `/ref/v1/instruments` search row (id in `Identifier`, not `Uic`)."""
    tradable_as = [u.asset_type, *sorted({r.asset_type for r in roots})]
    return {
        "AssetType": u.asset_type,
        "CurrencyCode": u.currency,
        "Description": u.description,
        "ExchangeId": u.exchange_id,
        "GroupId": 0,
        "Identifier": u.uic,
        "IssuerCountry": "US",
        "PrimaryListing": u.uic,
        "SummaryType": "Instrument",
        "Symbol": u.symbol,
        "TradableAs": tradable_as,
    }


def root_summary(root: OptionRoot, description: str) -> dict[str, Any]:
    """A search row for an option root (`SummaryType` ContractOptionRoot, `Identifier` = id)."""
    return {
        "AssetType": root.asset_type,
        "CurrencyCode": CURRENCY,
        "Description": description,
        "ExchangeId": "CBOE",
        "GroupId": 0,
        "Identifier": root.root_id,
        "SummaryType": "ContractOptionRoot",
        "Symbol": root.symbol,
        "TradableAs": [root.asset_type],
    }


def instrument_details(
    u: Underlying, roots: Sequence[OptionRoot], tradable: bool, supported_order_types: Sequence[str]
) -> dict[str, Any]:
    """A `/ref/v1/instruments/details` object for an underlying."""
    decimals = max(0, -u.tick_size.as_tuple().exponent)  # type: ignore[operator]
    body: dict[str, Any] = {
        "AmountDecimals": 0,
        "AssetType": u.asset_type,
        "CurrencyCode": u.currency,
        "Description": u.description,
        "Exchange": exchange_block(u.exchange_id),
        "Format": {"Decimals": decimals, "OrderDecimals": decimals, "Format": "Normal"},
        "IncrementSize": 1,
        "IsTradable": tradable,
        "MinimumTradeSize": 1,
        "RelatedOptionRoots": [r.root_id for r in roots],
        "RelatedOptionRootsEnhanced": [
            {"AssetType": r.asset_type, "OptionRootId": r.root_id} for r in roots
        ],
        "SupportedOrderTypes": list(supported_order_types),
        "Symbol": u.symbol,
        "TickSize": float(u.tick_size),
        "TickSizeScheme": {"DefaultTickSize": float(u.tick_size), "Elements": []},
        "TradingStatus": "Tradable" if tradable else "NotTradable",
        "Uic": u.uic,
    }
    if not tradable:
        body["NonTradableReason"] = "NotOnlineClientTradable"
    return body
