"""`calypso token-keeper`: keeps the shared Saxo token fresh around the clock (its own service).

It refreshes through the same coordinator as the bots (file lock, re-read inside the lock), so
bots and keeper together still make exactly one refresh per expiry. SIGTERM/SIGINT stop it.
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from types import FrameType

from shared.clock import Clock, WallClock
from shared.logger_service import configure_logging, kv
from shared.saxo_client.client import default_stores, token_coordinator
from shared.saxo_client.environments import ENV_NAMES
from shared.saxo_client.errors import SaxoError
from shared.saxo_client.oauth import RefreshRejected
from shared.token_coordinator import TokenCoordinator

logger = logging.getLogger(__name__)

MAX_SLEEP_S = 30.0
MIN_SLEEP_S = 0.1
ERROR_BACKOFF_S = (1.0, 2.0, 5.0, 10.0, 30.0)


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("token-keeper", help="keep the shared Saxo token fresh")
    parser.add_argument("--env", choices=ENV_NAMES, required=True, help="Saxo environment")
    parser.add_argument("--sim-url", help="simulator URL for --env local (else CALYPSO_SIM_URL)")
    parser.add_argument(
        "--max-sleep", type=float, default=MAX_SLEEP_S, help="longest pause between checks (s)"
    )
    parser.set_defaults(func=_run)


def keep_fresh(
    coordinator: TokenCoordinator,
    *,
    clock: Clock,
    stop: threading.Event,
    max_sleep_s: float = MAX_SLEEP_S,
) -> int:
    """Refresh whenever due until `stop` is set. Returns 0 on stop, 1 when the refresh token is
    refused (the operator must log in again)."""
    failures = 0
    while not stop.is_set():
        try:
            coordinator.current_tokens()
            failures = 0
        except RefreshRejected as exc:
            logger.error(kv("token_keeper_refresh_rejected", env=coordinator.env, error=exc))
            return 1
        except SaxoError as exc:
            delay = ERROR_BACKOFF_S[min(failures, len(ERROR_BACKOFF_S) - 1)]
            failures += 1
            logger.error(kv("token_keeper_error", env=coordinator.env, error=exc, retry_s=delay))
            stop.wait(delay)
            continue
        due = coordinator.next_refresh_at()
        wait = max_sleep_s if due is None else (due - clock.now()).total_seconds()
        stop.wait(min(max_sleep_s, max(MIN_SLEEP_S, wait)))
    logger.info(kv("token_keeper_stopped", env=coordinator.env))
    return 0


def _run(args: argparse.Namespace) -> int:
    configure_logging(None)
    try:
        store, write_back = default_stores(args.env)
        coordinator = token_coordinator(
            args.env, sim_url=args.sim_url, secret_store=store, write_back=write_back
        )
    except (SaxoError, ValueError) as exc:
        print(f"calypso token-keeper: {exc}", file=sys.stderr)
        return 1
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    _watch_refreshes(coordinator)
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    logger.info(kv("token_keeper_started", env=args.env, cache=coordinator.cache_path))
    return keep_fresh(coordinator, clock=WallClock(), stop=stop, max_sleep_s=args.max_sleep)


def _watch_refreshes(coordinator: TokenCoordinator) -> None:
    """A failed refresh alerts the operator (through the first bot with alerts enabled); a
    problem setting that up is logged and the keeper runs on (systemd still alerts its exit)."""
    from shared.alerts.operator import readable_sections
    from shared.alerts.token_watch import watch_keeper_refreshes
    from shared.secret_manager import default_secret_store

    try:
        watch_keeper_refreshes(coordinator, readable_sections(), store=default_secret_store(),
                               clock=WallClock())  # fmt: skip
    except Exception as exc:
        logger.error(kv("token_keeper_alerts_off", env=coordinator.env, error=exc))
