"""Malformed bodies, one defect kind each (reference: "Invalid JSON does occur").

Their records never appear in ``Generated.records``: whatever a parser salvages from them is not
a well-formed record of the run. Ground truth says for each one whether it still parses as JSON.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson

from .bodies import Body
from .rand import Rng

DEFECT_KINDS = (
    "not_json",
    "truncated",
    "single_quotes",
    "empty_key",
    "raw_newline",
    "wrong_top_level_type",
    "empty_records",
    "binary_garbage",
    "bad_category",
    "pii_removed_unquoted",
)
# Kinds whose bytes are still valid JSON (the defect is in the content, not the syntax).
VALID_JSON_DEFECTS = frozenset(
    {"empty_key", "wrong_top_level_type", "empty_records", "bad_category"}
)
_TEXTS = (
    b"upstream connect error or disconnect/reset before headers. reset reason: overflow",
    b"<Error><Code>InternalError</Code><Message>The server encountered an internal error."
    b"</Message></Error>",
    b"records: [time=2024-01-01T00:00:00Z category=SignInLogs]",
)
_BAD_CATEGORIES = (
    "../../etc/Sign In Logs",
    "..\\..\\Audit Logs ",
    "SignInLogs/../../../tmp x",
    " ../Non Interactive ",
)


def make_malformed(kind: str, rng: Rng, record: Callable[[], dict[str, Any]]) -> Body:
    """A body with defect ``kind``; ``record`` supplies a fresh well-formed record as material."""
    if kind == "not_json":
        data = rng.pick(_TEXTS)
    elif kind == "truncated":
        full = b'{"records":[' + orjson.dumps(record()) + b"," + orjson.dumps(record()) + b"]}"
        data = full[: int(len(full) * (0.1 + rng.random() * 0.8))]
    elif kind == "single_quotes":
        rec = record()
        small = {
            k: rec[k] for k in ("time", "category", "operationName", "correlationId") if k in rec
        }
        data = b"{'records': [" + orjson.dumps(small).replace(b'"', b"'") + b"]}"
    elif kind == "empty_key":
        data = b'{"records":[{"":"",' + orjson.dumps(record())[1:] + b"]}"
    elif kind == "raw_newline":
        rec = record()
        props = dict(rec.get("properties") or {})
        props["failureReasonText"] = "Invalid username\nor password.\r\nRetry later."
        rec = dict(rec, properties=props)
        data = (
            b'{"records":['
            + orjson.dumps(rec).replace(b"\\n", b"\n").replace(b"\\r", b"\r")
            + b"]}"
        )
    elif kind == "wrong_top_level_type":
        data = rng.pick((b"42", b'"records"', b"true", b"null", b"3.14159"))
    elif kind == "empty_records":
        data = b'{"records": []}'
    elif kind == "binary_garbage":
        data = b"\x1f\x8b\x08\x00" + rng.randbytes(60 + rng.randrange(400))
    elif kind == "bad_category":
        rec = dict(record(), category=rng.pick(_BAD_CATEGORIES))
        data = b'{"records":[' + orjson.dumps(rec) + b"]}"
    elif kind == "pii_removed_unquoted":
        raw = orjson.dumps(record())
        raw = raw.replace(
            b'"deviceDetail":{',
            b'"deviceDetail":{"deviceId":{PII Removed},"displayName":{PII Removed},',
            1,
        )
        if b"{PII Removed}" not in raw:
            raw = raw[:-1] + b',"deviceId":{PII Removed}}'
        data = b'{"records":[' + raw + b"]}"
    else:
        raise ValueError(f"unknown defect kind {kind!r}")
    return Body(data, [], (), "malformed", kind)
