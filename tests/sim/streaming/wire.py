"""Test-side Saxo stream client pieces, written from saxo_api.md §3.3 and independent of the
simulator's own encoder/decoder (nothing here imports shared.saxo_sim.streaming)."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any

from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect


@dataclass(frozen=True)
class Msg:
    """One Saxo message as the reference describes it."""

    message_id: int
    reference_id: str
    payload_format: int
    payload: Any  # parsed JSON when format 0


def decode(buf: bytes) -> list[Msg]:
    """Loop over back-to-back messages: <Q id><H reserved><B n><ref><B format><I size><payload>."""
    out: list[Msg] = []
    pos = 0
    while pos < len(buf):
        message_id = int.from_bytes(buf[pos : pos + 8], "little")
        reserved = int.from_bytes(buf[pos + 8 : pos + 10], "little")
        assert reserved == 0, f"reserved bytes must be 0, got {reserved}"
        ref_len = buf[pos + 10]
        ref = buf[pos + 11 : pos + 11 + ref_len].decode("ascii")
        fmt = buf[pos + 11 + ref_len]
        size = int.from_bytes(buf[pos + 12 + ref_len : pos + 16 + ref_len], "little")
        start = pos + 16 + ref_len
        raw = buf[start : start + size]
        assert len(raw) == size, "payload truncated"
        out.append(Msg(message_id, ref, fmt, json.loads(raw.decode("utf-8")) if fmt == 0 else raw))
        pos = start + size
    return out


def merge(target: dict[str, Any], delta: dict[str, Any]) -> dict[str, Any]:
    """Deep-merge a delta into a cached object (the client's job per §3.5)."""
    for key, value in delta.items():
        if value is None:
            target.pop(key, None)
        elif isinstance(value, dict) and isinstance(target.get(key), dict):
            merge(target[key], value)
        else:
            target[key] = value
    return target


@dataclass
class StreamClient:
    """A synchronous WebSocket client that records frames and decoded messages."""

    ws: ClientConnection
    frames: list[list[Msg]] = field(default_factory=list)

    @classmethod
    def open(
        cls, url: str, token: str | None, *, query_auth: bool = False, **params: str
    ) -> StreamClient:
        """Connect with the token in the header (or `authorization=BEARER <t>` query)."""
        query: dict[str, str] = dict(params)
        headers: dict[str, str] = {}
        if token is not None:
            if query_auth:
                query["authorization"] = f"BEARER {token}"
            else:
                headers["Authorization"] = f"Bearer {token}"
        from urllib.parse import urlencode

        ws = connect(
            f"{url}?{urlencode(query)}", additional_headers=headers, open_timeout=5, legacy=True
        )
        return cls(ws)

    def recv_frame(self, timeout: float = 2.0) -> list[Msg]:
        """The messages of the next binary frame (TimeoutError when none arrives)."""
        data = self.ws.recv(timeout=timeout)
        assert isinstance(data, bytes), "the server must send binary frames only"
        msgs = decode(data)
        self.frames.append(msgs)
        return msgs

    def recv_until(self, predicate: Any, timeout: float = 3.0) -> list[Msg]:
        """Collect messages until one satisfies `predicate`; returns everything collected."""
        deadline = time.monotonic() + timeout
        got: list[Msg] = []
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"no matching message; got {[m.reference_id for m in got]}")
            msgs = self.recv_frame(timeout=remaining)
            got.extend(msgs)
            if any(predicate(m) for m in msgs):
                return got

    def quiet_for(self, seconds: float) -> list[Msg]:
        """Every message received during `seconds` (normally expected to be empty)."""
        deadline = time.monotonic() + seconds
        got: list[Msg] = []
        while (remaining := deadline - time.monotonic()) > 0:
            try:
                got.extend(self.recv_frame(timeout=remaining))
            except TimeoutError:
                break
        return got

    def wait_closed(self, timeout: float = 3.0) -> int | None:
        """Read until the server closes; returns the close code it sent (None if no frame)."""
        deadline = time.monotonic() + timeout
        try:
            while time.monotonic() < deadline:
                self.recv_frame(timeout=max(0.01, deadline - time.monotonic()))
        except ConnectionClosed as exc:
            return exc.rcvd.code if exc.rcvd is not None else None
        raise TimeoutError("socket still open")

    def close(self) -> None:
        self.ws.close()
