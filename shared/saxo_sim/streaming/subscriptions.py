"""Price subscriptions: request validation (Saxo rules of §3.6) and per-subscription send state."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from shared.saxo_sim.errors import SimApiError, invalid_model_state

SERVICE_PRICES = "prices"  # /trade/v1/prices/subscriptions: one Uic, deltas without Uic
SERVICE_INFOPRICES = "infoprices"  # /trade/v1/infoprices/subscriptions: Uics list, arrays with Uic
SERVICES = (SERVICE_PRICES, SERVICE_INFOPRICES)

DUPLICATE_REFERENCE_MESSAGE = "Subscription Key (Streaming Session, Reference Id) already in use"
JSON_FORMAT = "application/json"
KNOWN_FIELD_GROUPS = frozenset(
    {
        "DisplayAndFormat",
        "Quote",
        "PriceInfo",
        "PriceInfoDetails",
        "InstrumentPriceDetails",
        "HistoricalChanges",
        "Greeks",
        "MarketDepth",
        "Commissions",
        "MarginImpactBuySell",
        "Timestamps",
    }
)
DEFAULT_FIELD_GROUPS: tuple[str, ...] = ("Quote",)
MAX_UICS_PER_SUBSCRIPTION = 1000
_ID_PATTERN = re.compile(r"^[A-Za-z0-9_-]{1,50}$")

REASON_TEMPORARILY_DISABLED = "SubscriptionTemporarilyDisabled"
REASON_PERMANENTLY_DISABLED = "SubscriptionPermanentlyDisabled"
DISABLE_REASONS = (REASON_TEMPORARILY_DISABLED, REASON_PERMANENTLY_DISABLED)


def valid_id(value: object) -> bool:
    """True for a ContextId/ReferenceId of 1-50 chars of [A-Za-z0-9_-]."""
    return isinstance(value, str) and _ID_PATTERN.match(value) is not None


@dataclass(frozen=True)
class SubscriptionRequest:
    """A validated subscription POST body. `refresh_rate_ms` is already clamped."""

    service: str
    context_id: str
    reference_id: str
    asset_type: str
    uics: tuple[int, ...]
    field_groups: tuple[str, ...]
    refresh_rate_ms: int
    tag: str | None
    replace_reference_id: str | None


@dataclass
class Subscription:
    """One live subscription and what was last sent for it. Times are REAL monotonic seconds."""

    request: SubscriptionRequest
    created_real: float
    last_sent: dict[int, dict[str, Any]] = field(default_factory=dict)  # per Uic: full object
    last_data_real: float = 0.0
    disabled_reason: str | None = None
    reset: bool = False  # a _resetsubscriptions named it: no more data for this ReferenceId
    messages_sent: int = 0

    @property
    def reference_id(self) -> str:
        return self.request.reference_id

    @property
    def service(self) -> str:
        return self.request.service

    @property
    def tag(self) -> str | None:
        return self.request.tag

    @property
    def refresh_s(self) -> float:
        return self.request.refresh_rate_ms / 1000.0

    @property
    def streams_data(self) -> bool:
        """True while data deltas may be sent (not reset, not disabled)."""
        return not self.reset and self.disabled_reason is None


def _field_groups(raw: object, problems: dict[str, list[str]]) -> tuple[str, ...]:
    if raw is None:
        return DEFAULT_FIELD_GROUPS
    items: list[object]
    if isinstance(raw, str):
        items = [part.strip() for part in raw.split(",") if part.strip()]
    elif isinstance(raw, list):
        items = list(raw)
    else:
        problems["Arguments.FieldGroups"] = ["FieldGroups must be a list of names"]
        return DEFAULT_FIELD_GROUPS
    groups: list[str] = []
    for item in items:
        if not isinstance(item, str) or item not in KNOWN_FIELD_GROUPS:
            problems.setdefault("Arguments.FieldGroups", []).append(
                f"Unknown field group: {item!r}"
            )
        elif item not in groups:
            groups.append(item)
    return tuple(groups) if groups else DEFAULT_FIELD_GROUPS


def _uic(raw: object) -> int | None:
    if isinstance(raw, bool):
        return None
    if isinstance(raw, int):
        return raw if raw > 0 else None
    if isinstance(raw, str) and raw.strip().isdigit():
        value = int(raw.strip())
        return value if value > 0 else None
    return None


def _uics(
    service: str, arguments: dict[str, Any], problems: dict[str, list[str]]
) -> tuple[int, ...]:
    if service == SERVICE_PRICES:
        uic = _uic(arguments.get("Uic"))
        if uic is None:
            problems["Arguments.Uic"] = ["Uic is required and must be a positive integer"]
            return ()
        return (uic,)
    raw = arguments.get("Uics")
    parts: list[object]
    if isinstance(raw, str):
        parts = [part for part in raw.split(",") if part.strip()]
    elif isinstance(raw, list):
        parts = list(raw)
    else:
        problems["Arguments.Uics"] = ["Uics is required: a comma-separated list of Uic numbers"]
        return ()
    uics: list[int] = []
    for part in parts:
        uic = _uic(part)
        if uic is None:
            problems.setdefault("Arguments.Uics", []).append(f"Invalid Uic: {part!r}")
        elif uic not in uics:
            uics.append(uic)
    if not uics and "Arguments.Uics" not in problems:
        problems["Arguments.Uics"] = ["Uics must name at least one instrument"]
    if len(uics) > MAX_UICS_PER_SUBSCRIPTION:
        problems["Arguments.Uics"] = [f"At most {MAX_UICS_PER_SUBSCRIPTION} Uics per subscription"]
    return tuple(uics)


def _refresh_rate(
    raw: object, default_ms: int, min_ms: int, max_ms: int, problems: dict[str, list[str]]
) -> int:
    if raw is None:
        value = default_ms
    elif isinstance(raw, int) and not isinstance(raw, bool) and raw >= 0:
        value = raw
    else:
        problems["RefreshRate"] = ["RefreshRate must be a non-negative integer (milliseconds)"]
        return default_ms
    return max(min_ms, min(max_ms, value))


def parse_subscription_request(
    body: object, service: str, *, default_refresh_ms: int, min_refresh_ms: int, max_refresh_ms: int
) -> SubscriptionRequest:
    """Validate a subscription POST body; raises SimApiError (400) naming every bad field.

    RefreshRate is clamped into [min_refresh_ms, max_refresh_ms] (milliseconds).
    """
    if not isinstance(body, dict):
        raise invalid_model_state({"Body": ["The request body must be a JSON object"]})
    fmt = body.get("Format", JSON_FORMAT)
    if fmt != JSON_FORMAT:
        raise SimApiError(
            400,
            "UnsupportedSubscriptionFormat",
            f"Format {fmt!r} is not supported by the simulator (only {JSON_FORMAT})",
        )
    problems: dict[str, list[str]] = {}
    context_id = body.get("ContextId")
    if not valid_id(context_id):
        problems["ContextId"] = ["ContextId is required: 1-50 characters of [a-zA-Z0-9_-]"]
    reference_id = body.get("ReferenceId")
    if isinstance(reference_id, str) and reference_id.startswith("_"):
        problems["ReferenceId"] = [
            "ReferenceId cannot start with '_' (reserved for control messages)"
        ]
    elif not valid_id(reference_id):
        problems["ReferenceId"] = ["ReferenceId is required: 1-50 characters of [a-zA-Z0-9_-]"]
    tag = body.get("Tag")
    if tag is not None and not isinstance(tag, str):
        problems["Tag"] = ["Tag must be a string"]
    replace = body.get("ReplaceReferenceId")
    if replace is not None and not valid_id(replace):
        problems["ReplaceReferenceId"] = ["ReplaceReferenceId must be a valid ReferenceId"]
    refresh = _refresh_rate(
        body.get("RefreshRate"), default_refresh_ms, min_refresh_ms, max_refresh_ms, problems
    )
    arguments = body.get("Arguments")
    asset_type = ""
    uics: tuple[int, ...] = ()
    groups = DEFAULT_FIELD_GROUPS
    if not isinstance(arguments, dict):
        problems["Arguments"] = ["Arguments is required (an object with AssetType and Uic/Uics)"]
    else:
        raw_asset = arguments.get("AssetType")
        if not isinstance(raw_asset, str) or not raw_asset:
            problems["Arguments.AssetType"] = ["AssetType is required"]
        else:
            asset_type = raw_asset
        uics = _uics(service, arguments, problems)
        groups = _field_groups(arguments.get("FieldGroups"), problems)
    if problems:
        raise invalid_model_state(problems)
    assert isinstance(context_id, str) and isinstance(reference_id, str)
    return SubscriptionRequest(
        service=service,
        context_id=context_id,
        reference_id=reference_id,
        asset_type=asset_type,
        uics=uics,
        field_groups=groups,
        refresh_rate_ms=refresh,
        tag=tag if isinstance(tag, str) else None,
        replace_reference_id=replace if isinstance(replace, str) else None,
    )


def duplicate_reference_error() -> SimApiError:
    """409 for a ReferenceId already used in the context, with Saxo's exact Message."""
    return SimApiError(409, "Conflict", DUPLICATE_REFERENCE_MESSAGE)


def subscription_limit_error(limit: int) -> SimApiError:
    """409 SubscriptionLimitExceeded (Saxo uses 409 here, not 429)."""
    return SimApiError(
        409, "SubscriptionLimitExceeded", f"Subscription limit of {limit} for this service reached"
    )
