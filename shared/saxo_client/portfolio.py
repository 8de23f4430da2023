"""Account, positions, closed positions and balances."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass

from shared.domain import Balance, ClosedPosition, Position
from shared.logger_service import kv
from shared.saxo_client import parsing, trading_parsing
from shared.saxo_client.errors import SaxoPayloadError
from shared.saxo_client.transport import SaxoTransport

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class AccountRef:
    """Opaque Saxo account identifiers needed by order and portfolio calls."""

    account_key: str
    client_key: str
    account_id: str
    currency: str


class PortfolioService:
    """Reads the account's state. The account identity is fetched once and kept."""

    def __init__(self, *, transport: SaxoTransport) -> None:
        self._transport = transport
        self._account: AccountRef | None = None
        self._lock = threading.Lock()

    def account(self) -> AccountRef:
        """The first account of the logged-in client (`GET /port/v1/accounts/me`)."""
        with self._lock:
            if self._account is None:
                rows = parsing.feed_items(
                    self._transport.get("/port/v1/accounts/me").body, "Accounts"
                )
                if not rows:
                    raise SaxoPayloadError("Accounts: the client has no account")
                row = rows[0]
                try:
                    self._account = AccountRef(
                        account_key=str(row["AccountKey"]),
                        client_key=str(row["ClientKey"]),
                        account_id=str(row.get("AccountId", "")),
                        currency=str(row.get("Currency", "")),
                    )
                except KeyError as exc:
                    raise SaxoPayloadError(f"Accounts[0]: missing {exc.args[0]}") from None
                logger.info(kv(
                    "saxo_account",
                    account_id=self._account.account_id,
                    currency=self._account.currency,
                ))
            return self._account

    def positions(self) -> list[Position]:
        """Open positions (`PositionBase` + `PositionView` + `DisplayAndFormat`)."""
        account = self.account()
        body = self._transport.get(
            "/port/v1/positions",
            {
                "ClientKey": account.client_key,
                "AccountKey": account.account_key,
                "FieldGroups": "PositionBase,PositionView,DisplayAndFormat",
            },
        ).body
        return trading_parsing.parse_positions(body)

    def closed_positions(self, top: int = 50) -> list[ClosedPosition]:
        """Most recent closed positions, newest first."""
        account = self.account()
        body = self._transport.get(
            "/port/v1/closedpositions",
            {"ClientKey": account.client_key, "AccountKey": account.account_key, "$top": top},
        ).body
        return [
            trading_parsing.parse_closed_position(row) for row in parsing.feed_items(body, "Closed")
        ]

    def balance(self) -> Balance:
        """Cash, total value and margin of the account."""
        account = self.account()
        body = self._transport.get(
            "/port/v1/balances",
            {
                "ClientKey": account.client_key,
                "AccountKey": account.account_key,
                "FieldGroups": "MarginOverview",
            },
        ).body
        if not isinstance(body, dict):
            raise SaxoPayloadError("Balance: not an object")
        return trading_parsing.parse_balance(body)
