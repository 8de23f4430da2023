"""Saxo-shaped error responses: generic `ErrorCode`/`Message`/`ModelState` and order `ErrorInfo`."""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

INVALID_MODEL_STATE_MESSAGE = "One or more properties of the request are invalid!"
NOT_FOUND_TEXT = "File or directory not found"


class SimApiError(Exception):
    """An error the simulator answers with, shaped as Saxo shapes it.

    Generic errors (`error_info=False`) render `{"ErrorCode", "Message"[, "ModelState"]}`;
    order business rejections (`error_info=True`) render `{"ErrorInfo": {"ErrorCode", "Message"}}`
    plus `extra` top-level fields (e.g. the echoed `ExternalReference`).
    """

    def __init__(
        self,
        status: int,
        error_code: str,
        message: str,
        model_state: dict[str, list[str]] | None = None,
        *,
        error_info: bool = False,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(f"{status} {error_code}: {message}")
        self.status = status
        self.error_code = error_code
        self.message = message
        self.model_state = model_state
        self.error_info = error_info
        self.extra = dict(extra or {})

    def body(self) -> dict[str, Any]:
        """The JSON body of this error."""
        if self.error_info:
            info = {"ErrorCode": self.error_code, "Message": self.message}
            return {"ErrorInfo": info, **self.extra}
        body: dict[str, Any] = {"ErrorCode": self.error_code, "Message": self.message}
        if self.model_state is not None:
            body["ModelState"] = self.model_state
        body.update(self.extra)
        return body

    def to_response(self) -> web.Response:
        """The aiohttp response carrying this error."""
        return json_response(self.body(), status=self.status)


def invalid_model_state(problems: dict[str, list[str]]) -> SimApiError:
    """400 InvalidModelState naming each bad field (Saxo's generic validation error)."""
    return SimApiError(400, "InvalidModelState", INVALID_MODEL_STATE_MESSAGE, problems)


def order_rejected(
    error_code: str, message: str, external_reference: str | None = None, status: int = 400
) -> SimApiError:
    """400 with `ErrorInfo` (business-rule rejection of an order), echoing ExternalReference."""
    extra = {"ExternalReference": external_reference} if external_reference else None
    return SimApiError(status, error_code, message, error_info=True, extra=extra)


def json_response(
    body: Any, status: int = 200, headers: dict[str, str] | None = None
) -> web.Response:
    """A JSON response with Saxo's content type."""
    return web.Response(
        text=json.dumps(body),
        status=status,
        content_type="application/json",
        charset="utf-8",
        headers=headers,
    )


def empty_response(status: int) -> web.Response:
    """A response with no body at all (401, 409 duplicate order, 202, injected 5xx)."""
    return web.Response(status=status, body=b"")


def not_found_response() -> web.Response:
    """Saxo's plain 404 for unknown routes."""
    return web.Response(status=404, text=NOT_FOUND_TEXT, content_type="text/plain")
