"""AMQP 1.0 type system: encode Python values to AMQP bytes and decode them back.

Plain Python values map to their natural AMQP type (``int`` -> long, ``str`` -> string, ``bytes``
-> binary, ``list`` -> list, ``dict`` -> map). The wrapper classes below select the other types,
and decoding returns the same wrappers, so a decoded value re-encodes to the same AMQP type.
"""

from __future__ import annotations

import struct
import uuid
from collections.abc import Callable
from typing import Any, NamedTuple


class Symbol(str):
    """AMQP symbol (ASCII name, e.g. ``com.microsoft:epoch``)."""

    __slots__ = ()


class UByte(int):
    __slots__ = ()


class UShort(int):
    __slots__ = ()


class UInt(int):
    __slots__ = ()


class ULong(int):
    __slots__ = ()


class Byte(int):
    __slots__ = ()


class Short(int):
    __slots__ = ()


class Int(int):
    __slots__ = ()


class Timestamp(int):
    """Milliseconds since the Unix epoch."""

    __slots__ = ()


class Float(float):
    """32-bit float (a plain ``float`` encodes as a 64-bit double)."""

    __slots__ = ()


class Char(str):
    __slots__ = ()


class Described(NamedTuple):
    descriptor: Any
    value: Any


class Array(list):
    """AMQP array: all elements share one type, given by ``kind`` (e.g. ``Symbol``, ``str``)."""

    def __init__(self, items: Any = (), kind: type = Symbol) -> None:
        super().__init__(items)
        self.kind = kind


class DecodeError(ValueError):
    pass


_B = struct.Struct(">B")
_b = struct.Struct(">b")
_H = struct.Struct(">H")
_h = struct.Struct(">h")
_I = struct.Struct(">I")
_i = struct.Struct(">i")
_Q = struct.Struct(">Q")
_q = struct.Struct(">q")
_f = struct.Struct(">f")
_d = struct.Struct(">d")
_BB = struct.Struct(">BB")
_II = struct.Struct(">II")
_BBB = struct.Struct(">BBB")

# ---------------------------------------------------------------- encoding


def encode(value: Any) -> bytes:
    """Encode one value (with its constructor) to AMQP bytes."""
    out = bytearray()
    _encode_into(out, value)
    return bytes(out)


def _encode_variable(out: bytearray, small: int, large: int, data: bytes) -> None:
    n = len(data)
    if n < 256:
        out += _BB.pack(small, n)
    else:
        out.append(large)
        out += _I.pack(n)
    out += data


def _encode_compound(out: bytearray, small: int, large: int, count: int, body: bytes) -> None:
    if len(body) + 1 < 256 and count < 256:
        out += _BBB.pack(small, len(body) + 1, count)
    else:
        out.append(large)
        out += _II.pack(len(body) + 4, count)
    out += body


def _encode_int(out: bytearray, value: int) -> None:
    cls = type(value)
    if cls is UInt:
        if value == 0:
            out.append(0x43)
        elif value < 256:
            out += _BB.pack(0x52, value)
        else:
            out.append(0x70)
            out += _I.pack(value)
    elif cls is ULong:
        if value == 0:
            out.append(0x44)
        elif value < 256:
            out += _BB.pack(0x53, value)
        else:
            out.append(0x80)
            out += _Q.pack(value)
    elif cls is Timestamp:
        out.append(0x83)
        out += _q.pack(value)
    elif cls is UByte:
        out += _BB.pack(0x50, value)
    elif cls is UShort:
        out.append(0x60)
        out += _H.pack(value)
    elif cls is Byte:
        out.append(0x51)
        out += _b.pack(value)
    elif cls is Short:
        out.append(0x61)
        out += _h.pack(value)
    elif cls is Int:
        if -128 <= value <= 127:
            out.append(0x54)
            out += _b.pack(value)
        else:
            out.append(0x71)
            out += _i.pack(value)
    elif -128 <= value <= 127:
        out.append(0x55)
        out += _b.pack(value)
    else:
        out.append(0x81)
        out += _q.pack(value)


def _encode_into(out: bytearray, value: Any) -> None:
    if value is None:
        out.append(0x40)
    elif value is True:
        out.append(0x41)
    elif value is False:
        out.append(0x42)
    elif isinstance(value, int):
        _encode_int(out, value)
    elif isinstance(value, str):
        if isinstance(value, Symbol):
            _encode_variable(out, 0xA3, 0xB3, value.encode("ascii"))
        elif isinstance(value, Char):
            out.append(0x73)
            out += _I.pack(ord(value))
        else:
            _encode_variable(out, 0xA1, 0xB1, value.encode("utf-8"))
    elif isinstance(value, bytes | bytearray | memoryview):
        _encode_variable(out, 0xA0, 0xB0, bytes(value))
    elif isinstance(value, Described):
        out.append(0x00)
        _encode_into(out, value.descriptor)
        _encode_into(out, value.value)
    elif isinstance(value, Array):
        _encode_array(out, value)
    elif isinstance(value, list | tuple):
        if not value:
            out.append(0x45)
            return
        body = bytearray()
        for item in value:
            _encode_into(body, item)
        _encode_compound(out, 0xC0, 0xD0, len(value), bytes(body))
    elif isinstance(value, dict):
        body = bytearray()
        for key, item in value.items():
            _encode_into(body, key)
            _encode_into(body, item)
        _encode_compound(out, 0xC1, 0xD1, 2 * len(value), bytes(body))
    elif isinstance(value, uuid.UUID):
        out.append(0x98)
        out += value.bytes
    elif isinstance(value, float):
        if isinstance(value, Float):
            out.append(0x72)
            out += _f.pack(value)
        else:
            out.append(0x82)
            out += _d.pack(value)
    else:
        raise TypeError(f"cannot encode {type(value).__name__} as AMQP")


_ARRAY_FORMATS: dict[type, tuple[int, Callable[[Any], bytes]]] = {
    Symbol: (0xB3, lambda v: _I.pack(len(v)) + v.encode("ascii")),
    str: (0xB1, lambda v: _I.pack(len(v.encode("utf-8"))) + v.encode("utf-8")),
    bytes: (0xB0, lambda v: _I.pack(len(v)) + bytes(v)),
    UInt: (0x70, _I.pack),
    ULong: (0x80, _Q.pack),
    int: (0x81, _q.pack),
    Int: (0x71, _i.pack),
    Timestamp: (0x83, _q.pack),
    bool: (0x56, lambda v: b"\x01" if v else b"\x00"),
}


def _encode_array(out: bytearray, value: Array) -> None:
    if not value:
        # pyamqp cannot parse an empty array that carries its element constructor; send null.
        out.append(0x40)
        return
    constructor, pack = _ARRAY_FORMATS[value.kind]
    body = bytes([constructor]) + b"".join(pack(item) for item in value)
    _encode_compound(out, 0xE0, 0xF0, len(value), body)


# ---------------------------------------------------------------- decoding

Buffer = bytes | bytearray | memoryview
_Decoder = Callable[[Buffer, int], tuple[Any, int]]


def decode(buf: Buffer, pos: int = 0) -> tuple[Any, int]:
    """Decode one value at ``pos``; return it and the position after it."""
    try:
        return _DECODERS[buf[pos]](buf, pos + 1)
    except (IndexError, struct.error, TypeError, UnicodeDecodeError) as exc:
        raise DecodeError(f"malformed AMQP value at byte {pos}: {exc}") from exc


def _fixed(unpack: Callable[[Buffer, int], tuple[Any, ...]], width: int, cls: type) -> _Decoder:
    def dec(buf: Buffer, pos: int) -> tuple[Any, int]:
        return cls(unpack(buf, pos)[0]), pos + width

    return dec


def _constant(value: Any) -> _Decoder:
    def dec(buf: Buffer, pos: int) -> tuple[Any, int]:
        return value, pos

    return dec


def _variable(width: int, convert: Callable[[bytes], Any]) -> _Decoder:
    unpack = _B.unpack_from if width == 1 else _I.unpack_from

    def dec(buf: Buffer, pos: int) -> tuple[Any, int]:
        (n,) = unpack(buf, pos)
        start = pos + width
        end = start + n
        if end > len(buf):
            raise DecodeError("truncated variable-width value")
        return convert(bytes(buf[start:end])), end

    return dec


def _compound(width: int, is_map: bool) -> _Decoder:
    unpack = _BB.unpack_from if width == 1 else _II.unpack_from

    def dec(buf: Buffer, pos: int) -> tuple[Any, int]:
        size, count = unpack(buf, pos)
        end = pos + width + size
        pos += 2 * width
        items = []
        for _ in range(count):
            item, pos = _DECODERS[buf[pos]](buf, pos + 1)
            items.append(item)
        if pos != end:
            raise DecodeError("compound size does not match its contents")
        if is_map:
            return dict(zip(items[::2], items[1::2], strict=True)), end
        return items, end

    return dec


def _array(width: int) -> _Decoder:
    unpack = _BB.unpack_from if width == 1 else _II.unpack_from

    def dec(buf: Buffer, pos: int) -> tuple[Any, int]:
        size, count = unpack(buf, pos)
        end = pos + width + size
        if count == 0:
            return Array(), end
        pos += 2 * width
        constructor = buf[pos]
        pos += 1
        descriptor = None
        if constructor == 0x00:
            descriptor, pos = decode(buf, pos)
            constructor = buf[pos]
            pos += 1
        element = _DECODERS[constructor]
        items = Array(kind=_ARRAY_KINDS.get(constructor, object))
        for _ in range(count):
            item, pos = element(buf, pos)
            items.append(Described(descriptor, item) if descriptor is not None else item)
        return items, end

    return dec


def _described(buf: Buffer, pos: int) -> tuple[Any, int]:
    descriptor, pos = _DECODERS[buf[pos]](buf, pos + 1)
    value, pos = _DECODERS[buf[pos]](buf, pos + 1)
    return Described(descriptor, value), pos


def _invalid(buf: Buffer, pos: int) -> tuple[Any, int]:
    raise DecodeError(f"unknown AMQP constructor 0x{buf[pos - 1]:02x}")


def _decimal(width: int) -> _Decoder:
    def dec(buf: Buffer, pos: int) -> tuple[Any, int]:
        return bytes(buf[pos : pos + width]), pos + width

    return dec


_DECODERS: list[_Decoder] = [_invalid] * 256
_DECODERS[0x00] = _described
_DECODERS[0x40] = _constant(None)
_DECODERS[0x41] = _constant(True)
_DECODERS[0x42] = _constant(False)
_DECODERS[0x43] = _constant(UInt(0))
_DECODERS[0x44] = _constant(ULong(0))
_DECODERS[0x45] = lambda buf, pos: ([], pos)
_DECODERS[0x50] = _fixed(_B.unpack_from, 1, UByte)
_DECODERS[0x51] = _fixed(_b.unpack_from, 1, Byte)
_DECODERS[0x52] = _fixed(_B.unpack_from, 1, UInt)
_DECODERS[0x53] = _fixed(_B.unpack_from, 1, ULong)
_DECODERS[0x54] = _fixed(_b.unpack_from, 1, Int)
_DECODERS[0x55] = _fixed(_b.unpack_from, 1, int)
_DECODERS[0x56] = lambda buf, pos: (buf[pos] == 1, pos + 1)
_DECODERS[0x60] = _fixed(_H.unpack_from, 2, UShort)
_DECODERS[0x61] = _fixed(_h.unpack_from, 2, Short)
_DECODERS[0x70] = _fixed(_I.unpack_from, 4, UInt)
_DECODERS[0x71] = _fixed(_i.unpack_from, 4, Int)
_DECODERS[0x72] = _fixed(_f.unpack_from, 4, Float)
_DECODERS[0x73] = lambda buf, pos: (Char(chr(_I.unpack_from(buf, pos)[0])), pos + 4)
_DECODERS[0x74] = _decimal(4)
_DECODERS[0x80] = _fixed(_Q.unpack_from, 8, ULong)
_DECODERS[0x81] = _fixed(_q.unpack_from, 8, int)
_DECODERS[0x82] = _fixed(_d.unpack_from, 8, float)
_DECODERS[0x83] = _fixed(_q.unpack_from, 8, Timestamp)
_DECODERS[0x84] = _decimal(8)
_DECODERS[0x94] = _decimal(16)
_DECODERS[0x98] = lambda buf, pos: (uuid.UUID(bytes=bytes(buf[pos : pos + 16])), pos + 16)
_DECODERS[0xA0] = _variable(1, bytes)
_DECODERS[0xA1] = _variable(1, lambda b: b.decode("utf-8"))
_DECODERS[0xA3] = _variable(1, lambda b: Symbol(b.decode("ascii")))
_DECODERS[0xB0] = _variable(4, bytes)
_DECODERS[0xB1] = _variable(4, lambda b: b.decode("utf-8"))
_DECODERS[0xB3] = _variable(4, lambda b: Symbol(b.decode("ascii")))
_DECODERS[0xC0] = _compound(1, is_map=False)
_DECODERS[0xC1] = _compound(1, is_map=True)
_DECODERS[0xD0] = _compound(4, is_map=False)
_DECODERS[0xD1] = _compound(4, is_map=True)
_DECODERS[0xE0] = _array(1)
_DECODERS[0xF0] = _array(4)

_ARRAY_KINDS: dict[int, type] = {
    0xA3: Symbol,
    0xB3: Symbol,
    0xA1: str,
    0xB1: str,
    0xA0: bytes,
    0xB0: bytes,
    0x70: UInt,
    0x52: UInt,
    0x43: UInt,
    0x80: ULong,
    0x53: ULong,
    0x44: ULong,
    0x81: int,
    0x55: int,
    0x71: Int,
    0x54: Int,
    0x83: Timestamp,
    0x56: bool,
}

# ---------------------------------------------------------------- skipping

_FIXED_WIDTH: dict[int, int] = {
    **dict.fromkeys((0x40, 0x41, 0x42, 0x43, 0x44, 0x45), 0),
    **dict.fromkeys((0x50, 0x51, 0x52, 0x53, 0x54, 0x55, 0x56), 1),
    **dict.fromkeys((0x60, 0x61), 2),
    **dict.fromkeys((0x70, 0x71, 0x72, 0x73, 0x74), 4),
    **dict.fromkeys((0x80, 0x81, 0x82, 0x83, 0x84), 8),
    **dict.fromkeys((0x94, 0x98), 16),
}
_SIZE1 = frozenset((0xA0, 0xA1, 0xA3, 0xC0, 0xC1, 0xE0))
_SIZE4 = frozenset((0xB0, 0xB1, 0xB3, 0xD0, 0xD1, 0xF0))


def skip(buf: Buffer, pos: int) -> int:
    """Return the position just after the value at ``pos`` without decoding it."""
    constructor = buf[pos]
    pos += 1
    if constructor == 0x00:
        return skip(buf, skip(buf, pos))
    width = _FIXED_WIDTH.get(constructor)
    if width is not None:
        return pos + width
    if constructor in _SIZE1:
        return pos + 1 + buf[pos]
    if constructor in _SIZE4:
        return pos + 4 + _I.unpack_from(buf, pos)[0]
    raise DecodeError(f"unknown AMQP constructor 0x{constructor:02x}")


def map_entries(buf: Buffer, pos: int) -> tuple[list[tuple[Any, bytes]], int]:
    """Decode a map's keys but keep each value's raw encoding; return ``(entries, end)``."""
    constructor = buf[pos]
    if constructor == 0x40:
        return [], pos + 1
    if constructor == 0xC1:
        size, count = _BB.unpack_from(buf, pos + 1)
        start, end = pos + 3, pos + 2 + size
    elif constructor == 0xD1:
        size, count = _II.unpack_from(buf, pos + 1)
        start, end = pos + 9, pos + 5 + size
    else:
        raise DecodeError(f"expected a map, got constructor 0x{constructor:02x}")
    entries = []
    pos = start
    for _ in range(count // 2):
        key, pos = decode(buf, pos)
        value_end = skip(buf, pos)
        entries.append((key, bytes(buf[pos:value_end])))
        pos = value_end
    if pos != end:
        raise DecodeError("map size does not match its contents")
    return entries, end
