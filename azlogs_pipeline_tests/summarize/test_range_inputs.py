"""A range of summary partitions built with its inputs read once (`summarize/inputs.py`) and its
SQL run once for many partitions (ranged queries, `summarize/build.py`) gives the same partition
files and manifests as building each partition on its own."""

from __future__ import annotations

import re
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from azlogs_pipeline.ingest.batch import RawBatchWriter
from azlogs_pipeline.lake.paths import summary_root, table_hour_files
from azlogs_pipeline.local.generator import GeneratorOptions, generate
from azlogs_pipeline.normalize.ranges import build_hours
from azlogs_pipeline.normalize.schemas import table_schemas
from azlogs_pipeline.summarize import build as build_module
from azlogs_pipeline.summarize import inputs as inputs_module
from azlogs_pipeline.summarize.build import (
    build_summaries,
    build_summary,
    connect,
    partition_key,
    read_sql,
    summary_schema,
)
from azlogs_pipeline.summarize.inputs import FILE_ROWS, RangeInputs
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


@pytest.mark.parametrize("mode", ["batches of partitions", "partition by partition"])
def test_ranges_in_batches_or_too_large_to_load_write_the_same_files(
    tables_lake: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, mode: str
) -> None:
    """Ranged queries over a few partitions each (their look-back rows exceed the batch budget),
    and inputs too large to load (read per partition): the files of partitions built alone."""
    if mode == "batches of partitions":
        monkeypatch.setattr(build_module, "range_budget", lambda: 60_000)  # batches only
    else:
        monkeypatch.setattr(inputs_module, "RANGE_LOAD_FRACTION", 1024 * 1024 * 1024)
    ranged, alone = tmp_path / "ranged", tmp_path / "alone"
    shutil.copytree(tables_lake, ranged)
    shutil.copytree(tables_lake, alone)
    end = START + timedelta(hours=HOURS)
    for name in ("signin_detections", "session_detections"):  # 14 days back; reads a summary
        built = build_summaries(ranged, name, START, end)
        for result in built:
            build_summary(alone, name, result.window_start)
        assert len(built) > 1, name
        assert _files(ranged, name) == _files(alone, name), name


SUBQUERY = re.compile(r"(\w*)\s*\(\s*SELECT\b", re.IGNORECASE)
"""A parenthesized SELECT and the word before it: after FROM, JOIN or AS (a derived table or a
CTE) it is a relation; after anything else an expression."""


@pytest.mark.parametrize("name", [spec.name for spec in SUMMARIES])
def test_summary_sql_has_no_subquery_expressions(name: str) -> None:
    """A ranged query runs the summary's SELECT as a LATERAL subquery; DuckDB 1.5.5 fails on
    (or returns more rows from) EXISTS and scalar subqueries nested in it: joins instead."""
    sql = "\n".join(line.split("--")[0] for line in read_sql(f"{name}.sql").splitlines())
    found = [
        " ".join(m.group(0).split())
        for m in SUBQUERY.finditer(sql)
        if m.group(1).upper() not in {"FROM", "JOIN", "AS"}
    ]
    found += re.findall(r"\bEXISTS\b", sql, re.IGNORECASE)
    assert not found, f"{name}.sql: a subquery expression ({found}); write it as a join"


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
    assert inputs.loaded, "small inputs are all loaded: the range runs as ranged queries"
    assert not left, "close() drops what the range loaded"


def test_summaries_of_one_run_read_each_input_file_once(tables_lake: Path, tmp_path: Path) -> None:
    """signin_logs' files, read for signin_summary, are not read again for signin_detections; a
    table hour rebuilt since is read again (its new file)."""
    lake = tmp_path / "lake"
    shutil.copytree(tables_lake, lake)
    end = START + timedelta(hours=HOURS)
    FILE_ROWS.clear()
    before = FILE_ROWS.reads
    build_summaries(lake, "signin_summary", START, end)
    read = FILE_ROWS.reads - before
    assert read == len(table_hour_files(lake, "signin_logs", START, end))
    build_summaries(lake, "signin_detections", START, end)
    assert FILE_ROWS.reads - before == read, "the same files: none read again"
    build_hours(lake, [START])
    build_summaries(lake, "signin_summary", START, end)
    assert FILE_ROWS.reads - before == read + 1, "the rebuilt hour's new file only"
