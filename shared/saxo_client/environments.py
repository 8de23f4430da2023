"""Saxo environments (`live`, `sim`, `local`) and their five independent endpoint URLs."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Final
from urllib.parse import urlsplit

ENV_NAMES: Final[tuple[str, ...]] = ("live", "sim", "local")
DEFAULT_SIM_URL: Final = "http://127.0.0.1:8765"
SIM_URL_ENV_VAR: Final = "CALYPSO_SIM_URL"


@dataclass(frozen=True)
class SaxoEnvironment:
    """Endpoints of one environment. `rest_base` has no trailing slash (paths start with `/`)."""

    name: str
    rest_base: str
    authorize_url: str
    token_url: str
    stream_connect_url: str
    stream_authorize_url: str

    @property
    def is_live(self) -> bool:
        return self.name == "live"


LIVE: Final = SaxoEnvironment(
    name="live",
    rest_base="https://gateway.saxobank.com/openapi",
    authorize_url="https://live.logonvalidation.net/authorize",
    token_url="https://live.logonvalidation.net/token",
    stream_connect_url="wss://streaming.saxobank.com/openapi/streamingws/connect",
    stream_authorize_url="https://streaming.saxobank.com/openapi/streamingws/authorize",
)

SIM: Final = SaxoEnvironment(
    name="sim",
    rest_base="https://gateway.saxobank.com/sim/openapi",
    authorize_url="https://sim.logonvalidation.net/authorize",
    token_url="https://sim.logonvalidation.net/token",
    stream_connect_url="wss://streaming.saxobank.com/sim/openapi/streamingws/connect",
    stream_authorize_url="https://streaming.saxobank.com/sim/openapi/streamingws/authorize",
)


def local_environment(sim_url: str) -> SaxoEnvironment:
    """The CALYPSO simulator at `sim_url` (http://host:port): every endpoint on that one server."""
    parts = urlsplit(sim_url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(f"simulator URL must look like http://host:port, got {sim_url!r}")
    base = f"{parts.scheme}://{parts.netloc}"
    ws_scheme = "wss" if parts.scheme == "https" else "ws"
    return SaxoEnvironment(
        name="local",
        rest_base=f"{base}/openapi",
        authorize_url=f"{base}/authorize",
        token_url=f"{base}/token",
        stream_connect_url=f"{ws_scheme}://{parts.netloc}/openapi/streamingws/connect",
        stream_authorize_url=f"{base}/openapi/streamingws/authorize",
    )


def resolve_sim_url(sim_url: str | None = None) -> str:
    """`sim_url` if given, else $CALYPSO_SIM_URL, else http://127.0.0.1:8765."""
    return sim_url or os.environ.get(SIM_URL_ENV_VAR) or DEFAULT_SIM_URL


def environment(name: str, *, sim_url: str | None = None) -> SaxoEnvironment:
    """The environment called `name`; raises ValueError naming the valid choices."""
    if name == "live":
        return LIVE
    if name == "sim":
        return SIM
    if name == "local":
        return local_environment(resolve_sim_url(sim_url))
    raise ValueError(f"unknown Saxo environment {name!r}; expected one of {', '.join(ENV_NAMES)}")
