"""Parse one Event Hubs event body into log records, repairing known Azure defects.

Accepted shapes: `{"records": [...]}` (the diagnostic-setting envelope, key in any casing), a bare
JSON array of records, and a single bare record object.

Parsing steps:

1. Strict JSON with orjson (a leading UTF-8 byte order mark is skipped; that is not a repair).
   orjson reads integers beyond 64 bits as floats, which would make records that differ in
   their last digits equal: a body with a run of 19 or more digits is parsed by the standard
   library instead, with such integers kept exact (`records.ExactInt`).
2. If strict parsing fails and the body is valid UTF-8, one textual repair pass, applied only to
   string tokens (text outside strings is never touched):
   - `control_chars`: raw newlines, tabs and other control characters inside a string are escaped
     (`\\n`, `\\t`, `\\u00XX`); the decoded value is what the sender meant, so nothing is lost.
   - `single_quotes`: a single-quoted key or value (outside any double-quoted string) becomes a
     double-quoted JSON string (`\\'` unescaped, `"` escaped).
   Then strict parsing again. Every record of a repaired body is marked `repaired`.
3. After any successful parse, `stray_empty_key`: a `"":""` member (empty key, empty string value)
   at a record's top level or directly inside its `properties` object is removed, and that record
   is marked `repaired`. It is valid JSON but breaks downstream consumers and carries no
   information. Deeper empty keys are left as they are (still valid JSON); looking for them would
   cost a scan of every body.

Dead letters (the original bytes are kept by the caller, with the reason given here):

- the whole event when nothing can be parsed: `empty_body`, `invalid_utf8`, `invalid_json`
  (truncated, binary garbage, unrepairable), `wrong_top_level_type`, `records_not_array`;
- partially, when some items are unusable: non-object items inside `records` (`non_object_items`)
  or unknown keys next to `records` (`extra_envelope_keys`). The object records still land; the
  whole original body is dead-lettered once with a reason naming what was not landed. A bad item
  never holds back the good records next to it, and no byte is dropped silently.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

import orjson

from azlogs_pipeline.ingest.records import ExactInt

_BOM = b"\xef\xbb\xbf"
_DIGITS_ONLY = bytes(0x30 if 0x30 <= byte <= 0x39 else 0x20 for byte in range(256))
_LONG_DIGIT_RUN = b"0" * 19
"""Every integer beyond 64 bits (above 2**64 - 1, below -2**63) has at least 19 digits."""
_INT64_MIN, _UINT64_MAX = -(2**63), 2**64 - 1
_MAX_REASON_ITEMS = 10

# A string token: double- or single-quoted, closing quote optional so a failed match never
# backtracks across the rest of the body (keeps the repair pass linear on truncated input).
_STRING_TOKEN = re.compile(
    r""""[^"\\]*(?:\\.[^"\\]*)*"?|'[^'\\]*(?:\\.[^'\\]*)*'?""",
    re.DOTALL,
)
_CONTROL_CHAR = re.compile(r"[\x00-\x1f]")
_UNESCAPED_DOUBLE_QUOTE = re.compile(r'(?<!\\)((?:\\\\)*)"')
_CONTROL_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t", "\b": "\\b", "\f": "\\f"}

REPAIR_CONTROL_CHARS = "control_chars"
REPAIR_SINGLE_QUOTES = "single_quotes"
REPAIR_STRAY_EMPTY_KEY = "stray_empty_key"


@dataclass(slots=True)
class EnvelopeRecord:
    """One record object and its position in the envelope's `records` array (not frozen: frozen
    dataclasses are several times slower to build, and this is built once per record)."""

    index: int
    record: dict[str, Any]
    repaired: bool


@dataclass(frozen=True, slots=True)
class Envelope:
    """The outcome of parsing one event body.

    `dead_letter_reason` set means the original body must be dead-lettered; `records` may still
    hold the records that could be landed (a partial dead letter).
    """

    records: list[EnvelopeRecord]
    repairs: tuple[str, ...] = ()
    dead_letter_reason: str | None = None

    @property
    def is_dead_letter(self) -> bool:
        return self.dead_letter_reason is not None


def parse_envelope(body: bytes | bytearray | memoryview) -> Envelope:
    """Parse an event body into records; never raises on bad input."""
    data = bytes(body)
    if not data or data.isspace():
        return Envelope([], dead_letter_reason="empty_body")
    if data.startswith(_BOM):
        data = data[len(_BOM) :]
    try:
        document = loads(data)
        repairs: tuple[str, ...] = ()
    except orjson.JSONDecodeError as strict_error:
        repaired = _repair_and_parse(data, strict_error)
        if isinstance(repaired, str):
            return Envelope([], dead_letter_reason=repaired)
        document, repairs = repaired
    return _build(document, repairs)


def loads(data: bytes) -> Any:
    """orjson's strict parse, with integers beyond 64 bits kept exact (see the module docstring).

    Raises orjson.JSONDecodeError for anything orjson would refuse.
    """
    if data.translate(_DIGITS_ONLY).find(_LONG_DIGIT_RUN) < 0:
        return orjson.loads(data)
    orjson.loads(data)  # refuses exactly what the fast path refuses
    return json.loads(data, parse_int=_exact_int)


def _exact_int(text: str) -> int:
    value = int(text)
    return ExactInt(value) if not _INT64_MIN <= value <= _UINT64_MAX else value


def _repair_and_parse(
    data: bytes, strict_error: orjson.JSONDecodeError
) -> tuple[Any, tuple[str, ...]] | str:
    """The repaired document and the repairs applied, or a dead-letter reason."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        return f"invalid_utf8: invalid byte at position {exc.start}"
    fixed, repairs = repair_text(text)
    if not repairs:
        return f"invalid_json: {strict_error}"
    try:
        return loads(fixed.encode()), repairs
    except orjson.JSONDecodeError:
        return f"invalid_json: {strict_error} (repair attempted: {', '.join(repairs)})"


def repair_text(text: str) -> tuple[str, tuple[str, ...]]:
    """Apply the textual repairs to string tokens; return the new text and the repairs applied."""
    applied: set[str] = set()

    def fix(match: re.Match[str]) -> str:
        token = match.group()
        if token[0] == "'":
            if len(token) < 2 or token[-1] != "'":
                return token
            applied.add(REPAIR_SINGLE_QUOTES)
            return _single_to_double(token)
        if _CONTROL_CHAR.search(token):
            applied.add(REPAIR_CONTROL_CHARS)
            return _CONTROL_CHAR.sub(_escape_control, token)
        return token

    fixed = _STRING_TOKEN.sub(fix, text)
    return fixed, tuple(sorted(applied))


def _escape_control(match: re.Match[str]) -> str:
    char = match.group()
    return _CONTROL_ESCAPES.get(char) or f"\\u{ord(char):04x}"


def _single_to_double(token: str) -> str:
    inner = token[1:-1].replace("\\'", "'")
    inner = _UNESCAPED_DOUBLE_QUOTE.sub(r'\1\\"', inner)
    inner = _CONTROL_CHAR.sub(_escape_control, inner)
    return f'"{inner}"'


def _build(document: Any, repairs: tuple[str, ...]) -> Envelope:
    items, reason = _records_of(document)
    records: list[EnvelopeRecord] = []
    bad: list[tuple[int, str]] = []
    repaired_body = bool(repairs)
    stray_found = False
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            bad.append((index, _json_type(item)))
            continue
        stray = _drop_stray_empty_keys(item)
        stray_found = stray_found or stray
        records.append(EnvelopeRecord(index, item, repaired_body or stray))
    if bad:
        reason = _join_reasons(reason, _non_object_reason(bad, len(items)))
    if stray_found:
        repairs = tuple(sorted({*repairs, REPAIR_STRAY_EMPTY_KEY}))
    return Envelope(records, repairs, reason)


def _records_of(document: Any) -> tuple[list[Any], str | None]:
    """The record candidates of a parsed body and, if part of it cannot land, why."""
    if isinstance(document, list):
        return document, None
    if not isinstance(document, dict):
        return [], f"wrong_top_level_type: {_json_type(document)}"
    key = _records_key(document)
    if key is None:
        return [document], None
    items = document[key]
    if not isinstance(items, list):
        return [], f"records_not_array: {_json_type(items)}"
    extra = [k for k in document if k != key]
    if extra:
        return items, f"extra_envelope_keys: {_preview(extra)}"
    return items, None


def _records_key(document: dict[str, Any]) -> str | None:
    if "records" in document:
        return "records"
    return next((k for k in document if k.lower() == "records"), None)


def _drop_stray_empty_keys(record: dict[str, Any]) -> bool:
    """Remove `"": ""` from the record and its `properties`; True if any was removed."""
    properties = record.get("properties")
    nested = properties if type(properties) is dict else None
    if "" not in record and (nested is None or "" not in nested):
        return False
    removed_top = _drop_empty_member(record)
    removed_nested = nested is not None and _drop_empty_member(nested)
    return removed_top or removed_nested


def _drop_empty_member(mapping: dict[str, Any]) -> bool:
    if "" in mapping and mapping[""] == "":
        del mapping[""]
        return True
    return False


def _non_object_reason(bad: list[tuple[int, str]], total: int) -> str:
    shown = ", ".join(f"{index} ({kind})" for index, kind in bad[:_MAX_REASON_ITEMS])
    more = f" and {len(bad) - _MAX_REASON_ITEMS} more" if len(bad) > _MAX_REASON_ITEMS else ""
    return f"non_object_items: {len(bad)} of {total} items are not objects: {shown}{more}"


def _join_reasons(first: str | None, second: str) -> str:
    return second if first is None else f"{first}; {second}"


def _preview(keys: list[str]) -> str:
    shown = ", ".join(repr(k[:40]) for k in keys[:_MAX_REASON_ITEMS])
    return shown + (
        f" and {len(keys) - _MAX_REASON_ITEMS} more" if len(keys) > _MAX_REASON_ITEMS else ""
    )


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"
