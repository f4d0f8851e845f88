"""AMQP 1.0 frames: the 8-byte frame header and the performatives.

Every performative is sent with its full field count, empty fields as explicit nulls: the
pyamqp client in azure-eventhub reads fields at fixed positions and fails on shortened lists.
"""

from __future__ import annotations

import struct
from typing import Any, NamedTuple

from .codec import Array, Described, Symbol, UByte, UInt, ULong, UShort, decode, encode

AMQP_HEADER = b"AMQP\x00\x01\x00\x00"
SASL_HEADER = b"AMQP\x03\x01\x00\x00"
FRAME_AMQP = 0x00
FRAME_SASL = 0x01

OPEN = 0x10
BEGIN = 0x11
ATTACH = 0x12
FLOW = 0x13
TRANSFER = 0x14
DISPOSITION = 0x15
DETACH = 0x16
END = 0x17
CLOSE = 0x18
SASL_MECHANISMS = 0x40
SASL_INIT = 0x41
SASL_OUTCOME = 0x44

FIELD_COUNTS = {
    OPEN: 10,
    BEGIN: 8,
    ATTACH: 14,
    FLOW: 11,
    TRANSFER: 11,
    DISPOSITION: 6,
    DETACH: 3,
    END: 1,
    CLOSE: 1,
    SASL_MECHANISMS: 1,
    SASL_INIT: 3,
    SASL_OUTCOME: 2,
}

ERROR = ULong(0x1D)
ACCEPTED = Described(ULong(0x24), [])
SOURCE = ULong(0x28)
TARGET = ULong(0x29)

ROLE_SENDER = False
ROLE_RECEIVER = True

_HEADER = struct.Struct(">IBBH")
HEADER_SIZE = 8


class Frame(NamedTuple):
    channel: int
    type: int
    code: int
    fields: list[Any]
    payload: memoryview | None


def frame(channel: int, code: int, fields: list[Any], frame_type: int = FRAME_AMQP) -> bytes:
    """Encode one performative frame; ``fields`` must be complete."""
    if len(fields) != FIELD_COUNTS[code]:
        raise ValueError(f"performative 0x{code:02x} needs {FIELD_COUNTS[code]} fields")
    body = encode(Described(ULong(code), fields))
    return _HEADER.pack(HEADER_SIZE + len(body), 2, frame_type, channel) + body


def parse_frame(data: memoryview) -> Frame:
    """Parse a complete frame (header included); a transfer's payload stays a memoryview."""
    size, doff, frame_type, channel = _HEADER.unpack_from(data, 0)
    pos = doff * 4
    if pos >= size:
        return Frame(channel, frame_type, -1, [], None)
    body, end = decode(data, pos)
    if not isinstance(body, Described) or not isinstance(body.value, list):
        raise ValueError("frame body is not a described list")
    code = int(body.descriptor)
    fields = list(body.value)
    fields.extend([None] * (FIELD_COUNTS.get(code, 0) - len(fields)))
    payload = data[end:size] if code == TRANSFER else None
    return Frame(channel, frame_type, code, fields, payload)


def error(condition: str, description: str | None = None, info: dict | None = None) -> Described:
    return Described(ERROR, [Symbol(condition), description, info])


def symbols(names: list[str] | None) -> Array | None:
    return Array([Symbol(n) for n in names], Symbol) if names else None


def open_frame(container_id: str, max_frame_size: int, channel_max: int) -> bytes:
    return frame(
        0,
        OPEN,
        [container_id, None, UInt(max_frame_size), UShort(channel_max)] + [None] * 6,
    )


def begin_frame(
    channel: int, remote_channel: int, next_outgoing_id: int, incoming_window: int, window: int
) -> bytes:
    return frame(
        channel,
        BEGIN,
        [
            UShort(remote_channel),
            UInt(next_outgoing_id),
            UInt(incoming_window),
            UInt(window),
            UInt(0xFFFF),
            None,
            None,
            None,
        ],
    )


def attach_frame(
    channel: int,
    *,
    name: str,
    handle: int,
    role: bool,
    snd_settle_mode: int | None,
    rcv_settle_mode: int | None,
    source: Any,
    target: Any,
    initial_delivery_count: int | None,
    max_message_size: int | None,
    offered_capabilities: list[str] | None = None,
    properties: dict | None = None,
) -> bytes:
    return frame(
        channel,
        ATTACH,
        [
            name,
            UInt(handle),
            role,
            None if snd_settle_mode is None else UByte(snd_settle_mode),
            None if rcv_settle_mode is None else UByte(rcv_settle_mode),
            source,
            target,
            None,
            False,
            None if initial_delivery_count is None else UInt(initial_delivery_count),
            None if max_message_size is None else ULong(max_message_size),
            symbols(offered_capabilities),
            None,
            properties,
        ],
    )


def flow_frame(
    channel: int,
    *,
    next_incoming_id: int,
    incoming_window: int,
    next_outgoing_id: int,
    outgoing_window: int,
    handle: int | None = None,
    delivery_count: int | None = None,
    link_credit: int | None = None,
    available: int | None = None,
    drain: bool = False,
) -> bytes:
    def u(v: int | None) -> UInt | None:
        return None if v is None else UInt(v & 0xFFFFFFFF)

    return frame(
        channel,
        FLOW,
        [
            u(next_incoming_id),
            u(incoming_window),
            u(next_outgoing_id),
            u(outgoing_window),
            u(handle),
            u(delivery_count),
            u(link_credit),
            u(available),
            drain,
            False,
            None,
        ],
    )


def disposition_frame(channel: int, first: int, last: int, state: Any) -> bytes:
    return frame(
        channel,
        DISPOSITION,
        [ROLE_RECEIVER, UInt(first), UInt(last), True, state, False],
    )


def rejected(condition: str, description: str) -> Described:
    return Described(ULong(0x25), [error(condition, description)])


def detach_frame(channel: int, handle: int, closed: bool, err: Described | None = None) -> bytes:
    return frame(channel, DETACH, [UInt(handle), closed, err])


def end_frame(channel: int, err: Described | None = None) -> bytes:
    return frame(channel, END, [err])


def close_frame(err: Described | None = None) -> bytes:
    return frame(0, CLOSE, [err])


def sasl_mechanisms_frame(mechanisms: list[str]) -> bytes:
    return frame(0, SASL_MECHANISMS, [symbols(mechanisms)], FRAME_SASL)


def sasl_outcome_frame(code: int) -> bytes:
    return frame(0, SASL_OUTCOME, [UByte(code), None], FRAME_SASL)


# A transfer sent to a consumer: fixed-width fields so one struct call builds header + performative.
# handle uint, delivery-id uint, delivery-tag binary(4), message-format uint0, settled, more,
# rcv-settle-mode null, state null, resume false, aborted false, batchable false.
_TRANSFER = struct.Struct(">IBBH3sBBB" + "BI" + "BI" + "BBI" + "B" + "BB" + "BBBBB")
_TRANSFER_LIST_SIZE = 1 + 5 + 5 + 6 + 1 + 1 + 1 + 1 + 1 + 1 + 1 + 1
TRANSFER_OVERHEAD = _TRANSFER.size


def transfer_header(
    channel: int, handle: int, delivery_id: int, tag: int, more: bool, payload_size: int
) -> bytes:
    """Frame header and performative for a pre-settled transfer of ``payload_size`` bytes."""
    return _TRANSFER.pack(
        TRANSFER_OVERHEAD + payload_size,
        2,
        FRAME_AMQP,
        channel,
        b"\x00\x53\x14",
        0xC0,
        _TRANSFER_LIST_SIZE,
        11,
        0x70,
        handle,
        0x70,
        delivery_id & 0xFFFFFFFF,
        0xA0,
        0x04,
        tag & 0xFFFFFFFF,
        0x43,
        0x41,
        0x41 if more else 0x42,
        0x40,
        0x40,
        0x42,
        0x42,
        0x42,
    )
