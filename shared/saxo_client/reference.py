"""Reference data: underlyings, option roots, expiries, strikes and option UICs, with TTL caches.

Root -> AssetType is fixed (saxo_api.md 2.4): SPXW/SPX options are `StockIndexOption` (root 128
is both the configured UIC and the OptionRootId); SPY/QQQ options are `StockOption`, their root
id comes from the underlying's instrument details. Chains are cached ~30 s, instrument data 1 h.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date
from typing import Final

from shared.clock import Clock
from shared.domain import OptionChain
from shared.logger_service import kv
from shared.saxo_client import parsing
from shared.saxo_client.errors import SaxoError, SaxoPayloadError
from shared.saxo_client.transport import SaxoTransport
from shared.saxo_client.ttl_cache import TtlCache

logger = logging.getLogger(__name__)

CHAIN_TTL_S: Final = 30.0
INSTRUMENT_TTL_S: Final = 3600.0


@dataclass(frozen=True)
class Instrument:
    """A tradable or quotable instrument: Saxo UIC and AssetType (an opaque identifier pair)."""

    symbol: str
    uic: int
    asset_type: str
    description: str = ""


@dataclass(frozen=True)
class RootSpec:
    """How to find one option root: its option AssetType and underlying, or a fixed root id."""

    root: str
    option_asset_type: str
    underlying: str
    root_id: int | None = None


UNDERLYINGS: Final[dict[str, Instrument]] = {
    "US500.I": Instrument("US500.I", 4913, "CfdOnIndex", "US 500 (SPX proxy)"),
    "SPX": Instrument("US500.I", 4913, "CfdOnIndex", "US 500 (SPX proxy)"),
    "VIX": Instrument("VIX.I", 10606, "StockIndex", "CBOE Volatility Index"),
    "VIX.I": Instrument("VIX.I", 10606, "StockIndex", "CBOE Volatility Index"),
    "SPY": Instrument("SPY", 36590, "Etf", "SPDR S&P 500 ETF"),
    "QQQ": Instrument("QQQ", 4328771, "Etf", "Invesco QQQ"),
}

ROOTS: Final[dict[str, RootSpec]] = {
    "SPXW": RootSpec("SPXW", "StockIndexOption", "US500.I", root_id=128),
    "SPX": RootSpec("SPXW", "StockIndexOption", "US500.I", root_id=128),
    "SPY": RootSpec("SPY", "StockOption", "SPY"),
    "QQQ": RootSpec("QQQ", "StockOption", "QQQ"),
}


def root_spec(root: str) -> RootSpec:
    """The spec of a supported option root; raises ValueError naming the supported roots."""
    spec = ROOTS.get(root.upper())
    if spec is None:
        raise ValueError(f"unknown option root {root!r}; supported: {', '.join(sorted(ROOTS))}")
    return spec


def underlying(symbol: str) -> Instrument:
    """The known underlying for `symbol` (SPX maps to the US500.I proxy)."""
    instrument = UNDERLYINGS.get(symbol.upper())
    if instrument is None:
        raise ValueError(
            f"unknown underlying {symbol!r}; supported: {', '.join(sorted(UNDERLYINGS))}"
        )
    return instrument


class ReferenceData:
    """Resolves roots to chains and instruments, caching answers."""

    def __init__(
        self,
        *,
        transport: SaxoTransport,
        clock: Clock,
        chain_ttl_s: float = CHAIN_TTL_S,
        instrument_ttl_s: float = INSTRUMENT_TTL_S,
    ) -> None:
        self._transport = transport
        self._chains: TtlCache[OptionChain] = TtlCache(clock=clock, ttl_s=chain_ttl_s)
        self._root_ids: TtlCache[int] = TtlCache(clock=clock, ttl_s=instrument_ttl_s)
        self._details: TtlCache[dict[str, object]] = TtlCache(clock=clock, ttl_s=instrument_ttl_s)

    def root_id(self, root: str) -> int:
        """The OptionRootId for `root` (fixed for SPXW, looked up for SPY/QQQ)."""
        spec = root_spec(root)
        if spec.root_id is not None:
            return spec.root_id
        return self._root_ids.get_or_load(spec.root, lambda: self._lookup_root_id(spec))

    def chain(self, root: str, expiry: date | None = None) -> OptionChain:
        """Expiries of `root` and, when `expiry` is given, that expiry's contracts (30 s cache).

        Raises SaxoPayloadError if Saxo labels the root with an unexpected AssetType.
        """
        spec = root_spec(root)
        root_id = self.root_id(root)
        key = (root_id, expiry)
        return self._chains.get_or_load(key, lambda: self._load_chain(spec, root_id, expiry))

    def expiries(self, root: str) -> tuple[date, ...]:
        return self.chain(root).expiries

    def instrument_details(self, uic: int, asset_type: str) -> dict[str, object]:
        """Raw instrument details (Saxo-shaped; for diagnostics), cached for an hour."""
        return self._details.get_or_load(
            (uic, asset_type), lambda: self._load_details(uic, asset_type)
        )

    def _load_details(self, uic: int, asset_type: str) -> dict[str, object]:
        body = self._transport.get(f"/ref/v1/instruments/details/{uic}/{asset_type}").body
        if not isinstance(body, dict):
            raise SaxoPayloadError(f"InstrumentDetails({uic}/{asset_type}): not an object")
        return body

    def _lookup_root_id(self, spec: RootSpec) -> int:
        instrument = underlying(spec.underlying)
        try:
            details = self.instrument_details(instrument.uic, instrument.asset_type)
            roots = parsing.option_root_ids(details)
            if roots:
                logger.info(kv("option_root_resolved", root=spec.root, root_id=roots[0]))
                return roots[0]
        except SaxoError as exc:
            logger.warning(kv("option_root_details_failed", root=spec.root, error=exc))
        body = self._transport.get(
            "/ref/v1/instruments",
            {"Keywords": spec.root, "AssetTypes": spec.option_asset_type, "$top": 20},
        ).body
        for row in parsing.feed_items(body, "InstrumentSearch"):
            symbol = str(row.get("Symbol", "")).split(":")[0].upper()
            if symbol == spec.root and row.get("Identifier") is not None:
                root_id = int(row["Identifier"])
                logger.info(kv("option_root_found", root=spec.root, root_id=root_id, via="search"))
                return root_id
        raise SaxoPayloadError(f"no option root found for {spec.root}")

    def _load_chain(self, spec: RootSpec, root_id: int, expiry: date | None) -> OptionChain:
        params: dict[str, str] = {"OptionSpaceSegment": "AllDates"}
        if expiry is not None:
            params = {"OptionSpaceSegment": "SpecificDates", "ExpiryDates": expiry.isoformat()}
        body = self._transport.get(
            f"/ref/v1/instruments/contractoptionspaces/{root_id}", params
        ).body
        if not isinstance(body, dict):
            raise SaxoPayloadError(f"OptionSpace(root={spec.root}): not an object")
        chain = parsing.parse_option_space(body, spec.root)
        if chain.asset_type != spec.option_asset_type:
            raise SaxoPayloadError(
                f"OptionSpace(root={spec.root}): AssetType {chain.asset_type!r}, "
                f"expected {spec.option_asset_type!r}"
            )
        logger.debug(kv(
            "option_chain_loaded",
            root=spec.root,
            expiry=expiry,
            expiries=len(chain.expiries),
            contracts=len(chain.contracts),
        ))
        return chain
