"""A streaming-only simulator for protocol tests: the real hub and routes over real HTTP and
WebSocket on loopback, backed by a tiny fake state whose prices the test sets directly and a
ManualClock for REAL time, so heartbeats, throttling and token expiry need no waiting."""

from __future__ import annotations

import asyncio
import copy
import socket
import threading
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from aiohttp import web

from shared.clock import ManualClock
from shared.saxo_sim.errors import SimApiError
from shared.saxo_sim.streaming import StreamingHub, install_streaming

T = TypeVar("T")
START = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)


class FakeAuth:
    """Tokens with REAL expiry on the harness' ManualClock; `end_session` revokes a session."""

    def __init__(self, real: ManualClock) -> None:
        self.real = real
        self.tokens: dict[str, tuple[str, float]] = {}
        self.ended: set[str] = set()

    def issue(self, token: str, lifetime_s: float = 1200.0, session: str = "s1") -> str:
        self.tokens[token] = (session, self.real.monotonic() + lifetime_s)
        return token

    def validate(self, bearer: str) -> Any:
        token = bearer.removeprefix("Bearer ").strip()
        entry = self.tokens.get(token)
        if entry is None or entry[1] <= self.real.monotonic() or entry[0] in self.ended:
            return None
        return type("Grant", (), {"token": token, "session_id": entry[0]})()

    def end_session(self, session_id: str) -> None:
        self.ended.add(session_id)


class FakeState:
    """`info_price`/`trade_price` return the object the test stored for a Uic (field groups
    select top-level blocks); `tick()` calls the listeners like a market step."""

    def __init__(self) -> None:
        self.real = ManualClock(START)
        self.clock = self.real
        self.auth = FakeAuth(self.real)
        self.prices: dict[int, dict[str, Any]] = {}
        self.asset_types: dict[int, str] = {}
        self._listeners: list[Callable[[], None]] = []

    def set_price(self, uic: int, asset_type: str, obj: dict[str, Any]) -> None:
        self.asset_types[uic] = asset_type
        self.prices[uic] = {"Uic": uic, "AssetType": asset_type, **copy.deepcopy(obj)}

    def info_price(self, uic: int, asset_type: str, field_groups: Sequence[str]) -> dict[str, Any]:
        if uic not in self.prices:
            raise SimApiError(400, "IllegalInstrumentId", f"Instrument ID is invalid: Uic {uic}")
        if self.asset_types[uic] != asset_type:
            raise SimApiError(400, "IllegalInstrumentId", "Uic/AssetType mismatch")
        full = self.prices[uic]
        keep = {"Uic", "AssetType", "LastUpdated", *field_groups}
        return copy.deepcopy({k: v for k, v in full.items() if k in keep})

    def trade_price(self, uic: int, asset_type: str, field_groups: Sequence[str]) -> dict[str, Any]:
        return self.info_price(uic, asset_type, field_groups)

    def add_tick_listener(self, callback: Callable[[], None]) -> None:
        self._listeners.append(callback)

    def tick(self) -> None:
        for callback in self._listeners:
            callback()


class StreamHarness:
    """Runs the streaming app on 127.0.0.1:<ephemeral> in a daemon thread."""

    def __init__(self) -> None:
        self.state = FakeState()
        self.token = self.state.auth.issue("tok-main")
        self._loop = asyncio.new_event_loop()
        self._runner: web.AppRunner | None = None
        self.hub: StreamingHub | None = None
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        sock.listen(64)
        sock.setblocking(False)
        self.port = sock.getsockname()[1]
        ready = threading.Event()

        async def setup() -> None:
            app = web.Application()
            self.hub = install_streaming(app, self.state)
            self.hub.settings.update({"housekeeping_interval_s": 0.01})
            self._runner = web.AppRunner(app, shutdown_timeout=0.5)
            await self._runner.setup()
            await web.SockSite(self._runner, sock).start()

        def run() -> None:
            asyncio.set_event_loop(self._loop)
            self._loop.run_until_complete(setup())
            ready.set()
            self._loop.run_forever()

        self._thread = threading.Thread(target=run, daemon=True)
        self._thread.start()
        if not ready.wait(5):
            raise RuntimeError("stream harness did not start")

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/openapi/streamingws/connect"

    def call(self, fn: Callable[[], T]) -> T:
        """Run `fn()` on the server loop and return its result."""

        async def invoke() -> T:
            return fn()

        return asyncio.run_coroutine_threadsafe(invoke(), self._loop).result(5)

    def tick(self) -> None:
        self.call(self.state.tick)

    def advance(self, seconds: float) -> None:
        """Move REAL time forward (the hub's throttles, heartbeats and token expiry follow)."""
        self.call(lambda: self.state.real.advance(timedelta(seconds=seconds)))

    def stop(self) -> None:
        if self._runner is not None:
            asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result(5)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)
