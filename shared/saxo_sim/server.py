"""SimServer: runs the simulator app on a private event loop in a daemon thread.

Pattern: bind a socket first (port 0 = ephemeral), run AppRunner + SockSite on the loop thread,
return once listening; `stop()` cleans up the runner and stops the loop.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import socket
import threading
from collections.abc import Callable
from types import TracebackType
from typing import TypeVar

from aiohttp import web

from shared.clock import Clock
from shared.logger_service import kv
from shared.saxo_sim.app import build_app
from shared.saxo_sim.config import SimConfig
from shared.saxo_sim.state import SimState

__all__ = ["SimConfig", "SimServer"]

logger = logging.getLogger(__name__)

T = TypeVar("T")
StateFactory = Callable[[SimConfig], SimState]
START_TIMEOUT_S = 10.0
SHUTDOWN_TIMEOUT_S = 1.0


class SimServer:
    """One simulator on 127.0.0.1 (by default); usable as a context manager.

    `state_factory` builds the SimState (default: `SimState.create`, the real market);
    `real` replaces the wall clock used for token lifetimes and rate-limit windows.
    """

    def __init__(
        self,
        config: SimConfig | None = None,
        *,
        state_factory: StateFactory | None = None,
        real: Clock | None = None,
    ) -> None:
        self.config = config or SimConfig()
        if state_factory is None:

            def state_factory(cfg: SimConfig) -> SimState:
                return SimState.create(cfg, real=real)

        self._state_factory = state_factory
        self._state: SimState | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._runner: web.AppRunner | None = None
        self._host = "127.0.0.1"
        self._port = 0

    # --- properties --------------------------------------------------------------------------
    @property
    def state(self) -> SimState:
        if self._state is None:
            raise RuntimeError("SimServer is not started")
        return self._state

    @property
    def port(self) -> int:
        return self._port

    @property
    def base_url(self) -> str:
        """ "http://HOST:PORT" (REST at base_url + "/openapi")."""
        return f"http://{self._host}:{self._port}"

    @property
    def openapi_url(self) -> str:
        return f"{self.base_url}/openapi"

    @property
    def ws_url(self) -> str:
        """The legacy streaming connect URL."""
        return f"ws://{self._host}:{self._port}/openapi/streamingws/connect"

    # --- lifecycle ---------------------------------------------------------------------------
    def start(self, host: str = "127.0.0.1", port: int = 0) -> None:
        """Listen on (host, port) in a daemon thread; returns once the server accepts requests."""
        if self._thread is not None:
            raise RuntimeError("SimServer already started")
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            sock.close()
            raise
        sock.listen(128)
        sock.setblocking(False)
        self._host, self._port = host, sock.getsockname()[1]
        loop = asyncio.new_event_loop()
        self._loop = loop
        ready: concurrent.futures.Future[None] = concurrent.futures.Future()

        def run() -> None:
            asyncio.set_event_loop(loop)
            try:
                loop.run_until_complete(self._start_on_loop(sock))
            except BaseException as exc:
                ready.set_exception(exc)
                loop.close()
                return
            ready.set_result(None)
            loop.run_forever()
            loop.close()

        self._thread = threading.Thread(target=run, name=f"saxo-sim-{self._port}", daemon=True)
        self._thread.start()
        try:
            ready.result(timeout=START_TIMEOUT_S)
        except BaseException:
            self._thread.join(timeout=1.0)
            self._thread = None
            sock.close()
            raise
        logger.info(kv("sim_server_started", url=self.base_url, seed=self.config.seed))

    async def _start_on_loop(self, sock: socket.socket) -> None:
        self._state = self._state_factory(self.config)
        runner = web.AppRunner(
            build_app(self._state), access_log=None, shutdown_timeout=SHUTDOWN_TIMEOUT_S
        )
        await runner.setup()
        await web.SockSite(runner, sock).start()
        self._runner = runner

    def stop(self) -> None:
        """Close every connection, stop the loop and join the thread (idempotent)."""
        loop, thread, runner = self._loop, self._thread, self._runner
        if loop is None or thread is None:
            return
        if runner is not None and loop.is_running():
            future = asyncio.run_coroutine_threadsafe(runner.cleanup(), loop)
            try:
                future.result(timeout=SHUTDOWN_TIMEOUT_S + 5.0)
            except Exception:
                logger.exception(kv("sim_server_cleanup_failed"))
        if loop.is_running():
            loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=5.0)
        self._loop = self._thread = self._runner = None
        logger.info(kv("sim_server_stopped", port=self._port))

    def call(self, fn: Callable[[SimState], T], timeout_s: float = 10.0) -> T:
        """Run `fn(state)` on the loop thread and return its result (re-raises its exception)."""
        loop = self._loop
        if loop is None:
            raise RuntimeError("SimServer is not started")
        state = self.state

        async def invoke() -> T:
            return fn(state)

        return asyncio.run_coroutine_threadsafe(invoke(), loop).result(timeout=timeout_s)

    def issue_token(self) -> str:
        """A fresh access token for a new session (skips the OAuth browser step; for tests)."""
        tokens = self.call(lambda s: s.auth.issue_direct())
        return str(tokens["access_token"])

    def __enter__(self) -> SimServer:
        if self._thread is None:
            self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
