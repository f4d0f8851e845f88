"""NDJSON files of bodies (the line format of :mod:`azlogs_pipeline.publish`), with the ground
truth beside them as ``<file>.truth.json``."""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import orjson

from azlogs_pipeline.ingest.parsing import gc_paused as paused_gc
from azlogs_pipeline.publish import decode_line, encode_line

from .run import Generated, GeneratorOptions, GeneratorStream


def truth_path(path: Path) -> Path:
    return path.with_name(path.name + ".truth.json")


def _write(path: Path, bodies: Iterable[bytes]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as fh:
        for body in bodies:
            fh.write(encode_line(body))
            fh.write(b"\n")
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def _write_truth(path: Path, truth: dict[str, Any]) -> None:
    target = truth_path(path)
    tmp = target.with_name(target.name + ".tmp")
    tmp.write_bytes(orjson.dumps(truth, option=orjson.OPT_INDENT_2) + b"\n")
    os.replace(tmp, target)


def write_ndjson(result: Generated, path: Path) -> Path:
    """Write ``result.bodies`` one per line and its ground truth beside; returns ``path``."""
    path = Path(path)
    _write(path, result.bodies)
    _write_truth(path, result.ground_truth)
    return path


def write_ndjson_stream(opts: GeneratorOptions, path: Path) -> dict[str, Any]:
    """Generate straight to a file without holding the run in memory (for large runs); the
    bytes equal ``write_ndjson(generate(opts), path)``. Returns the ground truth."""
    path = Path(path)
    stream = GeneratorStream(opts)
    with paused_gc():
        _write(path, (body.data for body in stream))
    _write_truth(path, stream.ground_truth)
    return stream.ground_truth


def read_ndjson(path: Path) -> list[bytes]:
    """The bodies of a file written by ``write_ndjson``, byte for byte."""
    data = Path(path).read_bytes()
    lines = data.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    return [decode_line(line) for line in lines]
