"""AMQP messages as Event Hubs sees them: split publications, build stored events and replies.

A stored event is encoded once, at publish time, exactly as a consumer receives it: the
producer's header section, a message-annotations section with the service annotations
(sequence number, offset, enqueued time, partition key) followed by the producer's own
annotations, then the producer's properties, application properties, body and footer sections
byte for byte. Sending it later is a copy, plus optional delivery annotations after the header.
"""

from __future__ import annotations

import struct
from typing import Any, NamedTuple

from .codec import Buffer, DecodeError, Described, Int, Symbol, ULong, decode, encode, skip
from .codec import map_entries as _map_entries

BATCH_FORMAT = 0x80013700

HEADER = 0x70
DELIVERY_ANNOTATIONS = 0x71
MESSAGE_ANNOTATIONS = 0x72
PROPERTIES = 0x73
APPLICATION_PROPERTIES = 0x74
DATA = 0x75
SEQUENCE = 0x76
VALUE = 0x77
FOOTER = 0x78

_SECTION_NAMES = {
    "amqp:header:list": HEADER,
    "amqp:delivery-annotations:map": DELIVERY_ANNOTATIONS,
    "amqp:message-annotations:map": MESSAGE_ANNOTATIONS,
    "amqp:properties:list": PROPERTIES,
    "amqp:application-properties:map": APPLICATION_PROPERTIES,
    "amqp:data:binary": DATA,
    "amqp:amqp-sequence:list": SEQUENCE,
    "amqp:amqp-value:*": VALUE,
    "amqp:footer:map": FOOTER,
}

SEQUENCE_NUMBER_KEY = "x-opt-sequence-number"
OFFSET_KEY = "x-opt-offset"
ENQUEUED_TIME_KEY = "x-opt-enqueued-time"
PARTITION_KEY_KEY = "x-opt-partition-key"
_SERVICE_KEYS = frozenset((SEQUENCE_NUMBER_KEY, OFFSET_KEY, ENQUEUED_TIME_KEY, PARTITION_KEY_KEY))

_K_SEQ = encode(Symbol(SEQUENCE_NUMBER_KEY))
_K_OFFSET = encode(Symbol(OFFSET_KEY))
_K_TIME = encode(Symbol(ENQUEUED_TIME_KEY))
_K_PKEY = encode(Symbol(PARTITION_KEY_KEY))
_LONG = struct.Struct(">Bq")
_ANNOTATIONS = struct.Struct(">4sII")
_K_LAST_SEQ = encode(Symbol("last_enqueued_sequence_number"))
_K_LAST_OFFSET = encode(Symbol("last_enqueued_offset"))
_K_LAST_TIME = encode(Symbol("last_enqueued_time_utc"))
_K_RETRIEVAL = encode(Symbol("runtime_info_retrieval_time_utc"))


class Publication(NamedTuple):
    """One event as published, before the service assigns its position."""

    header: bytes
    annotations: bytes  # the producer's own annotation entries (keys and values, encoded)
    annotation_count: int
    rest: list[Buffer]  # properties .. footer sections, raw
    partition_key: str | None


def _section_starts(buf: Buffer, pos: int, end: int) -> list[tuple[int, int, int, int]]:
    found = []
    while pos < end:
        if buf[pos] != 0x00:
            raise DecodeError("message section is not a described type")
        descriptor, value_pos = decode(buf, pos + 1)
        code = _SECTION_NAMES.get(descriptor, -1) if isinstance(descriptor, str) else descriptor
        value_end = skip(buf, value_pos)
        if value_end > end:
            raise DecodeError("message section runs past the end of the message")
        found.append((int(code), pos, value_pos, value_end))
        pos = value_end
    return found


def _parse_one(buf: memoryview, default_key: str | None) -> Publication:
    header = b""
    annotations: list[bytes] = []
    partition_key = default_key
    rest: list[Buffer] = []
    for code, start, value_pos, end in _section_starts(buf, 0, len(buf)):
        if code == HEADER:
            header = bytes(buf[start:end])
        elif code == MESSAGE_ANNOTATIONS:
            entries, _ = _map_entries(buf, value_pos)
            for key, raw in entries:
                if key == PARTITION_KEY_KEY:
                    value, _ = decode(raw)
                    partition_key = value if isinstance(value, str) else partition_key
                elif key not in _SERVICE_KEYS:
                    annotations.append(encode(key) + raw)
        elif code != DELIVERY_ANNOTATIONS:
            rest.append(buf[start:end])
    return Publication(header, b"".join(annotations), len(annotations), rest, partition_key)


def split_publication(payload: memoryview, message_format: int) -> list[Publication]:
    """Turn one transfer's payload into events; a batch (format 0x80013700) yields one per item."""
    if message_format != BATCH_FORMAT:
        return [_parse_one(payload, None)]
    outer = _section_starts(payload, 0, len(payload))
    batch_key = None
    for code, _, value_pos, _ in outer:
        if code == MESSAGE_ANNOTATIONS:
            for key, raw in _map_entries(payload, value_pos)[0]:
                if key == PARTITION_KEY_KEY:
                    value, _ = decode(raw)
                    batch_key = value if isinstance(value, str) else None
    events = []
    for code, _, value_pos, _ in outer:
        if code == DATA:
            start, end = _binary_span(payload, value_pos)
            events.append(_parse_one(payload[start:end], batch_key))
    return events


def _binary_span(buf: Buffer, pos: int) -> tuple[int, int]:
    constructor = buf[pos]
    if constructor == 0xA0:
        return pos + 2, pos + 2 + buf[pos + 1]
    if constructor == 0xB0:
        return pos + 5, pos + 5 + struct.unpack_from(">I", buf, pos + 1)[0]
    raise DecodeError("batch item is not a binary data section")


def stored_event(
    pub: Publication, sequence_number: int, offset: int, enqueued_ms: int
) -> tuple[bytes, int]:
    """Encode an event as consumers receive it; return ``(bytes, header length)``."""
    offset_str = str(offset).encode("ascii")
    service = [
        _K_SEQ,
        _LONG.pack(0x81, sequence_number),
        _K_OFFSET,
        b"\xa1" + bytes((len(offset_str),)) + offset_str,
        _K_TIME,
        _LONG.pack(0x83, enqueued_ms),
    ]
    count = 3
    if pub.partition_key is not None:
        service += [_K_PKEY, encode(pub.partition_key)]
        count += 1
    body = b"".join(service)
    size = len(body) + len(pub.annotations) + 4
    annotations = _ANNOTATIONS.pack(b"\x00\x53\x72\xd1", size, 2 * (count + pub.annotation_count))
    blob = b"".join([pub.header, annotations, body, pub.annotations, *pub.rest])
    return blob, len(pub.header)


def delivery_annotations(last_sequence: int, last_offset: int, last_ms: int, now_ms: int) -> bytes:
    """The last-enqueued-event delivery annotations a receiver asks for with a runtime metric."""
    offset_str = str(last_offset).encode("ascii")
    body = b"".join(
        [
            _K_LAST_SEQ,
            _LONG.pack(0x81, last_sequence),
            _K_LAST_OFFSET,
            b"\xa1" + bytes((len(offset_str),)) + offset_str,
            _K_LAST_TIME,
            _LONG.pack(0x83, last_ms),
            _K_RETRIEVAL,
            _LONG.pack(0x83, now_ms),
        ]
    )
    return b"\x00\x53\x71\xd1" + struct.pack(">II", len(body) + 4, 8) + body


class Request(NamedTuple):
    message_id: Any
    reply_to: str | None
    application_properties: dict[str, Any]
    value: Any


def parse_request(payload: Buffer) -> Request:
    """Decode a small request message (CBS or management) completely."""
    properties: list[Any] = []
    application: dict[str, Any] = {}
    value: Any = None
    for code, _, value_pos, _ in _section_starts(payload, 0, len(payload)):
        decoded, _ = decode(payload, value_pos)
        if code == PROPERTIES:
            properties = list(decoded or [])
        elif code == APPLICATION_PROPERTIES:
            application = {str(k): v for k, v in (decoded or {}).items()}
        elif code in (VALUE, DATA):
            value = decoded
    properties += [None] * (13 - len(properties))
    return Request(properties[0], properties[4], application, value)


def build_reply(
    correlation_id: Any, status: int, description: str, value: Any, extra: dict | None = None
) -> bytes:
    """A management / CBS reply: properties, status in application properties, amqp-value body."""
    props = [None] * 13
    props[5] = correlation_id
    application = {
        "status-code": Int(status),
        "status-description": description,
        "statusCode": Int(status),
        "statusDescription": description,
        **(extra or {}),
    }
    return b"".join(
        [
            encode(Described(ULong(PROPERTIES), props)),
            encode(Described(ULong(APPLICATION_PROPERTIES), application)),
            encode(Described(ULong(VALUE), value)),
        ]
    )
