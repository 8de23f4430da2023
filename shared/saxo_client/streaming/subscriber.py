"""REST side of streaming: create, replace and delete price subscriptions on a context."""

from __future__ import annotations

import itertools
import logging
from collections.abc import Mapping
from typing import Any, Final

from shared.logger_service import kv
from shared.saxo_client.errors import SaxoConflict, SaxoError
from shared.saxo_client.transport import SaxoTransport

logger = logging.getLogger(__name__)

PRICES_PATH: Final = "/trade/v1/prices/subscriptions"
ALREADY_IN_USE: Final = "already in use"


class Subscriber:
    """Posts subscription requests for one stream; reference ids are unique per Subscriber."""

    def __init__(self, *, transport: SaxoTransport, refresh_rate_ms: int) -> None:
        self._transport = transport
        self._refresh_rate_ms = refresh_rate_ms
        self._counter = itertools.count(1)

    def new_reference_id(self, uic: int) -> str:
        return f"p{uic}_{next(self._counter)}"

    def subscribe(
        self,
        *,
        context_id: str,
        reference_id: str,
        uic: int,
        asset_type: str,
        field_groups: tuple[str, ...],
        replace_reference_id: str | None = None,
    ) -> Mapping[str, Any]:
        """POST one price subscription; returns Saxo's answer (Snapshot, InactivityTimeout...).
        A 409 "already in use" deletes the leftover and retries once."""
        body: dict[str, Any] = {
            "ContextId": context_id,
            "ReferenceId": reference_id,
            "RefreshRate": self._refresh_rate_ms,
            "Format": "application/json",
            "Arguments": {"Uic": uic, "AssetType": asset_type, "FieldGroups": list(field_groups)},
        }
        if replace_reference_id:
            body["ReplaceReferenceId"] = replace_reference_id
        try:
            answer = self._transport.send("POST", PRICES_PATH, json_body=body).body
        except SaxoConflict as exc:
            if ALREADY_IN_USE not in exc.message:
                raise
            logger.warning(kv("stream_subscription_in_use", ref=reference_id,
                              next="delete_and_retry"))
            self.delete(context_id, reference_id)
            answer = self._transport.send("POST", PRICES_PATH, json_body=body).body
        if not isinstance(answer, Mapping):
            raise SaxoError(f"subscription {reference_id}: answer is not an object")
        return answer

    def delete(self, context_id: str, reference_id: str) -> None:
        """DELETE one subscription; any 2xx or 404 counts as done."""
        try:
            self._transport.send("DELETE", f"{PRICES_PATH}/{context_id}/{reference_id}")
        except SaxoError as exc:
            logger.info(kv("stream_unsubscribe_failed", ref=reference_id, error=exc))

    def delete_context(self, context_id: str) -> None:
        """Remove every subscription of the context across services (always 202)."""
        try:
            self._transport.send("DELETE", f"/root/v1/subscriptions/{context_id}")
        except SaxoError as exc:
            logger.info(kv("stream_context_delete_failed", ctx=context_id, error=exc))
