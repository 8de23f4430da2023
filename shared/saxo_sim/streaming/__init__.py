"""Saxo-style WebSocket streaming for the simulator: binary frames, subscriptions, control.

`install_streaming(app, state)` adds the routes, hooks market ticks and returns the hub.
"""

from __future__ import annotations

import warnings
from collections.abc import AsyncIterator
from typing import Any

from aiohttp import web

from shared.saxo_sim.streaming.control import add_control_routes
from shared.saxo_sim.streaming.hub import StreamingHub, StreamingState
from shared.saxo_sim.streaming.routes import StreamingRoutes
from shared.saxo_sim.streaming.settings import StreamingSettings

__all__ = ["STREAMING_HUB_KEY", "StreamingHub", "StreamingSettings", "install_streaming"]

STREAMING_HUB_KEY: web.AppKey[StreamingHub] = web.AppKey("streaming_hub_obj", StreamingHub)


def install_streaming(app: web.Application, state: StreamingState) -> StreamingHub:
    """Add streaming routes and control routes to `app`, subscribe the hub to market ticks.

    The hub is stored at `app[STREAMING_HUB_KEY]` and, for callers using the plain name, at
    `app["streaming_hub"]`. Its housekeeping task starts with the app and stops (closing
    sockets with 1001) on shutdown. The heartbeat interval comes from
    `state.config.heartbeat_interval_s` when the state has a config.
    """
    settings = StreamingSettings()
    config: Any = getattr(state, "config", None)
    interval = getattr(config, "heartbeat_interval_s", None)
    if isinstance(interval, int | float) and 0 < interval < settings.inactivity_timeout_s:
        settings.heartbeat_interval_s = float(interval)
    hub = StreamingHub(state, settings=settings, real_clock=getattr(state, "real", None))
    StreamingRoutes(hub).add_to(app)
    add_control_routes(app, hub)
    state.add_tick_listener(hub.on_tick)
    app[STREAMING_HUB_KEY] = hub
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # aiohttp prefers AppKey; the plain name is the contract
        app["streaming_hub"] = hub

    async def lifecycle(_app: web.Application) -> AsyncIterator[None]:
        await hub.start()
        yield

    async def on_shutdown(_app: web.Application) -> None:
        await hub.shutdown()

    app.cleanup_ctx.append(lifecycle)
    app.on_shutdown.append(on_shutdown)
    return hub
