"""`calypso sim serve` as operators run it: prints URLs, serves, exits 0 on SIGINT or SIGTERM."""

from __future__ import annotations

import re
import signal
import subprocess
import sys

import pytest
import requests

from shared.cli.main import build_parser


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_serve_prints_urls_serves_and_stops_cleanly(sig: signal.Signals) -> None:
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "shared.cli",
            "sim",
            "serve",
            "--port",
            "0",
            "--seed",
            "3",
            "--speed",
            "60",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline()
        match = re.search(r"listening on (http://127\.0\.0\.1:\d+)", first)
        assert match, first
        clock = requests.get(f"{match.group(1)}/sim/v1/clock", timeout=5).json()
        assert clock["speed"] == 60
        proc.send_signal(sig)
        assert proc.wait(timeout=10) == 0
    finally:
        if proc.poll() is None:
            proc.kill()


def test_serve_rejects_a_start_without_offset() -> None:
    with pytest.raises(SystemExit):
        build_parser().parse_args(["sim", "serve", "--start", "2026-03-02T09:30:00"])


def test_serve_parses_every_documented_option() -> None:
    args = build_parser().parse_args(
        ["sim", "serve", "--host", "127.0.0.1", "--port", "8800", "--seed", "11",
         "--start", "2026-03-03T14:30:00Z", "--speed", "10", "--token-lifetime", "60",
         "--no-rate-limits"]
    )  # fmt: skip
    assert (args.port, args.seed, args.speed, args.token_lifetime) == (8800, 11, 10.0, 60.0)
    assert args.no_rate_limits is True
    assert args.start.isoformat() == "2026-03-03T14:30:00+00:00"
