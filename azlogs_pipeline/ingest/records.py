"""Per-record fields of the raw lake: record id, event time, path-safe category and a few ids.

Record id. The canonical form of a record is `orjson.dumps(record, option=OPT_SORT_KEYS)` of the
parsed record: object keys sorted by code point at every depth, no whitespace, UTF-8 text (no
`\\uXXXX` escapes except for control characters, `"` and `\\` escaped minimally), numbers as orjson
writes the parsed value (`1` and `1.0` stay different), and integers beyond 64 bits, which orjson
cannot hold, exactly as their digits (`ExactInt`).
Because it is rebuilt from the parsed value, key order, whitespace and escaping choices of the sender
do not matter (a key repeated in one object keeps its last value, as every JSON parser does). It is
taken after envelope repairs, so a stray `"":""` does not change the id. `record_id` is the first 32 hex digits (128 bits) of SHA-256 over that form. The raw
lake stores that same canonical text in its `record` column, so `record_id` can be recomputed from
the lake alone.

Event time. Per category (compared case-insensitively), the first of these that holds a parseable
time in 1970..2999 (so Graph's `0001-01-01` "unset" sentinel falls through) is used, and its name
goes to `event_time_source`:

- `*SignInLogs`: `properties.createdDateTime`, then a top-level `createdDateTime` (PascalCase,
  Log-Analytics-style records);
- audit, provisioning, custom security attribute audit, risk events:
  `properties.activityDateTime`, then `activityDateTime`;
- risky users / service principals: `properties.riskLastUpdatedDateTime`, then
  `riskLastUpdatedDateTime`;
- every category (Activity log included), as the fallback: `time`, then `timeGenerated`, then the
  Event Hubs enqueued time (`enqueued_time`).

A time more than a day after the event's enqueued time (a sender's wrong clock, year 2999) is
absurd: the enqueued time is used and `event_time_source` says so, e.g. `enqueued_time
(properties.createdDateTime in the future)`; the original value stays in the record.

Keys match in any casing, and `properties` may be a JSON-encoded string.

Source id. The record's own id as sent: `properties.id`, or the top-level `Id` of a record without
`properties` (the Log-Analytics shape), as text; None when it has none. The raw lake keeps it as
the record's dedupe key (`lake/raw_schema.py`), so a table build finds the records that may be
versions of one event (one sign-in sent several times) without parsing every record.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta, timezone
from functools import lru_cache
from typing import Any, NamedTuple

import orjson

from azlogs_pipeline.lake.paths import INVALID_CATEGORY, is_safe_segment
from azlogs_pipeline.vocabulary import KNOWN_CATEGORIES

RECORD_ID_HEX_CHARS = 32
SOURCE_ENQUEUED_TIME = "enqueued_time"
FUTURE_TOLERANCE = timedelta(days=1)
"""A record cannot be written a day after it was enqueued: a time beyond that is absurd (a wrong
clock, 2999) and would make an hour no partition covers yet; the enqueued time is used instead."""
_MIN_YEAR, _MAX_YEAR = 1970, 2999
_MAX_TIME_TEXT = 64

_CANONICAL_CATEGORY = {name.lower(): name for name in KNOWN_CATEGORIES}

_ACTIVITY_TIME_CATEGORIES = frozenset(
    {
        "auditlogs",
        "provisioninglogs",
        "customsecurityattributeauditlogs",
        "userriskevents",
        "serviceprincipalriskevents",
    }
)
_RISK_UPDATED_CATEGORIES = frozenset({"riskyusers", "riskyserviceprincipals"})
_FALLBACK_TIME_KEYS = ("time", "timeGenerated")

_ISO = re.compile(
    r"(\d{4})-(\d{1,2})-(\d{1,2})[T ](\d{1,2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?"
    r"\s*(Z|UTC|GMT|[+-]\d{2}:?\d{2})?",
    re.IGNORECASE,
)
_US = re.compile(
    r"(\d{1,2})/(\d{1,2})/(\d{4})\s+(\d{1,2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?"
    r"(?:\s*([AP]M))?(?:\s*(Z|UTC|GMT|[+-]\d{2}:?\d{2}))?",
    re.IGNORECASE,
)
_TENANT_IN_RESOURCE = re.compile(r"/tenants/([^/]+)", re.IGNORECASE)


class ExactInt(int):
    """An integer beyond 64 bits, as parsed from a body; written to the canonical form digit for
    digit (orjson would refuse it, or read it as a float)."""


# A placeholder no sender can produce (it holds a random per-process token), swapped for the digits.
_EXACT_TOKEN = f"\x00azlogs-exact-int-{uuid.uuid4().hex}:"
_EXACT_PLACEHOLDER = re.compile(
    re.escape(orjson.dumps(_EXACT_TOKEN)[:-1]) + rb"(-?[0-9]+)\\u0000\""
)


def _exact_placeholder(value: Any) -> str:
    if isinstance(value, ExactInt):
        return f"{_EXACT_TOKEN}{int(value)}\x00"
    raise TypeError(f"Type is not JSON serializable: {type(value).__name__}")


class RecordFields(NamedTuple):
    """What the raw lake stores about one record besides its position.

    A NamedTuple rather than a dataclass: it is built once per record on the hot path, and tuple
    construction is the cheapest Python object there is. `canonical_json` comes last so the batch
    writer can keep `fields[:-1]` and move the text into one shared buffer.
    """

    record_id: str
    category: str
    category_valid: bool
    event_time: datetime
    event_time_source: str
    tenant_id: str | None
    resource_id: str | None
    operation_name: str | None
    source_id: str | None
    canonical_json: bytes


def extract_record_fields(
    record: Mapping[str, Any],
    enqueued_time: datetime,
    future_fallback: bool = True,
    with_id: bool = True,
) -> RecordFields:
    """All raw-lake fields of one record; `enqueued_time` is the last event-time fallback.

    With ``with_id=False`` the `record_id` is left empty for the caller to compute from
    `canonical_json` (the batch writer hashes on its flush thread, off the receive path)."""
    canonical = canonical_json(record)
    raw_category = get_ci(record, "category")
    category, category_valid = safe_category(raw_category)
    properties = nested_mapping(get_ci(record, "properties"))
    event_time, source = resolve_event_time(
        record, properties, raw_category, enqueued_time, future_fallback
    )
    resource_id = _text(get_ci(record, "resourceId"))
    return RecordFields(
        record_id_of(canonical) if with_id else "",
        category,
        category_valid,
        event_time,
        source,
        _tenant_id(record, properties, resource_id),
        resource_id,
        _text(get_ci(record, "operationName")),
        source_id(record, properties),
        canonical,
    )


def source_id(record: Mapping[str, Any], properties: Mapping[str, Any] | None) -> str | None:
    """The record's own id (see the module docstring): the text the table SQL reads as its id
    (`properties.id`, else a Log-Analytics record's `Id`; keys as spelled), any other JSON value
    than a string as its canonical JSON text."""
    value = properties.get("id") if properties is not None else record.get("Id")
    if value is None or isinstance(value, str):
        return value
    return canonical_json(value).decode()


def canonical_json(record: Any) -> bytes:
    """The canonical JSON form used for `record_id` (see the module docstring)."""
    try:
        return orjson.dumps(record, option=orjson.OPT_SORT_KEYS)
    except orjson.JSONEncodeError:
        marked = orjson.dumps(
            record,
            option=orjson.OPT_SORT_KEYS | orjson.OPT_PASSTHROUGH_SUBCLASS,
            default=_exact_placeholder,
        )
        return _EXACT_PLACEHOLDER.sub(rb"\1", marked)


def record_id_of(canonical: bytes | memoryview) -> str:
    """The record id of a canonical form (see the module docstring)."""
    return hashlib.sha256(canonical).hexdigest()[:RECORD_ID_HEX_CHARS]


def record_id(record: Any) -> str:
    """Deterministic id of a record: the same record serialized differently gets the same id."""
    return record_id_of(canonical_json(record))


def get_ci(mapping: Mapping[str, Any], key: str) -> Any:
    """`mapping[key]` with the key matched in any casing (exact spelling first); None if absent."""
    value = mapping.get(key)
    if value is not None:
        return value
    wanted = key.lower()
    for name, candidate in mapping.items():
        if candidate is not None and name.lower() == wanted:
            return candidate
    return None


def nested_mapping(value: Any) -> Mapping[str, Any] | None:
    """A nested object, also when it arrives JSON-encoded in a string."""
    if isinstance(value, dict | Mapping):
        return value
    if isinstance(value, str) and value.lstrip().startswith("{"):
        try:
            decoded = orjson.loads(value)
        except orjson.JSONDecodeError:
            return None
        return decoded if isinstance(decoded, dict) else None
    return None


def safe_category(value: Any) -> tuple[str, bool]:
    """(category for the lake path, valid?). Known categories get their documented casing;
    anything missing or outside [A-Za-z0-9_-]{1,64} becomes the reserved `_invalid`.

    A leading `_` is the project's (the `_invalid` marker): a sender's category that starts with
    `_` gets one more (`_invalid` -> `__invalid`), so it never mixes with the marker.
    """
    if type(value) is not str:
        return INVALID_CATEGORY, False
    return _safe_category_text(value)


@lru_cache(maxsize=1024)
def _safe_category_text(value: str) -> tuple[str, bool]:
    if value.startswith("_"):
        value = "_" + value
    if not is_safe_segment(value):
        return INVALID_CATEGORY, False
    return _CANONICAL_CATEGORY.get(value.lower(), value), True


def event_time_candidates(category: Any) -> tuple[tuple[str, bool, str], ...]:
    """(key, inside properties?, source name) to try for a category, most specific first."""
    return _candidates_for(category.lower() if isinstance(category, str) else "")


@lru_cache(maxsize=512)
def _candidates_for(lowered: str) -> tuple[tuple[str, bool, str], ...]:
    fallbacks = tuple((key, False, key) for key in _FALLBACK_TIME_KEYS)
    if lowered.endswith("signinlogs"):
        specific = "createdDateTime"
    elif lowered in _ACTIVITY_TIME_CATEGORIES:
        specific = "activityDateTime"
    elif lowered in _RISK_UPDATED_CATEGORIES:
        specific = "riskLastUpdatedDateTime"
    else:
        return fallbacks
    return ((specific, True, f"properties.{specific}"), (specific, False, specific), *fallbacks)


def resolve_event_time(
    record: Mapping[str, Any],
    properties: Mapping[str, Any] | None,
    category: Any,
    enqueued_time: datetime,
    future_fallback: bool = True,
) -> tuple[datetime, str]:
    """(event time in UTC, name of the field it came from)."""
    for key, in_properties, source in event_time_candidates(category):
        container = properties if in_properties else record
        if container is None:
            continue
        parsed = parse_event_time(get_ci(container, key))
        if parsed is not None:
            enqueued = _to_utc(enqueued_time)
            if future_fallback and parsed - enqueued > FUTURE_TOLERANCE:
                return enqueued, future_source(source)
            return parsed, source
    return _to_utc(enqueued_time), SOURCE_ENQUEUED_TIME


def future_source(source: str) -> str:
    """`event_time_source` of a record whose `source` time lay more than a day after its
    enqueued time: the enqueued time stands in, the original stays in the record itself."""
    return f"{SOURCE_ENQUEUED_TIME} ({source} in the future)"


def parse_event_time(value: Any) -> datetime | None:
    """A UTC datetime from any time format Azure sends, or None.

    ISO 8601 (any number of fractional digits, truncated to microseconds; `Z`, `+00:00`, other
    offsets; no zone means UTC; single-digit hours) and US-locale `M/D/YYYY h:mm:ss [AM|PM] [zone]`.
    """
    if type(value) is not str:
        return _normalized(value) if isinstance(value, datetime) else None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return _parse_other(value)
    return _normalized(moment)


def _parse_other(value: str) -> datetime | None:
    text = value.strip()
    if not text or len(text) > _MAX_TIME_TEXT:
        return None
    return _parse_iso_loose(text) or _parse_us(text)


def _parse_iso_loose(text: str) -> datetime | None:
    match = _ISO.fullmatch(text)
    if match is None:
        return None
    year, month, day, hour, minute, second, fraction, zone = match.groups()
    return _assemble(int(year), int(month), int(day), int(hour), minute, second, fraction, zone)


def _parse_us(text: str) -> datetime | None:
    match = _US.fullmatch(text)
    if match is None:
        return None
    month, day, year, hour_text, minute, second, fraction, meridiem, zone = match.groups()
    hour = int(hour_text)
    if meridiem is not None:
        if not 1 <= hour <= 12:
            return None
        hour = hour % 12 + (12 if meridiem.upper() == "PM" else 0)
    return _assemble(int(year), int(month), int(day), hour, minute, second, fraction, zone)


def _assemble(
    year: int,
    month: int,
    day: int,
    hour: int,
    minute: str,
    second: str | None,
    fraction: str | None,
    zone: str | None,
) -> datetime | None:
    micros = int((fraction or "0")[:6].ljust(6, "0"))
    try:
        naive = datetime(year, month, day, hour, int(minute), int(second or 0), micros)
    except ValueError:
        return None
    return _normalized(naive.replace(tzinfo=_zone(zone)))


def _zone(zone: str | None) -> timezone:
    if zone is None or zone.upper() in ("Z", "UTC", "GMT"):
        return UTC
    digits = zone[1:].replace(":", "")
    offset = timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
    return timezone(-offset if zone[0] == "-" else offset)


def _to_utc(moment: datetime) -> datetime:
    zone = moment.tzinfo
    if zone is UTC:
        return moment
    if zone is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def _normalized(moment: datetime) -> datetime | None:
    """`moment` in UTC if it lies in the plausible range, else None (sentinels, overflow)."""
    try:
        moment = _to_utc(moment)
    except OverflowError:
        return None
    return moment if _MIN_YEAR <= moment.year <= _MAX_YEAR else None


def _text(value: Any) -> str | None:
    """A short identifier as text: strings as is, numbers stringified, `{"value": ...}` unwrapped."""
    if isinstance(value, str):
        return value or None
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, Mapping):
        return _text(get_ci(value, "value"))
    return None


def _tenant_id(
    record: Mapping[str, Any], properties: Mapping[str, Any] | None, resource_id: str | None
) -> str | None:
    tenant = _text(get_ci(record, "tenantId"))
    if tenant is None and properties is not None:
        tenant = _text(get_ci(properties, "tenantId"))
    if tenant is None and resource_id is not None:
        match = _TENANT_IN_RESOURCE.search(resource_id)
        tenant = match.group(1) if match else None
    return tenant
