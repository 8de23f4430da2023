"""`calypso sim serve`: run the local Saxo OpenAPI simulator until SIGINT/SIGTERM."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from types import FrameType
from typing import Any

from shared.cli.arg_types import aware_datetime, float_in, int_in
from shared.saxo_sim.config import DEFAULT_START, SimConfig

logger = logging.getLogger(__name__)


def register(subparsers: Any) -> None:
    """Add `sim` with its `serve` subcommand."""
    sim = subparsers.add_parser("sim", help="the local Saxo OpenAPI simulator")
    sim_sub = sim.add_subparsers(dest="sim_command", metavar="SUBCOMMAND")
    serve = sim_sub.add_parser(
        "serve",
        help="serve the simulator until Ctrl-C / SIGTERM",
        description="Serve the local Saxo OpenAPI simulator (REST, WebSocket, OAuth, control API).",
    )
    serve.add_argument("--host", default="127.0.0.1", help="interface to bind (default 127.0.0.1)")
    serve.add_argument(
        "--port",
        type=int_in(0, 65535, what="port number"),
        default=8765,
        help="TCP port, 0 = any (default 8765)",
    )
    serve.add_argument("--seed", type=int, default=SimConfig.seed, help="market seed (default 7)")
    serve.add_argument(
        "--start",
        type=aware_datetime,
        default=None,
        help=f"simulated start, ISO-8601 with offset (default {DEFAULT_START.isoformat()})",
    )
    serve.add_argument(
        "--speed", type=float_in(0), default=1.0, help="simulated seconds per real second"
    )
    serve.add_argument(
        "--token-lifetime",
        type=float_in(0),
        default=SimConfig.token_lifetime_s,
        help="access-token lifetime in real seconds (default 1200)",
    )
    serve.add_argument(
        "--refresh-token-lifetime",
        type=float_in(0),
        default=SimConfig.refresh_token_lifetime_s,
        help="refresh-token lifetime in real seconds (default 3600)",
    )
    serve.add_argument(
        "--no-rate-limits", action="store_true", help="never answer 429 or duplicate-order 409"
    )
    serve.set_defaults(func=serve_command)
    sim.set_defaults(func=lambda args: _help(sim))


def _help(parser: argparse.ArgumentParser) -> int:
    parser.print_help()
    return 2


def serve_command(args: argparse.Namespace) -> int:
    """Start the simulator, print its URLs, block until SIGINT/SIGTERM, stop cleanly (exit 0)."""
    from shared.saxo_sim.server import SimServer

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    config = SimConfig(
        seed=args.seed,
        start=args.start,
        speed=args.speed,
        token_lifetime_s=args.token_lifetime,
        refresh_token_lifetime_s=args.refresh_token_lifetime,
        rate_limits=not args.no_rate_limits,
    )
    server = SimServer(config)
    try:
        server.start(args.host, args.port)
    except OSError as exc:
        print(
            f"calypso sim serve: cannot listen on {args.host}:{args.port}: {exc}", file=sys.stderr
        )
        return 1
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    base = server.base_url
    ws = base.replace("http://", "ws://", 1)
    lines = [
        f"CALYPSO Saxo simulator listening on {base}  (seed {config.seed}, speed {config.speed}x)",
        f"  REST        {base}/openapi",
        f"  streaming   {ws}/openapi/streamingws/connect  and  {ws}/oapi/streaming/ws/connect",
        f"  OAuth       {base}/authorize  {base}/token  (client_id {config.app_key})",
        f"  control     {base}/sim/v1/  (see docs/SIMULATOR.md)",
        "Press Ctrl-C to stop.",
    ]
    print("\n".join(lines), flush=True)
    try:
        while not stop.wait(0.5):
            pass
    finally:
        server.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    print("simulator stopped", flush=True)
    return 0
