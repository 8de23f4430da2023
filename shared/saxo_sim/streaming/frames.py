"""Saxo streaming binary frames: pure encode/decode over bytes (layout of saxo_api.md §3.3).

One WebSocket binary message holds one or more Saxo messages back to back; each is
`<Q message id><H reserved=0><B n><n bytes ASCII reference id><B format><I size><payload>`,
all integers little-endian. Format 0 is UTF-8 JSON (the only one the simulator sends).
"""

from __future__ import annotations

import json
import struct
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

PAYLOAD_FORMAT_JSON = 0
PAYLOAD_FORMAT_PROTOBUF = 1
MAX_REFERENCE_ID_BYTES = 255

_HEAD = struct.Struct("<QHB")  # message id, reserved, reference-id length
_TAIL = struct.Struct("<BI")  # payload format, payload size


@dataclass(frozen=True)
class StreamMessage:
    """One decoded Saxo message: id, reference id, payload format and raw payload bytes."""

    message_id: int
    reference_id: str
    payload_format: int
    payload: bytes

    def json(self) -> Any:
        """The payload parsed as JSON (raises ValueError when it is not JSON)."""
        return json.loads(self.payload)


def _json_default(value: object) -> object:
    if isinstance(value, Decimal):
        return float(value)
    raise TypeError(f"cannot encode {type(value).__name__} in a stream payload")


def dumps_payload(payload: Any) -> bytes:
    """Compact UTF-8 JSON for a message payload (Decimal becomes a JSON number)."""
    return json.dumps(payload, separators=(",", ":"), default=_json_default).encode("utf-8")


def encode_message(
    message_id: int,
    reference_id: str,
    payload: bytes,
    payload_format: int = PAYLOAD_FORMAT_JSON,
) -> bytes:
    """One Saxo message as bytes; raises ValueError on an out-of-range id or reference id."""
    if not 0 <= message_id < 2**64:
        raise ValueError(f"message id out of range: {message_id}")
    ref = reference_id.encode("ascii")
    if len(ref) > MAX_REFERENCE_ID_BYTES:
        raise ValueError(f"reference id too long: {len(ref)} bytes")
    return b"".join(
        (
            _HEAD.pack(message_id, 0, len(ref)),
            ref,
            _TAIL.pack(payload_format, len(payload)),
            payload,
        )
    )


def encode_json_message(message_id: int, reference_id: str, payload: Any) -> bytes:
    """One Saxo message carrying `payload` as JSON."""
    return encode_message(message_id, reference_id, dumps_payload(payload))


def decode_frame(data: bytes) -> list[StreamMessage]:
    """Every Saxo message in one WebSocket binary message; raises ValueError on truncation."""
    messages: list[StreamMessage] = []
    view = memoryview(data)
    offset = 0
    end = len(data)
    while offset < end:
        if end - offset < _HEAD.size:
            raise ValueError(f"truncated message header at offset {offset}")
        message_id, _reserved, ref_len = _HEAD.unpack_from(view, offset)
        offset += _HEAD.size
        if end - offset < ref_len + _TAIL.size:
            raise ValueError(f"truncated reference id or payload header at offset {offset}")
        reference_id = bytes(view[offset : offset + ref_len]).decode("ascii")
        offset += ref_len
        payload_format, size = _TAIL.unpack_from(view, offset)
        offset += _TAIL.size
        if end - offset < size:
            raise ValueError(f"truncated payload at offset {offset}: need {size} bytes")
        payload = bytes(view[offset : offset + size])
        offset += size
        messages.append(StreamMessage(message_id, reference_id, payload_format, payload))
    return messages
