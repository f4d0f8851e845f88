"""An event's bytes, whatever AMQP body section it was sent with.

Diagnostic settings send Data sections, but any AMQP 1.0 sender (anyone with Send rights) may send
an `amqp-value` or `amqp-sequence` body instead. The drain takes every kind, in this documented
and reversible way, then parses or dead-letters the bytes like any other body:

- **data**: the Data sections' bytes, joined (byte for byte what was sent);
- **value holding binary or text** (the SDK hands both over as bytes): those bytes;
- **any other value, and sequence bodies**: their JSON text (maps as objects, lists as arrays,
  binary and text as UTF-8 strings, numbers, booleans and null as such; a sequence body is the
  array of its sections), so `value_body={"records": [...]}` lands its records;
- **a value or sequence JSON cannot hold** (binary that is not UTF-8, a UUID, a map key that is
  not text, a timestamp the SDK decoded to a number stays a number): its AMQP encoding, as the
  SDK's encoder writes the decoded value, always dead-lettered (and should even that fail, the
  Python repr of the decoded value, said so in the reason).

Every dead-letter reason of a body that was not Data sections names its body type.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import orjson

DATA, VALUE, SEQUENCE = "data", "value", "sequence"

_JSON_SCALARS = (str, bool, int, float, type(None))


@dataclass(frozen=True, slots=True)
class EventBody:
    """The bytes to parse (or dead-letter) and where they came from."""

    data: bytes
    body_type: str
    encoding: str = "as sent"
    dead_letter_reason: str | None = None
    """Set when the bytes must be dead-lettered without parsing."""

    @property
    def note(self) -> str | None:
        """What a dead-letter reason says about the body (None for plain Data sections)."""
        if self.body_type == DATA:
            return None
        return f"AMQP {self.body_type} body, {self.encoding}"


class _NotJson(ValueError):
    pass


def event_body(event: Any) -> EventBody:
    """The bytes of a received ``EventData``, by its AMQP body type (see the module doc)."""
    body_type = getattr(event.body_type, "value", str(event.body_type))
    if body_type == DATA:
        return EventBody(b"".join(event.body), DATA)
    content = event.body
    if body_type == SEQUENCE:
        content = list(content)
    elif isinstance(content, bytes):
        return EventBody(content, VALUE, "its binary or text as sent")
    try:
        return EventBody(orjson.dumps(_jsonable(content)), body_type, "taken as JSON")
    except (_NotJson, orjson.JSONEncodeError, RecursionError) as exc:
        reason = f"the AMQP {body_type} body has no JSON form ({exc})"
    try:
        return EventBody(_amqp_encoding(content), body_type, "kept in its AMQP encoding", reason)
    except (ValueError, TypeError, RecursionError) as exc:
        return EventBody(
            repr(content).encode("utf-8", "backslashreplace"),
            body_type,
            "kept as the Python repr of the SDK's decoded value",
            f"{reason}; nor an AMQP encoding ({type(exc).__name__}: {exc})",
        )


def _jsonable(value: Any) -> Any:
    """The SDK's decoded AMQP value as plain JSON values, or _NotJson."""
    if isinstance(value, bytes):
        try:
            return value.decode("utf-8")
        except UnicodeDecodeError:
            raise _NotJson("binary that is not UTF-8") from None
    if isinstance(value, _JSON_SCALARS):
        return value
    if isinstance(value, Mapping):
        out = {}
        for key, item in value.items():
            text = _jsonable(key)
            if not isinstance(text, str):
                raise _NotJson(f"a map key of type {type(key).__name__}")
            out[text] = _jsonable(item)
        return out
    if isinstance(value, Iterable):
        return [_jsonable(item) for item in value]
    raise _NotJson(f"a value of type {type(value).__name__}")


def _amqp_encoding(value: Any) -> bytes:
    # The SDK's own AMQP encoder: the same library that decoded the value writes it back.
    from azure.eventhub._pyamqp._encode import encode_value

    output = bytearray()
    encode_value(output, value)
    return bytes(output)
