"""Test-only crash hook: `CALYPSO_TEST_CRASH_AT=after_leg:2` SIGKILLs the process at that point.

Honoured only in the `local` environment (the simulator); inert in live and sim whatever the
environment says. Points (N = 1-based leg of the job): `before_send:N`, `after_send:N`,
`after_leg:N` for entries; `close_before_send:N`, `close_after_send:N`, `close_after_leg:N` for
closes and unwinds. The kill happens after the journal write of that point is committed.
"""

from __future__ import annotations

import logging
import os
import signal
from collections.abc import Callable, Mapping

from shared.logger_service import kv

logger = logging.getLogger(__name__)

CRASH_ENV = "CALYPSO_TEST_CRASH_AT"


def crash_hook(environment: str, environ: Mapping[str, str] = os.environ) -> Callable[[str], None]:
    """The hook for the executor: a no-op unless local mode and CALYPSO_TEST_CRASH_AT is set."""
    target = environ.get(CRASH_ENV, "").strip()
    if not target:
        return _inert
    if environment != "local":
        logger.warning(kv("crash_hook_ignored", environment=environment))
        return _inert
    logger.warning(kv("crash_hook_armed", at=target))

    def hook(point: str) -> None:
        if point == target:
            logger.warning(kv("crash_hook_firing", at=point, pid=os.getpid()))
            for handler in logging.getLogger().handlers:
                handler.flush()
            os.kill(os.getpid(), signal.SIGKILL)

    return hook


def _inert(point: str) -> None:
    return None
