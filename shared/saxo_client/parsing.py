"""Pure functions from Saxo payloads (schemas.py shapes) to `shared.domain` types.

No I/O. Malformed payloads raise SaxoPayloadError naming the field; absent optional fields become
None. Prices become Decimal through their shortest float repr (2.45 -> Decimal("2.45")).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, Final

from shared.domain import (
    Greeks,
    OptionChain,
    OptionContract,
    PutCall,
    Quote,
    Side,
)
from shared.saxo_client.errors import SaxoPayloadError

# Price qualities that come with a usable number (saxo_api.md 2.4).
_PRICED_QUALITIES: Final = frozenset({"Tradable", "Indicative", "OldIndicative"})

_TIMESTAMP: Final = re.compile(
    r"^(?P<main>\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2})?)(?:\.(?P<frac>\d+))?(?P<tz>.*)$"
)


# --- scalar helpers ------------------------------------------------------------------------


def to_decimal(value: object, field: str) -> Decimal | None:
    """Decimal of a JSON number (None stays None; NaN/inf become None); raises on other types."""
    if value is None:
        return None
    if isinstance(value, bool):
        raise SaxoPayloadError(f"{field}: expected a number, got a boolean")
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            return None
        return Decimal(repr(value))
    if isinstance(value, str):
        try:
            return Decimal(value)
        except InvalidOperation:
            raise SaxoPayloadError(f"{field}: {value!r} is not a number") from None
    raise SaxoPayloadError(f"{field}: expected a number, got {type(value).__name__}")


def positive(value: object, field: str) -> Decimal | None:
    number = to_decimal(value, field)
    return number if number is not None and number > 0 else None


def _float(value: object, field: str) -> float | None:
    number = to_decimal(value, field)
    return float(number) if number is not None else None


def parse_time(value: object, field: str) -> datetime | None:
    """A Saxo UTC timestamp ("2019-03-04T00:10:23.040641Z", 0-7 fraction digits) as aware UTC."""
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise SaxoPayloadError(f"{field}: expected an ISO timestamp, got {type(value).__name__}")
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    match = _TIMESTAMP.match(text)
    if match and match["frac"]:
        text = f"{match['main']}.{(match['frac'] + '000000')[:6]}{match['tz']}"
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise SaxoPayloadError(f"{field}: {value!r} is not an ISO timestamp") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def parse_date(value: object, field: str) -> date | None:
    """The date part of "YYYY-MM-DD" or "YYYY-MM-DDT00:00:00.000000Z"."""
    if value is None or value == "":
        return None
    if not isinstance(value, str) or len(value) < 10:
        raise SaxoPayloadError(f"{field}: {value!r} is not a date")
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        raise SaxoPayloadError(f"{field}: {value!r} is not a date") from None


def as_int(value: object, field: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise SaxoPayloadError(f"{field}: expected an integer, got {value!r}")
    try:
        return int(value)
    except ValueError:
        raise SaxoPayloadError(f"{field}: expected an integer, got {value!r}") from None


def as_str(value: object) -> str | None:
    if value is None:
        return None
    return str(value)


def as_mapping(value: object, field: str) -> Mapping[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise SaxoPayloadError(f"{field}: expected an object, got {type(value).__name__}")
    return value


def require(payload: Mapping[str, Any], key: str, where: str) -> Any:
    if not isinstance(payload, Mapping):
        raise SaxoPayloadError(f"{where}: expected an object, got {type(payload).__name__}")
    if key not in payload or payload[key] is None:
        raise SaxoPayloadError(f"{where}: missing {key}")
    return payload[key]


def side_of(value: object, field: str = "BuySell") -> Side:
    if value == "Buy":
        return Side.BUY
    if value == "Sell":
        return Side.SELL
    raise SaxoPayloadError(f"{field}: expected Buy or Sell, got {value!r}")


def put_call_of(value: object, field: str = "PutCall") -> PutCall:
    if value == "Call":
        return PutCall.CALL
    if value == "Put":
        return PutCall.PUT
    raise SaxoPayloadError(f"{field}: expected Call or Put, got {value!r}")


def feed_items(body: object, where: str) -> list[Mapping[str, Any]]:
    """The `Data` rows of a feed (`{"__count", "Data": [...]}`); a bare list is accepted too."""
    rows: object = body.get("Data", []) if isinstance(body, Mapping) else body
    if rows is None:
        return []
    if not isinstance(rows, list) or not all(isinstance(row, Mapping) for row in rows):
        raise SaxoPayloadError(f"{where}: Data must be a list of objects")
    return list(rows)


# --- prices --------------------------------------------------------------------------------


def parse_greeks(payload: object) -> Greeks | None:
    """Greeks object -> Greeks; per-contract `Instrument*` names win over the plain ones."""
    if not isinstance(payload, Mapping) or not payload:
        return None

    def pick(name: str) -> float | None:
        value = payload.get(f"Instrument{name}")
        if value is None:
            value = payload.get(name)
        return _float(value, f"Greeks.{name}")

    return Greeks(
        delta=pick("Delta"),
        gamma=pick("Gamma"),
        theta=pick("Theta"),
        vega=pick("Vega"),
        mid_vol=_float(payload.get("MidVol"), "Greeks.MidVol"),
        theoretical_price=_float(payload.get("TheoreticalPrice"), "Greeks.TheoreticalPrice"),
    )


def parse_quote(
    payload: Mapping[str, Any], *, uic: int | None = None, asset_type: str | None = None
) -> Quote:
    """An InfoPrice/Price object (REST answer or merged stream state) -> Quote.

    A side whose PriceType is NoAccess/NoMarket/Pending/None has no price. `last` comes from
    `PriceInfoDetails.LastTraded` (else `PriceInfo.LastTraded`); 0 means no trade. Stream price
    subscriptions carry no Uic, so callers pass `uic`/`asset_type`.
    """
    where = f"InfoPrice(Uic={payload.get('Uic', uic)})"
    uic_value = payload.get("Uic", uic)
    if uic_value is None:
        raise SaxoPayloadError(f"{where}: missing Uic")
    quote = as_mapping(payload.get("Quote"), f"{where}.Quote")
    details = as_mapping(payload.get("PriceInfoDetails"), f"{where}.PriceInfoDetails")
    info = as_mapping(payload.get("PriceInfo"), f"{where}.PriceInfo")
    instrument = as_mapping(
        payload.get("InstrumentPriceDetails"), f"{where}.InstrumentPriceDetails"
    )

    def side_price(side: str) -> Decimal | None:
        quality = quote.get(f"PriceType{side}")
        if quality is not None and not isinstance(quality, str):
            raise SaxoPayloadError(f"{where}.Quote.PriceType{side}: expected a string")
        if quality is not None and quality not in _PRICED_QUALITIES:
            return None
        return to_decimal(quote.get(side), f"{where}.Quote.{side}")

    last = positive(details.get("LastTraded"), f"{where}.PriceInfoDetails.LastTraded")
    if last is None:
        last = positive(info.get("LastTraded"), f"{where}.PriceInfo.LastTraded")
    market_open: bool | None = None
    if isinstance(instrument.get("IsMarketOpen"), bool):
        market_open = instrument["IsMarketOpen"]
    elif isinstance(quote.get("MarketState"), str):
        market_open = quote["MarketState"] == "Open"
    delayed = quote.get("DelayedByMinutes")
    return Quote(
        uic=as_int(uic_value, f"{where}.Uic"),
        asset_type=str(payload.get("AssetType") or asset_type or ""),
        bid=side_price("Bid"),
        ask=side_price("Ask"),
        mid=positive(quote.get("Mid"), f"{where}.Quote.Mid"),
        last=last,
        updated_at=parse_time(payload.get("LastUpdated"), f"{where}.LastUpdated"),
        bid_size=to_decimal(quote.get("BidSize", details.get("BidSize")), f"{where}.BidSize"),
        ask_size=to_decimal(quote.get("AskSize", details.get("AskSize")), f"{where}.AskSize"),
        market_open=market_open,
        delayed_minutes=0 if delayed is None else as_int(delayed, f"{where}.DelayedByMinutes"),
        greeks=parse_greeks(payload.get("Greeks")),
    )


def parse_info_price_list(body: object) -> list[Quote]:
    """`{"Data": [InfoPrice, ...]}` -> quotes in the answer's order."""
    return [parse_quote(row) for row in feed_items(body, "InfoPriceList")]


# --- reference data ------------------------------------------------------------------------


def parse_option_space(payload: Mapping[str, Any], root: str) -> OptionChain:
    """A contractoptionspaces answer -> OptionChain (expiries sorted; contracts from every
    expiry that carries SpecificOptions, in any order Saxo sends them)."""
    where = f"OptionSpace(root={root})"
    root_id = as_int(require(payload, "OptionRootId", where), f"{where}.OptionRootId")
    asset_type = str(require(payload, "AssetType", where))
    entries = payload.get("OptionSpace")
    if not isinstance(entries, list):
        raise SaxoPayloadError(f"{where}: OptionSpace must be a list")
    related = payload.get("RelatedInstruments")
    underlying: int | None = None
    if isinstance(related, list) and related and isinstance(related[0], Mapping):
        uic = related[0].get("Uic")
        underlying = as_int(uic, f"{where}.RelatedInstruments.Uic") if uic is not None else None
    expiries: set[date] = set()
    contracts: list[OptionContract] = []
    for entry in entries:
        entry_map = as_mapping(entry, f"{where}.OptionSpace[]")
        expiry = parse_date(require(entry_map, "Expiry", f"{where}.OptionSpace[]"), "Expiry")
        if expiry is None:
            continue
        expiries.add(expiry)
        for option in entry_map.get("SpecificOptions") or []:
            opt = as_mapping(option, f"{where}.SpecificOptions[]")
            opt_where = f"{where}.SpecificOptions[{expiry}]"
            strike = to_decimal(require(opt, "StrikePrice", opt_where), f"{opt_where}.StrikePrice")
            assert strike is not None
            under = opt.get("UnderlyingUic", underlying)
            contracts.append(
                OptionContract(
                    uic=as_int(require(opt, "Uic", opt_where), f"{opt_where}.Uic"),
                    root=root,
                    root_id=root_id,
                    asset_type=asset_type,
                    underlying_uic=as_int(under, f"{opt_where}.UnderlyingUic")
                    if under is not None
                    else None,
                    expiry=expiry,
                    strike=strike,
                    put_call=put_call_of(opt.get("PutCall"), f"{opt_where}.PutCall"),
                )
            )
            if underlying is None and under is not None:
                underlying = as_int(under, f"{opt_where}.UnderlyingUic")
    size = payload.get("ContractSize", 100)
    return OptionChain(
        root=root,
        root_id=root_id,
        asset_type=asset_type,
        underlying_uic=underlying,
        contract_size=as_int(size, f"{where}.ContractSize"),
        expiries=tuple(sorted(expiries)),
        contracts=tuple(contracts),
    )


def option_root_ids(details: Mapping[str, Any]) -> list[int]:
    """OptionRootIds listed on an instrument-details answer (Enhanced form first)."""
    roots: list[int] = []
    enhanced = details.get("RelatedOptionRootsEnhanced")
    if isinstance(enhanced, list):
        for item in enhanced:
            if isinstance(item, Mapping) and item.get("OptionRootId") is not None:
                roots.append(
                    as_int(item["OptionRootId"], "RelatedOptionRootsEnhanced.OptionRootId")
                )
    plain = details.get("RelatedOptionRoots")
    if isinstance(plain, list):
        roots.extend(as_int(item, "RelatedOptionRoots[]") for item in plain if item is not None)
    return list(dict.fromkeys(roots))
