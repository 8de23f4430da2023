"""Saxo OpenAPI payload shapes (PascalCase, as on the wire) as TypedDicts.

Everything is `total=False`: Saxo omits fields freely (FieldGroups, closed markets, lag).
Only `parsing.py` reads these; nothing above the parsing layer sees Saxo names.
"""

from __future__ import annotations

from typing import Any, TypedDict


class TokenResponse(TypedDict, total=False):
    access_token: str
    token_type: str
    expires_in: int
    refresh_token: str
    refresh_token_expires_in: int
    base_uri: str | None


class QuoteDict(TypedDict, total=False):
    Amount: float
    Ask: float
    Bid: float
    Mid: float
    AskSize: float
    BidSize: float
    DelayedByMinutes: int
    ErrorCode: str
    MarketState: str
    PriceTypeAsk: str
    PriceTypeBid: str
    PriceSource: str
    ReferencePrice: float


class PriceInfoDetailsDict(TypedDict, total=False):
    AskSize: float
    BidSize: float
    LastClose: float
    LastTraded: float
    LastTradedSize: float
    Open: float
    Volume: float


class PriceInfoDict(TypedDict, total=False):
    High: float
    Low: float
    NetChange: float
    PercentChange: float
    LastTraded: float


class GreeksDict(TypedDict, total=False):
    Delta: float
    Gamma: float
    Theta: float
    Vega: float
    InstrumentDelta: float
    InstrumentGamma: float
    InstrumentTheta: float
    InstrumentVega: float
    MidVol: float
    TheoreticalPrice: float


class InstrumentPriceDetailsDict(TypedDict, total=False):
    IsMarketOpen: bool
    ShortTradeDisabled: bool
    ValueDate: str


class InfoPriceDict(TypedDict, total=False):
    Uic: int
    AssetType: str
    LastUpdated: str
    Quote: QuoteDict
    PriceInfo: PriceInfoDict
    PriceInfoDetails: PriceInfoDetailsDict
    InstrumentPriceDetails: InstrumentPriceDetailsDict
    Greeks: GreeksDict
    DisplayAndFormat: dict[str, Any]


class SpecificOptionDict(TypedDict, total=False):
    PutCall: str
    StrikePrice: float
    Uic: int
    UnderlyingUic: int
    TradingStatus: str


class OptionSpaceEntryDict(TypedDict, total=False):
    DisplayDaysToExpiry: int
    DisplayExpiry: str
    Expiry: str
    LastTradeDate: str
    SpecificOptions: list[SpecificOptionDict]
    TickSizeScheme: dict[str, Any]


class ContractOptionSpaceDict(TypedDict, total=False):
    AssetType: str
    ContractSize: int
    OptionRootId: int
    Symbol: str
    Description: str
    DefaultExpiry: str
    OptionSpace: list[OptionSpaceEntryDict]
    RelatedInstruments: list[dict[str, Any]]
    UnderlyingAssetType: str


class InstrumentSummaryDict(TypedDict, total=False):
    AssetType: str
    Identifier: int
    Symbol: str
    Description: str
    SummaryType: str
    ExchangeId: str
    CurrencyCode: str


class InstrumentDetailsDict(TypedDict, total=False):
    Uic: int
    AssetType: str
    Symbol: str
    Description: str
    CurrencyCode: str
    TickSize: float
    IsTradable: bool
    SupportedOrderTypes: list[str]
    RelatedOptionRoots: list[int]
    RelatedOptionRootsEnhanced: list[dict[str, Any]]


class OptionsDataDict(TypedDict, total=False):
    Strike: float
    PutCall: str
    ExpiryDate: str
    ExerciseStyle: str
    SettlementStyle: str
    ExpiryCut: str
    CanBeExercised: bool


class PositionBaseDict(TypedDict, total=False):
    AccountId: str
    Amount: float
    AssetType: str
    OpenPrice: float
    Uic: int
    Status: str
    ExecutionTimeOpen: str
    SourceOrderId: str
    ExternalReference: str
    OptionsData: OptionsDataDict


class PositionViewDict(TypedDict, total=False):
    CalculationReliability: str
    CurrentPrice: float
    ProfitLossOnTrade: float
    TradeCostsTotal: float
    AverageOpenPrice: float


class PositionDict(TypedDict, total=False):
    NetPositionId: str
    PositionId: str
    PositionBase: PositionBaseDict
    PositionView: PositionViewDict
    DisplayAndFormat: dict[str, Any]
    Greeks: GreeksDict


class OpenOrderDict(TypedDict, total=False):
    OrderId: str
    Uic: int
    AssetType: str
    BuySell: str
    Amount: float
    OpenOrderType: str
    Price: float
    Status: str
    FilledAmount: float
    ExternalReference: str
    OrderTime: str
    MultiLegOrderDetails: dict[str, Any]


class OrderActivityDict(TypedDict, total=False):
    OrderId: str
    LogId: str
    Status: str
    SubStatus: str
    ActivityTime: str
    Uic: int
    AssetType: str
    BuySell: str
    Amount: float
    FilledAmount: float
    FillAmount: float
    AveragePrice: float
    ExecutionPrice: float
    Price: float
    PositionId: str
    ExternalReference: str
    OrderType: str


class BalanceDict(TypedDict, total=False):
    Currency: str
    TotalValue: float
    CashBalance: float
    MarginAvailableForTrading: float
    MarginUsedByCurrentPositions: float
    MarginUtilizationPct: float
    OpenPositionsCount: int


class ClosedPositionInnerDict(TypedDict, total=False):
    Amount: float
    AssetType: str
    BuyOrSell: str
    ClosingPrice: float
    OpenPrice: float
    ClosedProfitLoss: float
    CostClosing: float
    CostOpening: float
    ExecutionTimeClose: str
    OpeningPositionId: str
    ClosingPositionId: str
    Uic: int


class ClosedPositionDict(TypedDict, total=False):
    ClosedPositionUniqueId: str
    NetPositionId: str
    ClosedPosition: ClosedPositionInnerDict


class OrderPlacedDict(TypedDict, total=False):
    OrderId: str
    ExternalReference: str
    MultiLegOrderId: str
    Orders: list[dict[str, Any]]
    ErrorInfo: dict[str, Any]


class SubscriptionResponseDict(TypedDict, total=False):
    ContextId: str
    ReferenceId: str
    Format: str
    InactivityTimeout: int
    RefreshRate: int
    State: str
    Snapshot: dict[str, Any]
