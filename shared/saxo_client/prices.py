"""Info-price snapshots: many UICs per call, VIX from `PriceInfoDetails.LastTraded`, Greeks."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from decimal import Decimal
from typing import Final

from shared.domain import Quote
from shared.logger_service import kv
from shared.saxo_client import parsing
from shared.saxo_client.errors import SaxoPayloadError
from shared.saxo_client.transport import SaxoTransport

logger = logging.getLogger(__name__)

# PriceInfoDetails is always asked for: indices (VIX) carry their level only there.
BASE_FIELD_GROUPS: Final = ("Quote", "PriceInfo", "PriceInfoDetails", "InstrumentPriceDetails")
OPTION_ASSET_TYPES: Final = frozenset({"StockOption", "StockIndexOption", "FuturesOption"})
VIX_UIC: Final = 10606
VIX_ASSET_TYPE: Final = "StockIndex"
MAX_UICS_PER_CALL: Final = 50


def quote_field_groups(asset_type: str, *, greeks: bool) -> tuple[str, ...]:
    """The FieldGroups a quote of `asset_type` asks for: the base groups, plus `Greeks` when
    `greeks` and the asset type is an option (Saxo serves Greeks for options only)."""
    if greeks and asset_type in OPTION_ASSET_TYPES:
        return (*BASE_FIELD_GROUPS, "Greeks")
    return BASE_FIELD_GROUPS


def field_groups(asset_type: str, *, greeks: bool) -> str:
    """`quote_field_groups` as the comma list of a REST query."""
    return ",".join(quote_field_groups(asset_type, greeks=greeks))


class PriceService:
    """REST price snapshots."""

    def __init__(self, *, transport: SaxoTransport) -> None:
        self._transport = transport

    def quote(self, uic: int, asset_type: str, *, greeks: bool = False) -> Quote:
        """One instrument's snapshot (`GET /trade/v1/infoprices`); with `greeks`, an option's
        quote carries Saxo's per-contract Greeks (see `domain.Greeks` for units)."""
        body = self._transport.get(
            "/trade/v1/infoprices",
            {
                "Uic": uic,
                "AssetType": asset_type,
                "FieldGroups": field_groups(asset_type, greeks=greeks),
            },
        ).body
        if not isinstance(body, dict):
            raise SaxoPayloadError(f"InfoPrice(Uic={uic}): not an object")
        return parsing.parse_quote(body, uic=uic, asset_type=asset_type)

    def quotes(
        self, uics: Sequence[int], asset_type: str, *, greeks: bool = False
    ) -> dict[int, Quote]:
        """Snapshots of many instruments of one AssetType, `MAX_UICS_PER_CALL` per request;
        `greeks` as in `quote` (the same calls, one more field group for options). UICs Saxo
        leaves out of its answer are absent from the result."""
        result: dict[int, Quote] = {}
        unique = list(dict.fromkeys(uics))
        for start in range(0, len(unique), MAX_UICS_PER_CALL):
            chunk = unique[start : start + MAX_UICS_PER_CALL]
            body = self._transport.get(
                "/trade/v1/infoprices/list",
                {
                    "Uics": ",".join(str(uic) for uic in chunk),
                    "AssetType": asset_type,
                    "FieldGroups": field_groups(asset_type, greeks=greeks),
                },
            ).body
            for quote in parsing.parse_info_price_list(body):
                result[quote.uic] = quote
        missing = [uic for uic in unique if uic not in result]
        if missing:
            logger.warning(kv("info_prices_missing", asset_type=asset_type, uics=missing[:10]))
        return result

    def vix(self) -> Decimal | None:
        """VIX level (VIX.I has no bid/ask: `PriceInfoDetails.LastTraded`); None if unpriced."""
        quote = self.quote(VIX_UIC, VIX_ASSET_TYPE)
        return quote.last if quote.last is not None else quote.price
