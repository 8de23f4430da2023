"""OHLC chart samples: `GET /chart/v3/charts` (saxo_api.md 2.12) parsed into `ChartBar`.

Last-traded instruments (Stock, Etf, StockIndex, ...) carry `Open/High/Low/Close`; bid/ask
instruments (CfdOnIndex such as US500.I, FxSpot, CfdOnFutures) carry `OpenBid/OpenAsk/...`, read
here as the mid (bid + ask) / 2. Options have no chart data. `Data` may be absent (no samples).
Times are the sample's start, tz-aware UTC; daily bars (Horizon 1440) are stamped by Saxo.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, Final, Literal

from shared.logger_service import kv
from shared.saxo_client import parsing
from shared.saxo_client.errors import SaxoPayloadError
from shared.saxo_client.transport import SaxoTransport

logger = logging.getLogger(__name__)

MAX_COUNT: Final = 1200
DAILY: Final = 1440
HORIZONS: Final = frozenset(
    {1, 2, 3, 5, 10, 15, 30, 60, 120, 180, 240, 300, 360, 480, 1440, 10080, 43200, 129600, 518400}
)
_OHLC: Final = ("Open", "High", "Low", "Close")

ChartMode = Literal["UpTo", "From"]


@dataclass(frozen=True)
class ChartBar:
    """One OHLC sample. `time` is the interval start (UTC); prices are Decimal (bid/ask
    instruments: the mid); `volume` is None when Saxo reports none (bid/ask instruments)."""

    time: datetime
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal
    volume: Decimal | None = None


class ChartService:
    """Chart samples for one instrument per call."""

    def __init__(self, *, transport: SaxoTransport) -> None:
        self._transport = transport

    def bars(
        self,
        uic: int,
        asset_type: str,
        *,
        horizon_minutes: int = DAILY,
        count: int = MAX_COUNT,
        mode: ChartMode = "UpTo",
        time: datetime | None = None,
    ) -> list[ChartBar]:
        """Up to `count` samples of `horizon_minutes`, oldest first. `mode` UpTo (ending at
        `time`, default now) or From (starting at `time`, required). Raises ValueError for bad
        arguments and SaxoPayloadError for a malformed answer."""
        if horizon_minutes not in HORIZONS:
            raise ValueError(f"chart horizon {horizon_minutes} is not one Saxo offers")
        if not 1 <= count <= MAX_COUNT:
            raise ValueError(f"chart count must be within 1..{MAX_COUNT}, got {count}")
        if mode not in ("UpTo", "From"):
            raise ValueError(f"chart mode must be UpTo or From, got {mode!r}")
        if mode == "From" and time is None:
            raise ValueError("chart mode From needs a time")
        if time is not None and time.tzinfo is None:
            raise ValueError("chart time must be timezone-aware")
        params: dict[str, str | int] = {
            "Uic": uic,
            "AssetType": asset_type,
            "Horizon": horizon_minutes,
            "Count": count,
            "Mode": mode,
            "FieldGroups": "Data",
        }
        if time is not None:
            params["Time"] = time.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        body = self._transport.get("/chart/v3/charts", params).body
        rows = parse_chart(body, where=f"Chart(Uic={uic},{asset_type})")
        logger.debug(kv("chart_bars", uic=uic, horizon=horizon_minutes, count=count,
                        got=len(rows)))  # fmt: skip
        return rows


def parse_chart(body: object, *, where: str = "Chart") -> list[ChartBar]:
    """The samples of a chart response, oldest first (an absent `Data` is no samples)."""
    payload = parsing.as_mapping(body, where)
    data = payload.get("Data")
    if data is None:
        return []
    if not isinstance(data, list):
        raise SaxoPayloadError(f"{where}.Data: expected a list, got {type(data).__name__}")
    bars = [parse_sample(row, where=f"{where}.Data[{i}]") for i, row in enumerate(data)]
    return sorted(bars, key=lambda bar: bar.time)


def parse_sample(row: object, *, where: str = "ChartSample") -> ChartBar:
    """One sample, last-traded (`Close`) or bid/ask (`CloseBid`/`CloseAsk`, read as the mid)."""
    sample = parsing.as_mapping(row, where)
    time = parsing.parse_time(parsing.require(sample, "Time", where), f"{where}.Time")
    if time is None:
        raise SaxoPayloadError(f"{where}.Time: missing")
    if "Close" in sample:
        prices = [_price(sample, name, where) for name in _OHLC]
    elif "CloseBid" in sample or "CloseAsk" in sample:
        prices = [_mid(sample, name, where) for name in _OHLC]
    else:
        raise SaxoPayloadError(f"{where}: neither Close nor CloseBid/CloseAsk present")
    volume = parsing.to_decimal(sample.get("Volume"), f"{where}.Volume")
    bar = ChartBar(time, prices[0], prices[1], prices[2], prices[3], volume)
    if bar.low > bar.high:
        raise SaxoPayloadError(f"{where}: Low {bar.low} above High {bar.high}")
    return bar


def _price(sample: Mapping[str, Any], name: str, where: str) -> Decimal:
    value = parsing.to_decimal(sample.get(name), f"{where}.{name}")
    if value is None:
        raise SaxoPayloadError(f"{where}.{name}: missing")
    return value


def _mid(sample: Mapping[str, Any], name: str, where: str) -> Decimal:
    bid = _price(sample, f"{name}Bid", where)
    ask = _price(sample, f"{name}Ask", where)
    return (bid + ask) / 2
