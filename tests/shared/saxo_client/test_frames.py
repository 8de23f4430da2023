"""Decoding Saxo binary stream messages (layout built here with struct, per saxo_api.md 3.3)."""

from __future__ import annotations

import json
import struct

import pytest

from shared.saxo_client.streaming.frames import FrameError, decode_messages


def raw_message(message_id: int, ref: str, payload: object, fmt: int = 0) -> bytes:
    body = json.dumps(payload).encode()
    return (
        struct.pack("<Q", message_id)
        + b"\x00\x00"
        + bytes([len(ref)])
        + ref.encode("ascii")
        + bytes([fmt])
        + struct.pack("<I", len(body))
        + body
    )


def test_one_frame_with_several_messages_decodes_all_in_order() -> None:
    frame = (
        raw_message(7, "p10606_1", {"Quote": {"Mid": 1.5}})
        + raw_message(8, "_heartbeat", [{"ReferenceId": "_heartbeat", "Heartbeats": []}])
        + raw_message(9, "p4913_2", {"Quote": {"Bid": 6000.25}})
    )

    messages = decode_messages(frame)

    assert [(m.message_id, m.reference_id) for m in messages] == [
        (7, "p10606_1"),
        (8, "_heartbeat"),
        (9, "p4913_2"),
    ]
    assert messages[2].payload == {"Quote": {"Bid": 6000.25}}
    assert messages[1].is_control and not messages[0].is_control


def test_large_message_ids_use_all_64_bits() -> None:
    messages = decode_messages(raw_message(2**63 + 5, "r", {}))

    assert messages[0].message_id == 2**63 + 5


def test_truncated_payload_is_an_error() -> None:
    frame = raw_message(1, "ref", {"Quote": {"Bid": 1}})

    with pytest.raises(FrameError, match="payload of ref"):
        decode_messages(frame[:-3])


def test_truncated_header_is_an_error() -> None:
    with pytest.raises(FrameError, match="truncated header"):
        decode_messages(raw_message(1, "a", {}) + b"\x01\x02")


def test_protobuf_data_payload_is_not_parsed() -> None:
    frame = raw_message(3, "ref", {"x": 1}, fmt=1)

    assert decode_messages(frame)[0].payload is None
