"""Binary frame layout (saxo_api.md §3.3): independent test decoder and hand-packed bytes."""

from __future__ import annotations

import struct

import pytest

from shared.saxo_sim.streaming.frames import decode_frame, encode_json_message
from tests.sim.streaming.wire import decode


def test_encoded_message_has_reference_layout_byte_for_byte() -> None:
    msg = encode_json_message(258, "ref_1", {"A": 1})

    payload = b'{"A":1}'
    expected = (
        (258).to_bytes(8, "little")
        + b"\x00\x00"
        + bytes([5])
        + b"ref_1"
        + b"\x00"
        + len(payload).to_bytes(4, "little")
        + payload
    )
    assert msg == expected


def test_independent_decoder_reads_several_messages_in_one_frame() -> None:
    frame = encode_json_message(1, "a", [{"Uic": 1}]) + encode_json_message(2, "_heartbeat", [])

    msgs = decode(frame)

    assert [(m.message_id, m.reference_id, m.payload) for m in msgs] == [
        (1, "a", [{"Uic": 1}]),
        (2, "_heartbeat", []),
    ]


def test_server_decoder_reads_hand_packed_frame_with_large_id() -> None:
    body = b'{"Quote":{"Bid":1.5}}'
    one = struct.pack("<QHB", 2**63 + 5, 0, 3) + b"xyz" + struct.pack("<BI", 0, len(body)) + body

    msgs = decode_frame(one + one)

    assert len(msgs) == 2
    assert msgs[1].message_id == 2**63 + 5
    assert msgs[1].reference_id == "xyz"
    assert msgs[1].json() == {"Quote": {"Bid": 1.5}}


def test_decoder_rejects_truncated_payload() -> None:
    frame = encode_json_message(1, "a", {"B": 2})

    with pytest.raises(ValueError, match="truncated"):
        decode_frame(frame[:-1])
