"""Typed exceptions for Saxo failures, built from Saxo error payloads (they carry `ErrorCode`).

Messages name the method, path, status, ErrorCode and X-Correlation; they never hold tokens.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

# Business-rule codes that mean "this order will not be placed as sent" (saxo_api.md V2).
TRANSIENT_ERROR_CODES: Final = frozenset({"CouldNotCompleteRequest", "InternalTimeout"})


class SaxoError(Exception):
    """Base of everything the Saxo client raises."""


class SaxoPayloadError(SaxoError):
    """A Saxo response did not have the shape the client expects."""


class SaxoTransportError(SaxoError):
    """No usable HTTP response: connection failure or timeout (the request may have executed)."""


class SaxoApiError(SaxoError):
    """Saxo answered with an error status. `error_code` is Saxo's `ErrorCode` when it sent one."""

    def __init__(
        self,
        *,
        status: int,
        error_code: str | None,
        message: str,
        method: str,
        path: str,
        correlation: str | None = None,
        model_state: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        self.status = status
        self.error_code = error_code
        self.message = message
        self.method = method
        self.path = path
        self.correlation = correlation
        self.model_state = dict(model_state) if model_state else None
        self.headers = dict(headers) if headers else {}
        detail = f" model_state={self.model_state}" if self.model_state else ""
        super().__init__(
            f"saxo {method} {path} -> {status} error_code={error_code or '-'} "
            f"message={message!r} correlation={correlation or '-'}{detail}"
        )


class SaxoBadRequest(SaxoApiError):
    """400: invalid request or a business-rule rejection."""


class SaxoUnauthorized(SaxoApiError):
    """401: token missing, expired or revoked (still failing after one forced refresh)."""


class SaxoForbidden(SaxoApiError):
    """403: the app lacks permission for this endpoint."""


class SaxoNotFound(SaxoApiError):
    """404: unknown resource or route."""


class SaxoConflict(SaxoApiError):
    """409: duplicate order within 15 s, subscription key in use, subscription limit."""


class SaxoRateLimited(SaxoApiError):
    """429: a rate-limit dimension is exhausted (still after waiting for its reset)."""


class SaxoServerError(SaxoApiError):
    """5xx from Saxo (still after the retries allowed for the request)."""


class OrderRejected(SaxoError):
    """Saxo refused an order; `error_code` is the TradingErrorCode (e.g. WouldExceedMargin)."""

    def __init__(self, error_code: str, message: str, *, request_id: str) -> None:
        self.error_code = error_code
        self.message = message
        self.request_id = request_id
        super().__init__(
            f"order rejected error_code={error_code} message={message!r} request_id={request_id}"
        )


class OrderStateUnknown(SaxoError):
    """An order request got no answer: look it up by its reference; do NOT resend blindly."""

    def __init__(self, request_id: str, external_reference: str, reason: str) -> None:
        self.request_id = request_id
        self.external_reference = external_reference
        super().__init__(
            f"order outcome unknown request_id={request_id} "
            f"external_reference={external_reference} reason={reason}"
        )


class TokenError(SaxoError):
    """No usable access token (not logged in, refresh rejected, cache unreadable)."""


_STATUS_CLASSES: Final[dict[int, type[SaxoApiError]]] = {
    400: SaxoBadRequest,
    401: SaxoUnauthorized,
    403: SaxoForbidden,
    404: SaxoNotFound,
    409: SaxoConflict,
    429: SaxoRateLimited,
}


def error_fields(body: object) -> tuple[str | None, str, Mapping[str, Any] | None]:
    """(ErrorCode, Message, ModelState) from a Saxo error body of any documented shape.

    Shapes: `{ErrorCode, Message, ModelState}`; `{ErrorInfo: {ErrorCode, Message}}`;
    `{Orders: [{ErrorInfo: {...}}]}`; empty or non-JSON bodies give (None, "", None).
    """
    if not isinstance(body, Mapping):
        return None, "" if body is None else str(body)[:200], None
    model_state = body.get("ModelState")
    model = model_state if isinstance(model_state, Mapping) else None
    if isinstance(body.get("ErrorCode"), str):
        return body["ErrorCode"], str(body.get("Message") or ""), model
    info = body.get("ErrorInfo")
    if isinstance(info, Mapping) and isinstance(info.get("ErrorCode"), str):
        return info["ErrorCode"], str(info.get("Message") or ""), model
    orders = body.get("Orders")
    if isinstance(orders, list):
        for order in orders:
            inner = order.get("ErrorInfo") if isinstance(order, Mapping) else None
            if isinstance(inner, Mapping) and isinstance(inner.get("ErrorCode"), str):
                return inner["ErrorCode"], str(inner.get("Message") or ""), model
    return None, "", model


def api_error(
    *,
    status: int,
    body: object,
    method: str,
    path: str,
    correlation: str | None,
    headers: Mapping[str, str] | None = None,
) -> SaxoApiError:
    """The typed exception for an error response (status >= 400)."""
    code, message, model = error_fields(body)
    cls = _STATUS_CLASSES.get(status, SaxoServerError if status >= 500 else SaxoApiError)
    return cls(
        status=status,
        error_code=code,
        message=message,
        method=method,
        path=path,
        correlation=correlation,
        model_state=model,
        headers=headers,
    )
