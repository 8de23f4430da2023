"""Injected faults: the next N requests under a path prefix answer 5xx, 429, or hang (timeout)."""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass
from typing import Literal

from shared.logger_service import kv

logger = logging.getLogger(__name__)

FaultKind = Literal["status", "timeout", "rate_limit"]
FAULT_KINDS: tuple[str, ...] = ("status", "timeout", "rate_limit")


PRECHECK_SUFFIX = "/precheck"


@dataclass
class FaultRule:
    """One armed fault.

    `path_prefix` matches the request path (e.g. "/openapi/trade/v2/orders"); `method` None
    matches any method. An order pre-check (`.../precheck`) is matched only by a prefix that
    names it: a fault armed for placements hits the placement, not the pre-check before it.
    `status` is the answer for kind "status" (e.g. 500, 503). Kind "timeout"
    holds the request `hold_s` REAL seconds (without blocking the loop), then either processes it
    normally (`then_process`: the client timed out but the server acted, as on a real network)
    or answers 504. Kind "rate_limit" answers 429 with exhausted X-RateLimit headers.
    """

    fault_id: int
    path_prefix: str
    kind: FaultKind
    remaining: int
    status: int = 503
    hold_s: float = 35.0
    then_process: bool = False
    method: str | None = None

    def describe(self) -> dict[str, object]:
        return asdict(self)


class FaultInjector:
    """Armed fault rules, consumed first-match-first by the middleware; loop-owned."""

    def __init__(self) -> None:
        self._rules: list[FaultRule] = []
        self._next_id = 1
        self.triggered = 0

    def add(
        self,
        path_prefix: str,
        kind: str,
        count: int = 1,
        *,
        status: int = 503,
        hold_s: float = 35.0,
        then_process: bool = False,
        method: str | None = None,
    ) -> FaultRule:
        """Arm a fault for the next `count` matching requests; raises ValueError on bad input."""
        if kind not in FAULT_KINDS:
            raise ValueError(f"fault kind must be one of {', '.join(FAULT_KINDS)}, got {kind!r}")
        if not path_prefix.startswith("/"):
            raise ValueError(f"fault path_prefix must start with '/', got {path_prefix!r}")
        if count < 1:
            raise ValueError(f"fault count must be >= 1, got {count}")
        if kind == "status" and not 400 <= status <= 599:
            raise ValueError(f"fault status must be 4xx or 5xx, got {status}")
        if not 0 <= hold_s <= 600:
            raise ValueError(f"fault hold_s must be within 0..600, got {hold_s}")
        rule = FaultRule(
            fault_id=self._next_id,
            path_prefix=path_prefix,
            kind=kind,  # type: ignore[arg-type]  # checked against FAULT_KINDS above
            remaining=count,
            status=status,
            hold_s=hold_s,
            then_process=then_process,
            method=method.upper() if method else None,
        )
        self._next_id += 1
        self._rules.append(rule)
        logger.info(kv("fault_armed", id=rule.fault_id, kind=kind, prefix=path_prefix, count=count))
        return rule

    def take(self, method: str, path: str) -> FaultRule | None:
        """The first rule matching this request, consuming one of its shots; None if none."""
        for rule in self._rules:
            if _matches(rule.path_prefix, path) and rule.method in (None, method.upper()):
                rule.remaining -= 1
                if rule.remaining <= 0:
                    self._rules.remove(rule)
                self.triggered += 1
                logger.info(kv("fault_triggered", id=rule.fault_id, kind=rule.kind, path=path))
                return rule
        return None

    def clear(self) -> int:
        """Disarm every rule; returns how many were armed."""
        count = len(self._rules)
        self._rules.clear()
        return count

    def armed(self) -> list[dict[str, object]]:
        return [rule.describe() for rule in self._rules]


def _matches(prefix: str, path: str) -> bool:
    if not path.startswith(prefix):
        return False
    return not path.endswith(PRECHECK_SUFFIX) or prefix.endswith(PRECHECK_SUFFIX)
