"""One bot-like process for the token e2e test: REST polling plus a price stream for N seconds.

Run as `python -m tests.e2e.token_worker --sim-url URL --seconds S`; CALYPSO_HOME selects the
shared token cache. Prints one JSON summary line and exits 0 when every request succeeded.
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
import time

from shared.domain import PriceUpdate
from shared.saxo_client.client import build_client
from shared.saxo_client.errors import SaxoError
from shared.saxo_client.rate_limiter import RateLimits
from shared.saxo_client.streaming.client import StreamSettings


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sim-url", required=True)
    parser.add_argument("--seconds", type=float, default=60.0)
    args = parser.parse_args()
    client = build_client("local", sim_url=args.sim_url, rate_limits=RateLimits(enabled=False))
    updates: list[float] = []
    lock = threading.Lock()

    def on_price(update: PriceUpdate) -> None:
        with lock:
            updates.append(time.monotonic())

    stream = client.price_stream(on_price, StreamSettings(refresh_rate_ms=250))
    summary: dict[str, object] = {"rest_ok": 0, "rest_errors": [], "stream_connected": False}
    errors: list[str] = []
    ok = 0
    try:
        summary["stream_connected"] = stream.start(wait_s=10)
        stream.subscribe(4913, "CfdOnIndex")
        started = time.monotonic()
        while time.monotonic() - started < args.seconds:
            try:
                client.quote(4913, "CfdOnIndex")
                ok += 1
            except SaxoError as exc:
                errors.append(f"{type(exc).__name__}: {exc}"[:200])
            time.sleep(0.3)
        with lock:
            last_quarter = [t for t in updates if t >= started + 0.75 * args.seconds]
        summary.update(
            rest_ok=ok,
            rest_errors=errors[:5],
            rest_error_count=len(errors),
            stream_updates=len(updates),
            stream_updates_last_quarter=len(last_quarter),
            reauthorizations=stream.counters["reauthorizations"],
            stream_connects=stream.counters["connects"],
        )
    finally:
        stream.stop()
        client.close()
    print(json.dumps(summary), flush=True)
    return 0 if not errors else 1


if __name__ == "__main__":
    sys.exit(main())
