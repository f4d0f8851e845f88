"""The lake in Azurite (`AZLOGS_LAKE_URL`): real azure-storage-blob writes, reads through DuckDB's
azure extension, atomic hour replacement for readers, nothing left by killed writers."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from azlogs_pipeline import catalog
from azlogs_pipeline.catalog import refresh_catalog
from azlogs_pipeline.lake import parquet
from azlogs_pipeline.lake.parquet import drop_superseded, replace_partition_file
from azlogs_pipeline.lake.paths import (
    catalog_path,
    new_version_path,
    partition_versions,
    raw_categories,
    raw_hour_files,
    summary_hour_file,
    summary_hour_files,
    table_hour_file,
    table_hour_files,
    version_micros,
)
from azlogs_pipeline.lake.read_only import connect_read_only
from azlogs_pipeline.lake.storage import BlobPath
from azlogs_pipeline.local.azurite import DEV_ACCOUNT_KEY
from azlogs_pipeline.normalize import build_hour
from azlogs_pipeline_tests.fixtures.lake import AzuriteLake
from azlogs_pipeline_tests.normalize.raw_fixtures import write_raw
from azlogs_pipeline_tests.normalize.test_signin_logs import interactive

HOUR = datetime(2025, 3, 1, 10, tzinfo=UTC)


def _signins(count: int, hour: datetime = HOUR) -> list[dict[str, Any]]:
    records = []
    for i in range(count):
        record = interactive(f"s{hour:%H}-{i}")
        record["properties"]["createdDateTime"] = f"{hour:%Y-%m-%dT%H}:{i % 60:02d}:00Z"
        records.append(record)
    return records


def test_drains_builds_and_the_catalog_use_the_container_and_no_local_lake(
    azurite_lake: AzuriteLake, tmp_path: Path
) -> None:
    write_raw(tmp_path, _signins(7))
    assert raw_categories(tmp_path) == ["SignInLogs"]
    [raw_file] = raw_hour_files(tmp_path, "SignInLogs", HOUR)
    assert isinstance(raw_file, BlobPath)
    assert str(raw_file).startswith(
        f"az://{azurite_lake.container}/azlogs/raw/category=SignInLogs/"
    )

    result = build_hour(tmp_path, HOUR, ["signin_logs"])["signin_logs"]
    assert result.rows == 7
    refresh_catalog(tmp_path)
    with connect_read_only(tmp_path) as con:
        assert con.execute("SELECT count(*) FROM signin_logs").fetchone() == (7,)
        assert con.execute("SELECT count(*) FROM raw_records").fetchone() == (7,)

    build_hour(tmp_path, HOUR, ["signin_logs"])  # a rebuild: a second version, never doubled
    assert len(partition_versions(table_hour_file(tmp_path, "signin_logs", HOUR))) == 2
    with connect_read_only(tmp_path) as con:
        assert con.execute("SELECT count(*) FROM signin_logs").fetchone() == (7,)

    names = azurite_lake.blob_names()
    assert any(
        n.startswith("azlogs/tables/signin_logs/date=2025-03-01/hour=10/part-") for n in names
    )
    assert any(
        n.startswith("azlogs/raw/category=SignInLogs/date=2025-03-01/hour=10/") for n in names
    )
    local = sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*") if p.is_file())
    locks = [name for name in local if name.startswith("locks/")]  # the builds' writer locks
    assert locks and all(name.endswith(".lock") for name in locks)
    assert sorted(set(local) - set(locks)) == ["azlogs.duckdb"], (
        "only the catalog and the locks are local; no lake file on the disk"
    )
    key = DEV_ACCOUNT_KEY.encode()
    assert key not in catalog_path(tmp_path).read_bytes(), "the catalog holds no secret"


def test_an_hour_that_loses_its_rows_reads_as_empty_not_as_the_old_build(
    azurite_lake: AzuriteLake, tmp_path: Path
) -> None:
    target = table_hour_file(tmp_path, "signin_logs", HOUR)
    rows = pa.table({"n": [1, 2, 3]})
    path, _ = replace_partition_file(rows, target)
    assert path is not None
    path, size = replace_partition_file(rows.slice(0, 0), target)
    assert path is None and size > 0  # an empty version hides the older one
    newest = partition_versions(target)[-1]
    with catalog.duckdb.connect() as con:
        from azlogs_pipeline.lake.storage import configure_duckdb

        configure_duckdb(con)
        assert con.execute("SELECT count(*) FROM read_parquet(?)", [str(newest)]).fetchone() == (0,)
    other = table_hour_file(tmp_path, "signin_logs", HOUR + timedelta(hours=1))
    assert replace_partition_file(rows.slice(0, 0), other) == (None, 0)  # nothing to hide
    assert partition_versions(other) == []


def test_superseded_versions_go_only_after_the_grace_period(
    azurite_lake: AzuriteLake, tmp_path: Path
) -> None:
    target = table_hour_file(tmp_path, "signin_logs", HOUR)
    now = time.time()
    grace = parquet.SUPERSEDED_GRACE_SECONDS
    stamps = [now - 3 * grace, now - 2 * grace, now - 1, now]
    versions = []
    for stamp in stamps:
        version = new_version_path(target, int(stamp * 1_000_000))
        parquet.write_parquet_atomic(pa.table({"n": [1]}), version)
        versions.append(version)
    # v0 was superseded 2 graces ago: gone. v1 was superseded a second ago: stays for readers
    # that listed it. v2 and v3 stay (v3 is the newest).
    assert drop_superseded(versions, now) == 1
    assert partition_versions(target) == versions[1:]


def test_a_killed_upload_leaves_nothing_that_is_read(
    azurite_lake: AzuriteLake, tmp_path: Path
) -> None:
    write_raw(tmp_path, _signins(3))
    [landed] = raw_hour_files(tmp_path, "SignInLogs", HOUR)
    assert isinstance(landed, BlobPath)
    # A writer killed in the middle of a staged upload has put blocks but no block list.
    with azurite_lake.client() as client:
        blob = client.get_blob_client(landed.parent.key + "/killed-0-99.parquet")
        blob.stage_block("AAAA", b"PAR1 half a file")
    assert raw_hour_files(tmp_path, "SignInLogs", HOUR) == [landed]
    refresh_catalog(tmp_path)
    with connect_read_only(tmp_path) as con:
        assert con.execute("SELECT count(*) FROM raw_records").fetchone() == (3,)
    assert build_hour(tmp_path, HOUR, ["signin_logs"])["signin_logs"].rows == 3


def test_analysts_querying_while_the_hour_is_rebuilt_see_it_whole_every_time(
    azurite_lake: AzuriteLake, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A short settle time, so that within seconds readers switch to newer versions while they
    # query (the default is 10 s).
    monkeypatch.setattr(catalog, "SETTLE_SECONDS", 2)
    other = HOUR + timedelta(hours=1)
    write_raw(tmp_path, _signins(40) + _signins(25, other))
    build_hour(tmp_path, HOUR, ["signin_logs"])
    build_hour(tmp_path, other, ["signin_logs"])
    refresh_catalog(tmp_path)

    stop = threading.Event()
    rebuilds: list[int] = []
    errors: list[BaseException] = []

    def rebuild_in_a_loop() -> None:
        try:
            while not stop.is_set():
                build_hour(tmp_path, HOUR, ["signin_logs"])
                rebuilds.append(1)
        except BaseException as exc:
            errors.append(exc)

    writer = threading.Thread(target=rebuild_in_a_loop)
    writer.start()
    seen: list[tuple[int, int]] = []
    started = time.monotonic()

    def going_on() -> bool:
        # At least 5 rebuilds over at least 4 s (readers switch versions every settle second),
        # however slow the machine; at most a minute.
        elapsed = time.monotonic() - started
        return not errors and elapsed < 60 and (len(rebuilds) < 5 or elapsed < 4)

    try:
        with connect_read_only(tmp_path) as con:
            while going_on():
                per_hour = con.execute(
                    "SELECT hour(event_time), count(*) FROM signin_logs GROUP BY 1 ORDER BY 1"
                ).fetchall()
                seen.append((len(seen), len(per_hour)))
                assert per_hour == [(10, 40), (11, 25)], f"query {len(seen)} saw {per_hour}"
    finally:
        stop.set()
        writer.join()
    assert not errors, errors
    assert len(rebuilds) >= 5 and len(seen) >= 10, (len(rebuilds), len(seen))
    versions = partition_versions(table_hour_file(tmp_path, "signin_logs", HOUR))
    assert len(versions) == len(rebuilds) + 1, "superseded versions stay for the grace period"


def test_a_version_is_stamped_when_its_rows_are_written_not_when_its_build_began(
    azurite_lake: AzuriteLake, tmp_path: Path
) -> None:
    # Stamped at the start of a build longer than the readers' settle time, a version would be
    # chosen the moment it appears, also by a query that listed the area just before: that query
    # reads no file of the partition and the hour vanishes from its result (seen in a full run).
    target = table_hour_file(tmp_path, "signin_logs", HOUR)
    finished: list[float] = []

    def slow_build(local: Path) -> int:
        time.sleep(1.5)
        finished.append(time.time())
        return parquet.table_writer(pa.table({"n": [1]}))(local)

    written, _ = replace_partition_file(slow_build, target)
    assert written is not None
    stamp = version_micros(written)
    assert stamp is not None and stamp >= int(finished[0] * 1_000_000)


def test_summaries_read_the_newest_version_of_each_hour_listing_once_per_day(
    azurite_lake: AzuriteLake, tmp_path: Path
) -> None:
    hours = [HOUR - timedelta(hours=11), HOUR, HOUR + timedelta(hours=14)]  # three days
    for hour in hours:
        target = table_hour_file(tmp_path, "signin_logs", hour)
        replace_partition_file(pa.table({"n": [1]}), target)
        replace_partition_file(pa.table({"n": [1, 2]}), target)  # the newest one counts
    found = table_hour_files(tmp_path, "signin_logs", hours[0], hours[-1] + timedelta(hours=1))
    assert found == [
        partition_versions(table_hour_file(tmp_path, "signin_logs", h))[-1] for h in hours
    ]
    inner = table_hour_files(tmp_path, "signin_logs", HOUR, HOUR + timedelta(hours=1))
    assert inner == found[1:2]
    # A summary that reads another summary (session_detections reads signin_detections) lists
    # that summary's hours the same way.
    for hour in hours[1:]:
        target = summary_hour_file(tmp_path, "signin_detections", hour)
        replace_partition_file(pa.table({"n": [1]}), target)
        replace_partition_file(pa.table({"n": [1, 2]}), target)
    upstream = summary_hour_files(tmp_path, "signin_detections", hours[0], hours[-1])
    assert upstream == [
        partition_versions(summary_hour_file(tmp_path, "signin_detections", HOUR))[-1]
    ]
