"""Decoding Saxo's binary WebSocket messages (saxo_api.md 3.3): pure functions over bytes.

One WebSocket message may hold several Saxo messages back to back, each:
`<uint64 id><2 reserved bytes><uint8 n><n ASCII ref id><uint8 format><uint32 size><payload>`,
little-endian. Format 0 is UTF-8 JSON; control messages (ref id starting `_`) are always JSON.
"""

from __future__ import annotations

import json
import struct
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Final

FORMAT_JSON: Final = 0
FORMAT_PROTOBUF: Final = 1
_HEAD: Final = struct.Struct("<QHB")
_TAIL: Final = struct.Struct("<BI")


class FrameError(ValueError):
    """A binary message is truncated or malformed."""


@dataclass(frozen=True)
class SaxoMessage:
    """One decoded Saxo message. `payload` is the parsed JSON (None for protobuf)."""

    message_id: int
    reference_id: str
    payload_format: int
    payload: Any

    @property
    def is_control(self) -> bool:
        return self.reference_id.startswith("_")


def decode_messages(data: bytes) -> list[SaxoMessage]:
    """Every Saxo message in `data`, in order; raises FrameError on truncation or bad JSON."""
    return list(iter_messages(data))


def iter_messages(data: bytes) -> Iterator[SaxoMessage]:
    """The Saxo messages in `data` one at a time, so each can be acted on before the next is
    decoded; raises FrameError on reaching a truncated or malformed message."""
    view = memoryview(data)
    offset = 0
    end = len(data)
    while offset < end:
        if end - offset < _HEAD.size:
            raise FrameError(f"truncated header at byte {offset} of {end}")
        message_id, _reserved, ref_len = _HEAD.unpack_from(view, offset)
        offset += _HEAD.size
        if end - offset < ref_len + _TAIL.size:
            raise FrameError(f"truncated reference id at byte {offset} of {end}")
        try:
            reference_id = bytes(view[offset : offset + ref_len]).decode("ascii")
        except UnicodeDecodeError:
            raise FrameError(f"reference id at byte {offset} is not ASCII") from None
        offset += ref_len
        payload_format, size = _TAIL.unpack_from(view, offset)
        offset += _TAIL.size
        if end - offset < size:
            raise FrameError(f"payload of {reference_id} needs {size} bytes, {end - offset} left")
        raw = bytes(view[offset : offset + size])
        offset += size
        payload: Any = None
        if payload_format == FORMAT_JSON or reference_id.startswith("_"):
            try:
                payload = json.loads(raw) if raw else None
            except (UnicodeDecodeError, json.JSONDecodeError):
                raise FrameError(f"payload of {reference_id} is not JSON") from None
        yield SaxoMessage(message_id, reference_id, payload_format, payload)


def encode_message(message_id: int, reference_id: str, payload: Any) -> bytes:
    """One JSON Saxo message as bytes (for tests and benchmarks)."""
    ref = reference_id.encode("ascii")
    body = json.dumps(payload, separators=(",", ":")).encode("utf-8")
    return _HEAD.pack(message_id, 0, len(ref)) + ref + _TAIL.pack(FORMAT_JSON, len(body)) + body
