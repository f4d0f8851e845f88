"""Deterministic synthetic Entra ID and Azure Activity logs, as an Event Hub would carry them.

    from azlogs_pipeline.local.generator import GeneratorOptions, generate, write_ndjson
    result = generate(GeneratorOptions(records=10_000, hours=24, seed=7))
    result.bodies        # event bodies (bytes), malformed ones mixed in at malformed_rate
    result.records       # every well-formed record emitted, in body order, duplicates included
    result.ground_truth  # scenarios, malformed bodies, duplicates, late records, counts, quirks

Same options and seed give byte-identical output. ``iter_bodies`` / ``write_ndjson_stream`` stream
large runs with bounded memory (wrap a long ``iter_bodies`` loop in ``paused_gc()`` for speed).
Records share constant sub-objects (locations, policy results, device details): treat them as
read-only.
"""

from __future__ import annotations

from typing import Any

from azlogs_pipeline.ingest.parsing import gc_paused as paused_gc

from .bodies import Body
from .malformed import DEFECT_KINDS, VALID_JSON_DEFECTS
from .ndjson import (
    decode_line,
    encode_line,
    read_ndjson,
    truth_path,
    write_ndjson,
    write_ndjson_stream,
)
from .quirks import QUIRK_KINDS
from .run import (
    Generated,
    GeneratorOptions,
    GeneratorStream,
    record_category,
    source_id,
)
from .scenarios import (
    DIRECTORY_KINDS,
    IMPOSSIBLE_SPEED_KMH,
    RULES,
    SCENARIO_KINDS,
    SESSION_KINDS,
    SIGNIN_SCENARIO_KINDS,
)
from .traffic import ACTIVITY_CATEGORIES, CATEGORIES, SIGNIN_CATEGORIES, USER_SIGNIN_CATEGORIES

__all__ = [
    "ACTIVITY_CATEGORIES",
    "CATEGORIES",
    "DEFECT_KINDS",
    "DIRECTORY_KINDS",
    "IMPOSSIBLE_SPEED_KMH",
    "QUIRK_KINDS",
    "RULES",
    "SCENARIO_KINDS",
    "SESSION_KINDS",
    "SIGNIN_CATEGORIES",
    "SIGNIN_SCENARIO_KINDS",
    "USER_SIGNIN_CATEGORIES",
    "VALID_JSON_DEFECTS",
    "Body",
    "Generated",
    "GeneratorOptions",
    "GeneratorStream",
    "decode_line",
    "encode_line",
    "generate",
    "iter_bodies",
    "paused_gc",
    "read_ndjson",
    "record_category",
    "source_id",
    "truth_path",
    "write_ndjson",
    "write_ndjson_stream",
]


def iter_bodies(opts: GeneratorOptions) -> GeneratorStream:
    """A stream of ``Body`` objects; read ``.ground_truth`` after exhausting it."""
    return GeneratorStream(opts)


def generate(opts: GeneratorOptions) -> Generated:
    """Run the generator to completion in memory."""
    stream = GeneratorStream(opts)
    bodies: list[bytes] = []
    records: list[dict[str, Any]] = []
    counts: list[int] = []
    with paused_gc():
        for body in stream:
            bodies.append(body.data)
            records.extend(body.records)
            counts.append(len(body.records))
    return Generated(bodies, records, stream.ground_truth, counts)
