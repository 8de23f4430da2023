"""Simulator benchmarks on loopback: REST round trip (p50/p99) and streamed price messages/s.

Run: `python -m benchmarks.sim_bench` (prints results) or `python -m benchmarks.sim_bench --write`
(also rewrites this benchmark's sections of docs/PERFORMANCE.md). The simulator runs in a child
process (as in `calypso demo`), so client and server do not share one interpreter lock. Every
loop is bounded in count and in time; everything talks to 127.0.0.1 only.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import platform
import statistics
import struct
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import requests
from websockets.sync.client import connect

from benchmarks.perf_doc import write_section

NEW_YORK = ZoneInfo("America/New_York")
BENCH_START = datetime(2026, 3, 2, 10, 0, tzinfo=NEW_YORK)  # market open, so quotes move
REST_TARGET_P50_MS = 2.0
STREAM_TARGET_MSGS_PER_S = 5000.0
DOC_PATH = Path(__file__).resolve().parent.parent / "docs" / "PERFORMANCE.md"


@dataclass(frozen=True)
class BenchConfig:
    """Bounds and simulator settings of one run."""

    rest_requests: int = 2000
    rest_warmup: int = 100
    rest_max_seconds: float = 20.0
    stream_subscriptions: int = 100
    stream_seconds: float = 5.0
    stream_warmup_seconds: float = 1.0
    stream_max_messages: int = 1_000_000
    sim_speed: float = 100.0  # 1 simulated second per 10 ms step: every step moves the market
    sim_market_step_ms: int = 10


# ----- the simulator in a child process -----


def _serve(conn: Connection, speed: float, step_ms: int, n_options: int) -> None:
    """Child process: start a SimServer, report its URLs, a token and option Uics, then wait."""
    from shared.saxo_sim.config import SimConfig
    from shared.saxo_sim.server import SimServer

    config = SimConfig(
        seed=7, start=BENCH_START, speed=speed, market_step_ms=step_ms, rate_limits=False
    )
    server = SimServer(config)
    server.start("127.0.0.1", 0)
    try:
        options = server.call(lambda state: _near_money_options(state, n_options))
        pricing_us = server.call(lambda state: _pricing_cost_us(state, options))
        conn.send(
            {
                "base_url": server.base_url,
                "ws_url": server.ws_url,
                "token": server.issue_token(),
                "options": options,
                "pricing_us_per_quote": pricing_us,
            }
        )
        conn.recv()  # the parent says stop
    finally:
        server.stop()


def _near_money_options(state: Any, count: int) -> list[tuple[int, str]]:
    """(Uic, AssetType) of the `count` SPXW contracts of the nearest expiry closest to spot."""
    today = state.clock.now().astimezone(NEW_YORK).date()
    expiry = state.catalog.expiries(128, today)[0]
    spot = state.model.spot(4913)
    contracts = state.catalog.contracts(128, expiry, state.model.reference_price(4913, today))
    contracts.sort(key=lambda c: (abs(float(c.strike) - spot), c.put_call))
    return [(c.uic, c.asset_type) for c in contracts[:count]]


def _pricing_cost_us(state: Any, options: list[tuple[int, str]]) -> float:
    """Mean microseconds of one `SimState.trade_price` call (Quote+Greeks) over the options."""
    calls = 0
    started = time.perf_counter()
    for _ in range(3):
        for uic, asset_type in options:
            state.trade_price(uic, asset_type, ["Quote", "Greeks"])
            calls += 1
    return round((time.perf_counter() - started) / max(1, calls) * 1e6, 1)


# ----- measurements -----


def bench_rest(info: dict[str, Any], cfg: BenchConfig) -> dict[str, Any]:
    """Sequential keep-alive GETs of one info price; latency percentiles in milliseconds."""
    url = (
        info["base_url"]
        + "/openapi/trade/v1/infoprices?"
        + urlencode(
            {"Uic": 4913, "AssetType": "CfdOnIndex", "FieldGroups": "Quote,PriceInfoDetails"}
        )
    )
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {info['token']}"
    for _ in range(cfg.rest_warmup):
        session.get(url, timeout=5).raise_for_status()
    latencies_ms: list[float] = []
    deadline = time.perf_counter() + cfg.rest_max_seconds
    while len(latencies_ms) < cfg.rest_requests and time.perf_counter() < deadline:
        started = time.perf_counter()
        resp = session.get(url, timeout=5)
        elapsed = time.perf_counter() - started
        if resp.status_code != 200:
            raise RuntimeError(f"REST benchmark got HTTP {resp.status_code}: {resp.text[:200]}")
        latencies_ms.append(elapsed * 1000.0)
    session.close()
    cuts = statistics.quantiles(latencies_ms, n=100)
    return {
        "requests": len(latencies_ms),
        "p50_ms": round(statistics.median(latencies_ms), 3),
        "p99_ms": round(cuts[98], 3),
        "max_ms": round(max(latencies_ms), 3),
        "endpoint": "GET /openapi/trade/v1/infoprices (US500.I, Quote+PriceInfoDetails)",
    }


def _count_frame(data: bytes) -> tuple[int, int]:
    """(data messages, control messages) in one frame; parses every JSON payload."""
    data_msgs = control = 0
    pos, end = 0, len(data)
    while pos < end:
        ref_len = data[pos + 10]
        ref = data[pos + 11 : pos + 11 + ref_len]
        (size,) = struct.unpack_from("<I", data, pos + 12 + ref_len)
        start = pos + 16 + ref_len
        json.loads(data[start : start + size])
        if ref.startswith(b"_"):
            control += 1
        else:
            data_msgs += 1
        pos = start + size
    return data_msgs, control


def bench_stream(info: dict[str, Any], cfg: BenchConfig, *, synthetic: bool) -> dict[str, Any]:
    """Price subscriptions (RefreshRate 0) on one socket; decoded data messages per second.

    `synthetic` switches the hub's benchmark mode on for the run (prices nudged instead of
    computed by the market model), isolating the streaming stack from pricing cost.
    """
    base, context_id = info["base_url"], "synth" if synthetic else "real"
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {info['token']}"
    options = info["options"][: cfg.stream_subscriptions]
    for i, (uic, asset_type) in enumerate(options):
        body = {
            "ContextId": context_id,
            "ReferenceId": f"opt{i}",
            "RefreshRate": 0,
            "Arguments": {"Uic": uic, "AssetType": asset_type, "FieldGroups": ["Quote", "Greeks"]},
        }
        resp = session.post(base + "/openapi/trade/v1/prices/subscriptions", json=body, timeout=5)
        if resp.status_code != 201:
            raise RuntimeError(f"subscribe failed: HTTP {resp.status_code} {resp.text[:200]}")
    mode = {"synthetic_prices": synthetic}
    requests.post(base + "/sim/v1/streaming/benchmark", json=mode, timeout=5).raise_for_status()
    url = f"{info['ws_url']}?contextId={context_id}"
    headers = {"Authorization": f"Bearer {info['token']}"}
    try:
        with connect(url, additional_headers=headers, open_timeout=5, max_size=None) as ws:
            counts = _drain(ws, cfg)
    finally:
        off = {"synthetic_prices": False}
        requests.post(base + "/sim/v1/streaming/benchmark", json=off, timeout=5)
        session.delete(f"{base}/openapi/root/v1/subscriptions/{context_id}", timeout=5)
        session.close()
    messages, frames, elapsed = counts["messages"], counts["frames"], counts["seconds"]
    return {
        **counts,
        "market_steps_per_s": round(messages / len(options) / elapsed, 1) if options else 0.0,
        "subscriptions": len(options),
        "messages_per_s": round(messages / elapsed, 1),
        "messages_per_frame": round(messages / frames, 2) if frames else 0.0,
    }


def _drain(ws: Any, cfg: BenchConfig) -> dict[str, Any]:
    """Warm up, then count frames and messages for `stream_seconds` (bounded by count too)."""
    warm_end = time.perf_counter() + cfg.stream_warmup_seconds
    while time.perf_counter() < warm_end:
        try:
            ws.recv(timeout=max(0.001, warm_end - time.perf_counter()))
        except TimeoutError:
            break
    messages = control = frames = size = 0
    started = time.perf_counter()
    deadline = started + cfg.stream_seconds
    while messages < cfg.stream_max_messages:
        remaining = deadline - time.perf_counter()
        if remaining <= 0:
            break
        try:
            data = ws.recv(timeout=remaining)
        except TimeoutError:
            break
        assert isinstance(data, bytes)
        got, ctl = _count_frame(data)
        messages, control, frames = messages + got, control + ctl, frames + 1
        size += len(data)
    elapsed = time.perf_counter() - started
    return {
        "seconds": round(elapsed, 3),
        "messages": messages,
        "control_messages": control,
        "frames": frames,
        "bytes": size,
    }


# ----- report -----


def machine() -> str:
    model = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return (
        f"{os.cpu_count()} cores, {model}, Python {platform.python_version()}, {platform.system()}"
    )


def _rest_section(r: dict[str, Any], when: str, where: str, cfg: BenchConfig) -> str:
    ok = r["p50_ms"] < REST_TARGET_P50_MS
    return "\n".join(
        [
            "## Simulator REST round trip",
            "",
            "- Command: `python -m benchmarks.sim_bench --write`",
            f"- Machine: {where}",
            f"- Date: {when}",
            f"- What: {r['endpoint']}, sequential keep-alive `requests.Session` calls from the "
            f"parent process to the simulator in a child process on 127.0.0.1; "
            f"{cfg.rest_warmup} warm-up calls, then up to {cfg.rest_requests} timed calls "
            f"(at most {cfg.rest_max_seconds:.0f} s).",
            f"- Results: {r['requests']} requests, p50 **{r['p50_ms']} ms**, "
            f"p99 **{r['p99_ms']} ms**, max {r['max_ms']} ms",
            f"- Target: p50 under {REST_TARGET_P50_MS:g} ms",
            f"- Verdict: **{'PASS' if ok else 'FAIL'}**",
        ]
    )


def _stream_section(
    s: dict[str, Any], when: str, where: str, cfg: BenchConfig, *, synthetic: bool
) -> str:
    ok = s["messages_per_s"] >= STREAM_TARGET_MSGS_PER_S
    steps = (
        f"about {s['market_steps_per_s']:g} market steps/s reached the socket, each with one "
        f"message per subscription"
    )
    if synthetic:
        title = "Simulator streaming throughput: streaming stack (benchmark mode)"
        source = (
            "the hub's benchmark mode (`POST /sim/v1/streaming/benchmark`) nudges each "
            "subscription's Quote every market step instead of pricing it, so this measures "
            "delta computation, frame encoding, the socket and client decoding, not pricing"
        )
        note = f"Notes: {steps}; the step rate (not the hub) is the limit here."
    else:
        title = "Simulator streaming throughput: end to end with real option pricing"
        source = (
            f"real prices: speed {cfg.sim_speed:g} so every step moves the market and "
            "every option quote is recomputed by the market model and pricing engine"
        )
        quote_us = float(s.get("pricing_us_per_quote", 0.0))
        period_ms = 1000.0 / s["market_steps_per_s"] if s["market_steps_per_s"] else 0.0
        note = (
            f"Notes: {steps}. One `SimState.trade_price` call (Quote+Greeks) for an option "
            f"costs {quote_us:g} µs in the server, so pricing {s['subscriptions']} options "
            f"takes about {quote_us * s['subscriptions'] / 1000:.0f} ms of each "
            f"{period_ms:.0f} ms step period, and the market loop sleeps the full "
            f"{cfg.sim_market_step_ms} ms step interval after each step's work. Faster option "
            "pricing (SIM-MARKET) or a fixed-rate market loop (SIM-SERVER) would raise this."
        )
    return "\n".join(
        [
            f"## {title}",
            "",
            "- Command: `python -m benchmarks.sim_bench --write`",
            f"- Machine: {where}",
            f"- Date: {when}",
            f"- What: {s['subscriptions']} `/trade/v1/prices` subscriptions (SPXW options nearest "
            "the money, FieldGroups Quote+Greeks, RefreshRate 0) on one WebSocket, market step "
            f"{cfg.sim_market_step_ms} ms; {source}. The client (another process) decodes every "
            f"binary frame and parses every JSON payload; {cfg.stream_warmup_seconds:g} s "
            f"warm-up, then {cfg.stream_seconds:g} s measured; data messages only are counted.",
            f"- Results: **{s['messages_per_s']:,.0f} messages/s** ({s['messages']:,} messages in "
            f"{s['frames']:,} frames, {s['messages_per_frame']} per frame, "
            f"{s['bytes'] / 1e6:.1f} MB in {s['seconds']} s)",
            f"- Target: at least {STREAM_TARGET_MSGS_PER_S:,.0f} price messages/s to one client",
            f"- Verdict: **{'PASS' if ok else 'FAIL'}**",
            f"- {note}",
        ]
    )


def run(cfg: BenchConfig) -> dict[str, dict[str, Any]]:
    """Start the simulator child, run both benchmarks, stop the child."""
    ctx = multiprocessing.get_context("spawn")
    parent, child = ctx.Pipe()
    proc = ctx.Process(
        target=_serve,
        args=(child, cfg.sim_speed, cfg.sim_market_step_ms, cfg.stream_subscriptions),
        daemon=True,
    )
    proc.start()
    try:
        if not parent.poll(60):
            raise RuntimeError("the simulator child did not start within 60 s")
        info = parent.recv()
        rest = bench_rest(info, cfg)
        real = bench_stream(info, cfg, synthetic=False)
        real["pricing_us_per_quote"] = info["pricing_us_per_quote"]
        synth = bench_stream(info, cfg, synthetic=True)
    finally:
        if proc.is_alive():
            parent.send("stop")
        proc.join(15)
        if proc.is_alive():
            proc.terminate()
            proc.join(5)
    return {"rest": rest, "stream_real_pricing": real, "stream_benchmark_mode": synth}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help="rewrite docs/PERFORMANCE.md sections")
    parser.add_argument("--rest-requests", type=int, default=BenchConfig.rest_requests)
    parser.add_argument("--stream-seconds", type=float, default=BenchConfig.stream_seconds)
    parser.add_argument("--subscriptions", type=int, default=BenchConfig.stream_subscriptions)
    args = parser.parse_args(argv)
    if args.rest_requests < 10 or not 0.5 <= args.stream_seconds <= 60 or args.subscriptions < 1:
        parser.error(
            "need --rest-requests >= 10, --stream-seconds in 0.5..60, --subscriptions >= 1"
        )
    cfg = BenchConfig(
        rest_requests=args.rest_requests,
        stream_seconds=args.stream_seconds,
        stream_subscriptions=args.subscriptions,
    )
    results = run(cfg)
    print(json.dumps(results, indent=2))
    if args.write:
        when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
        where = machine()
        write_section(DOC_PATH, "sim_bench:rest", _rest_section(results["rest"], when, where, cfg))
        stack = _stream_section(results["stream_benchmark_mode"], when, where, cfg, synthetic=True)
        write_section(DOC_PATH, "sim_bench:stream_stack", stack)
        real = _stream_section(results["stream_real_pricing"], when, where, cfg, synthetic=False)
        write_section(DOC_PATH, "sim_bench:stream_real", real)
        print(f"wrote {DOC_PATH}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
