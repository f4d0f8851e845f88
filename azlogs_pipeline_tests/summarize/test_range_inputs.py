"""A range of summary partitions built with its inputs read once (`summarize/inputs.py`) gives
the same partition files and manifests as building each partition on its own."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from azlogs_pipeline.ingest.batch import RawBatchWriter
from azlogs_pipeline.lake.paths import summary_root, table_hour_files
from azlogs_pipeline.local.generator import GeneratorOptions, generate
from azlogs_pipeline.normalize.hour import build_hours
from azlogs_pipeline.normalize.schemas import table_schemas
from azlogs_pipeline.summarize.build import (
    build_summaries,
    build_summary,
    connect,
    partition_key,
    summary_schema,
)
from azlogs_pipeline.summarize.inputs import RangeInputs
from azlogs_pipeline.summarize.specs import SUMMARIES, summary_spec

pytestmark = pytest.mark.slow  # a generated lake, built and summarized

START = datetime(2026, 11, 1, tzinfo=UTC)
HOURS = 12
READ_TWICE = [spec.name for spec in SUMMARIES if spec.lookback_hours and spec.grain == "hour"]


def _lake(data_dir: Path) -> None:
    generated = generate(GeneratorOptions(records=600, hours=HOURS, seed=5, start=START))
    enqueued = START + timedelta(hours=HOURS)
    writer = RawBatchWriter(data_dir, "adlogs", "0", clock=lambda: enqueued)
    for seq, body in enumerate(generated.bodies):
        writer.add_event(body, sequence_number=seq, offset=str(seq), enqueued_time=enqueued)
    writer.flush()
    build_hours(data_dir, [START + timedelta(hours=h) for h in range(HOURS)])


@pytest.fixture(scope="module")
def tables_lake(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Raw files and every table of HOURS generated hours; no summary built."""
    data_dir = tmp_path_factory.mktemp("range-lake")
    _lake(data_dir)
    return data_dir


def _files(data_dir: Path, name: str) -> dict[str, bytes]:
    root = summary_root(data_dir, name)
    return {
        str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()
    }


def test_a_range_read_once_writes_what_partitions_built_alone_write(
    tables_lake: Path, tmp_path: Path
) -> None:
    ranged, alone = tmp_path / "ranged", tmp_path / "alone"
    shutil.copytree(tables_lake, ranged)
    shutil.copytree(tables_lake, alone)
    end = START + timedelta(hours=HOURS)
    for spec in SUMMARIES:  # in order: a summary that reads another finds it built
        if spec.grain != "hour":
            continue
        built = build_summaries(ranged, spec.name, START, end)
        for hour in range(HOURS):
            if (START + timedelta(hours=hour)) in {r.window_start for r in built}:
                build_summary(alone, spec.name, START + timedelta(hours=hour))
        assert len(built) > 1, f"{spec.name}: the generated hours give it partitions"
        assert _files(ranged, spec.name) == _files(alone, spec.name), spec.name


@pytest.mark.parametrize("name", READ_TWICE)
def test_a_small_range_loads_its_inputs_once(tables_lake: Path, name: str) -> None:
    tmp_path = tables_lake  # read only
    spec = summary_spec(name)
    windows = [START + timedelta(hours=h) for h in range(HOURS)]
    end = START + timedelta(hours=HOURS)
    several = {t for t in spec.tables if len(table_hour_files(tmp_path, t, START, end)) > 1}
    with connect() as con:
        inputs = RangeInputs(
            con,
            tmp_path,
            spec,
            windows,
            lambda moment: partition_key(spec, moment),
            (lambda table: table_schemas()[table], summary_schema),
        )
        loaded = {row[0] for row in con.sql("SELECT table_name FROM duckdb_tables()").fetchall()}
        inputs.close()
        left = {row[0] for row in con.sql("SELECT table_name FROM duckdb_tables()").fetchall()}
    assert several, f"{name}: the generated hours give it inputs of several hours"
    assert {f"_range_{table}" for table in several} <= loaded
    assert not left, "close() drops what the range loaded"
