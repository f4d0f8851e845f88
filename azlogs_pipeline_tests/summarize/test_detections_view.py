"""The catalog view `detections`: every family's findings, signin_detections included, one set of
columns, on an empty lake and on a generated one."""

from __future__ import annotations

from pathlib import Path

import pytest

from azlogs_pipeline.catalog import refresh_catalog
from azlogs_pipeline.lake.read_only import connect_read_only
from azlogs_pipeline.summarize import SummaryResult
from azlogs_pipeline.summarize.specs import DETECTION_FAMILIES
from azlogs_pipeline_tests.summarize.generated_lake import GeneratedLake

COLUMNS = [
    "hour",
    "detection_id",
    "detection",
    "family",
    "severity",
    "entity",
    "entity_type",
    "user_id",
    "window_start",
    "window_end",
    "records",
    "distinct_users",
    "distinct_ips",
    "distinct_countries",
    "countries",
    "ip_addresses",
    "description",
    "record_ids",
]


def test_the_view_answers_on_an_empty_lake(tmp_path: Path) -> None:
    refresh_catalog(tmp_path)
    with connect_read_only(tmp_path) as con:
        relation = con.sql("SELECT * FROM detections")
        assert relation.columns == COLUMNS
        assert relation.fetchall() == []


@pytest.mark.timeout(900)  # may build every family's summaries
def test_the_view_holds_every_finding_of_every_family_once(
    generated_lake: GeneratedLake, built_summaries: dict[str, list[SummaryResult]]
) -> None:
    refresh_catalog(generated_lake.data_dir)
    expected = {
        (family, row["detection_id"], row["detection"], row["entity"])
        for family in DETECTION_FAMILIES
        for result in built_summaries[family]
        for row in result.data.to_pylist()
    }
    assert expected
    with connect_read_only(generated_lake.data_dir) as con:
        rows = con.execute(
            "SELECT family, detection_id, detection, entity, records, len(record_ids) "
            "FROM detections"
        ).fetchall()
    assert {row[:4] for row in rows} == expected
    assert len(rows) == len(expected), "each finding once"
    assert all(records == ids > 0 for *_, records, ids in rows)
