"""`python -m shared.demo.launch BOT [calypso run options]`: `calypso run BOT` for the demo.

Identical to `calypso run`, except that the Saxo client does not pace itself to Saxo's real
per-minute request limits. The demo's simulator runs with its rate limits off and an accelerated
clock, where a pacing of 115 requests per REAL minute per service group stalls a bot for tens of
simulated minutes (it misses its entry window). Only `--env local` is accepted here.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Any

from shared.saxo_client import client as saxo_client_module
from shared.saxo_client.rate_limiter import RateLimits

EXIT_USAGE = 2


def _unpaced_build_client(env_name: str, **kwargs: Any) -> saxo_client_module.SaxoClient:
    """`build_client` with client-side pacing off (the local simulator only)."""
    if env_name != "local":
        raise RuntimeError(f"the demo launcher runs bots on the local simulator, not {env_name}")
    kwargs["rate_limits"] = RateLimits(enabled=False)
    return _ORIGINAL_BUILD_CLIENT(env_name, **kwargs)


_ORIGINAL_BUILD_CLIENT = saxo_client_module.build_client


def main(argv: Sequence[str] | None = None) -> int:
    """Run one bot for the demo; exit codes as `calypso run` (docs/RUNTIME.md)."""
    args = list(sys.argv[1:] if argv is None else argv)
    if "--env" not in args or args[args.index("--env") + 1 :][:1] != ["local"]:
        print("shared.demo.launch: only `--env local` is supported", file=sys.stderr)
        return EXIT_USAGE
    saxo_client_module.build_client = _unpaced_build_client
    from shared.cli.main import main as calypso_main

    return calypso_main(["run", *args])


if __name__ == "__main__":
    sys.exit(main())
