"""Broker positions for the loop within the REST budget: read again only when they can have moved.

The journal says what the bot holds; the broker is asked again (one `positions` call) when
an order is being worked, when the journal's holdings changed since the last read, and
otherwise every `poll_seconds` of the runtime clock (the slower reconciliation poll). Each read
is compared with the journal: a disagreement while nothing is being worked is read again after
`CONFIRM_SECONDS` (the broker's positions may lag a fill just recorded), and when it is still
there with the journal unchanged the runtime reconciles at once (orphans adopted and closed,
missing legs flagged).
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from shared.broker import Broker
from shared.clock import Clock
from shared.domain import Position
from shared.execution.recorder import net_by_uic
from shared.journal import Journal
from shared.logger_service import kv

logger = logging.getLogger(__name__)

POSITIONS_POLL_SECONDS = 30.0  # runtime-clock seconds between reads while nothing changes
CONFIRM_SECONDS = 5.0  # runtime-clock seconds before a disagreement is read again


class PositionPoll:
    """Caches the broker's positions between reads; see the module docstring."""

    def __init__(
        self,
        *,
        broker: Broker,
        journal: Journal,
        clock: Clock,
        poll_seconds: float = POSITIONS_POLL_SECONDS,
    ) -> None:
        self._broker = broker
        self._journal = journal
        self._clock = clock
        self._poll_seconds = poll_seconds
        self._positions: list[Position] = []
        self._read_at: float | None = None
        self._journal_net: dict[int, int] | None = None
        self._suspect: dict[int, int] | None = None  # journal holdings of an unconfirmed mismatch
        self.reads = 0

    def seed(self, positions: list[Position]) -> None:
        """Take a read made elsewhere (start-up, reconciliation) as the latest one."""
        self._positions = list(positions)
        self._read_at = self._clock.monotonic()
        self._journal_net = self.journal_net()
        self._suspect = None

    def current(self, *, working: bool, on_mismatch: Callable[[], None]) -> list[Position]:
        """Every broker position of the account as last read; read now when `working` (an
        order is in flight), when the journal's holdings changed, or when the poll is due.
        `on_mismatch` runs when two reads `CONFIRM_SECONDS` apart, made while not `working` and
        with the journal unchanged, both disagree with it.
        Raises BrokerError when a due read fails (the iteration fails, as before)."""
        journal_net = self.journal_net()
        wait = CONFIRM_SECONDS if self._suspect is not None else self._poll_seconds
        due = self._read_at is None or self._clock.monotonic() - self._read_at >= wait
        if working or due or journal_net != self._journal_net:
            self._positions = self._broker.positions()
            self._read_at = self._clock.monotonic()
            self._journal_net = journal_net
            self.reads += 1
            if working or not self._disagree(journal_net):
                self._suspect = None
            elif self._suspect != journal_net:
                self._suspect = journal_net  # maybe the broker lags a fill: read again soon
            else:
                self._suspect = None
                logger.warning(kv("positions_disagree", journal=journal_net,
                                  broker=_broker_net(self._positions, journal_net)))  # fmt: skip
                on_mismatch()
        return self._positions

    def _disagree(self, journal_net: dict[int, int]) -> bool:
        """True when the broker's amount on a uic the journal holds is not the journal's, or
        the broker holds a uic this bot traded that no open trade holds (an orphan)."""
        broker = _broker_net(self._positions, None)
        if any(broker.get(uic, 0) != qty for uic, qty in journal_net.items()):
            return True
        others = {uic for uic, amount in broker.items() if amount and uic not in journal_net}
        return bool(others and self._journal.traded_uics(others))

    def journal_net(self) -> dict[int, int]:
        """Signed contracts per uic held by the journal's open trades."""
        net: dict[int, int] = {}
        for trade in self._journal.open_trades():
            for uic, qty in net_by_uic(trade).items():
                net[uic] = net.get(uic, 0) + qty
        return {uic: qty for uic, qty in net.items() if qty != 0}


def _broker_net(positions: list[Position], uics: dict[int, int] | None) -> dict[int, int]:
    """Signed amounts per uic at the broker (only `uics` when given)."""
    net: dict[int, int] = {}
    for p in positions:
        if uics is None or p.uic in uics:
            net[p.uic] = net.get(p.uic, 0) + int(p.amount)
    return net


