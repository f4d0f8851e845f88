"""NDJSON files of bodies: one body per line, ground truth beside it as ``<file>.truth.json``.

A body is written as-is when it is valid UTF-8 without CR or LF (every well-formed body is). Any
other body (raw newlines, binary garbage) is written as ``b64:`` followed by its standard base64;
a body that itself starts with ``b64:`` is encoded too, so every line decodes unambiguously.
"""

from __future__ import annotations

import base64
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import orjson

from azlogs_pipeline.ingest.parsing import gc_paused as paused_gc

from .run import Generated, GeneratorOptions, GeneratorStream

PREFIX = b"b64:"


def encode_line(body: bytes) -> bytes:
    if b"\n" in body or b"\r" in body or body.startswith(PREFIX):
        return PREFIX + base64.b64encode(body)
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        return PREFIX + base64.b64encode(body)
    return body


def decode_line(line: bytes) -> bytes:
    if line.startswith(PREFIX):
        return base64.b64decode(line[len(PREFIX) :], validate=True)
    return line


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
