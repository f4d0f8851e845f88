"""Archive backfill against real Azurite with the real azure-storage-blob client.

Every test uses its own days so the session-wide Azurite account can hold them all at once.
"""

from __future__ import annotations

import base64
import json
import random
from collections import Counter
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from azure.core.exceptions import ServiceRequestError
from azure.storage.blob import BlobServiceClient

from azlogs_pipeline.cli import main
from azlogs_pipeline.config import load_archive_settings
from azlogs_pipeline.ingest.archive import (
    hour_folder,
    iter_lines,
    load_archive_hour,
    load_archive_hour_from_settings,
)
from azlogs_pipeline.ingest.drain import drain_partition
from azlogs_pipeline.ingest.errors import ArchiveError, explain_archive_error
from azlogs_pipeline.ingest.records import record_id
from azlogs_pipeline.lake.paths import deadletter_root, lake_root, raw_root
from azlogs_pipeline.local import azurite
from azlogs_pipeline.local.archive import upload_archive, write_blob
from azlogs_pipeline.local.generator import GeneratorOptions, generate
from azlogs_pipeline.normalize.hour import build_hour
from azlogs_pipeline_tests.fixtures.azurite import AzuriteEndpoint
from azlogs_pipeline_tests.fixtures.emulator import send_bodies
from azlogs_pipeline_tests.fixtures.settings import local_settings

HUB = "adlogs"
TENANT = "5e0c5b51-8a1a-4c1e-9f43-0b8f0d7f6a11"
INGESTED = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.fixture
def service(azurite_endpoint: AzuriteEndpoint) -> Iterator[BlobServiceClient]:
    """A client that downloads in 4 KiB pieces, so lines straddle chunk boundaries."""
    client = BlobServiceClient.from_connection_string(
        azurite_endpoint.connection_string, max_single_get_size=4096, max_chunk_get_size=4096
    )
    yield client
    client.close()


def load(service: BlobServiceClient, data_dir: Path, hour: datetime, **kw: Any) -> Any:
    return load_archive_hour(service, data_dir, hour, clock=lambda: INGESTED, **kw)


def reversed_keys(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {key: reversed_keys(value[key]) for key in reversed(list(value))}
    if isinstance(value, list):
        return [reversed_keys(item) for item in value]
    return value


def other_serialization(record: Mapping[str, Any]) -> bytes:
    """Keys reversed at every depth, padded separators, non-ASCII as \\u escapes."""
    text = json.dumps(reversed_keys(record), ensure_ascii=True, separators=(" , ", " :  "))
    return text.encode("ascii")


def ensure_container(service: BlobServiceClient, name: str) -> None:
    if not service.get_container_client(name).exists():
        service.create_container(name)


def parquet_files(root: Path) -> list[Path]:
    return sorted(root.rglob("*.parquet")) if root.is_dir() else []


def read_all(root: Path) -> pa.Table:
    tables = [pq.read_table(path) for path in parquet_files(root)]
    return pa.concat_tables(tables) if tables else pa.table({})


def signin(n: int, hour: datetime, **extra: Any) -> dict[str, Any]:
    when = hour + timedelta(minutes=n % 60)
    return {
        "time": when.strftime("%Y-%m-%dT%H:%M:%S.%f0Z"),
        "resourceId": f"/tenants/{TENANT}/providers/Microsoft.aadiam",
        "category": "SignInLogs",
        "tenantId": TENANT,
        "operationName": "Sign-in activity",
        "properties": {
            "id": f"s-{n}",
            "createdDateTime": (when - timedelta(seconds=5)).isoformat(),
            "userDisplayName": "Zoë Łukasz",
            **extra,
        },
    }


def activity(n: int, hour: datetime) -> dict[str, Any]:
    return {
        "time": (hour + timedelta(minutes=n)).isoformat(),
        "resourceId": f"/SUBSCRIPTIONS/8A7D43B5-7863-4074-B797-0123456789AB/RESOURCEGROUPS/RG/{n}",
        "operationName": "MICROSOFT.COMPUTE/VIRTUALMACHINES/WRITE",
        "category": "Administrative",
        "resultType": "Success",
        "correlationId": f"c-{n}",
    }


def table_ids(data_dir: Path, hours: set[str]) -> dict[tuple[str, str], list[str]]:
    """Record ids of every table row, per (table, hour), after rebuilding those hours."""
    rows: dict[tuple[str, str], list[str]] = {}
    for hour in sorted(hours):
        moment = datetime.strptime(hour, "%Y-%m-%d-%H").replace(tzinfo=UTC)
        for table, result in build_hour(data_dir, moment).items():
            if result.path is not None:
                ids = pq.read_table(result.path, columns=["record_id"]).column("record_id")
                rows[(table, hour)] = sorted(ids.to_pylist())
    return rows


def test_same_hour_from_archive_and_event_hub_gives_one_copy_of_each_record(
    eventhubs_emulator_factory: Any,
    azurite_endpoint: AzuriteEndpoint,
    service: BlobServiceClient,
    tmp_path: Path,
) -> None:
    start = datetime(2025, 3, 1, 12, tzinfo=UTC)
    generated = generate(GeneratorOptions(records=300, hours=1, seed=5, start=start))
    emulator = eventhubs_emulator_factory(hubs=[HUB], partitions=1)
    send_bodies(emulator.connection_string(HUB), generated.bodies, partition_id="0")
    drained = drain_partition(local_settings(emulator, azurite_endpoint, tmp_path), HUB, "0")
    before = table_ids(tmp_path, drained.hours_touched)
    from_hub = read_all(raw_root(tmp_path))

    uploaded = upload_archive(service, generated.records, encode=other_serialization)
    loads = [load(service, tmp_path, hour) for hour in sorted(uploaded.hours)]

    everything = read_all(raw_root(tmp_path))
    is_archive = [hub.startswith("archive:") for hub in everything.column("eventhub").to_pylist()]
    archive_ids = everything.filter(pa.array(is_archive)).column("record_id").to_pylist()
    hub_ids = set(from_hub.column("record_id").to_pylist())
    assert len(archive_ids) == uploaded.records == sum(result.records for result in loads) > 250
    assert set(archive_ids) <= hub_ids, "the archive's serialization gives the Event Hub's ids"
    assert everything.num_rows == from_hub.num_rows + len(archive_ids), "both copies are raw"
    touched = set().union(*(result.hours_touched for result in loads))
    assert touched <= drained.hours_touched, "records land in the same event-time hours"
    after = table_ids(tmp_path, drained.hours_touched | touched)
    assert after == before, "every table row once, as from the Event Hub alone"
    assert all(len(ids) == len(set(ids)) for ids in after.values())


def test_load_hour_lands_records_with_their_archive_position_and_reload_replaces(
    service: BlobServiceClient, tmp_path: Path
) -> None:
    hour = datetime(2025, 4, 2, 7, tzinfo=UTC)
    records = [*(signin(n, hour) for n in range(40)), *(activity(n, hour) for n in range(5))]
    uploaded = upload_archive(service, records)
    assert uploaded.hours == {hour} and len(uploaded.blobs) == 2

    first = load(service, tmp_path, hour, max_records=7)

    assert first.records == 45 and first.dead_letters == 0 and first.lines == 45
    assert first.records_per_category == {"Administrative": 5, "SignInLogs": 40}
    assert first.hours_touched == {"2025-04-02-06", "2025-04-02-07"}
    assert {"insights-logs-signinlogs", "insights-activity-logs"} <= set(first.containers)
    assert [name.rsplit("/", 6)[1:] for name in first.blobs] == [
        ["y=2025", "m=04", "d=02", "h=07", "m=00", "PT1H.json"]
    ] * 2
    assert len(first.files) == 1 + 6 + 1, "sign-ins flushed every 7 lines, line 1 is in hour 06"
    assert first.bytes_read == sum(len(json.dumps(r)) + 1 for r in records)
    rows = read_all(raw_root(tmp_path)).sort_by("sequence_number").to_pylist()
    signins = [row for row in rows if row["category"] == "SignInLogs"]
    assert {row["eventhub"] for row in signins} == {"archive:insights-logs-signinlogs"}
    assert {row["partition_id"] for row in signins} == {
        f"resourceId=/tenants/{TENANT}/providers/microsoft.aadiam/{hour_folder(hour)}m=00/PT1H.json"
    }
    assert [row["sequence_number"] for row in signins] == list(range(1, 41))
    lengths = [len(json.dumps(r)) + 1 for r in records[:40]]
    assert [int(row["offset"]) for row in signins] == [sum(lengths[:i]) for i in range(40)]
    assert {row["enqueued_time"] for row in rows} == {hour}
    assert sorted(row["record_id"] for row in rows) == sorted(record_id(r) for r in records)

    files_before = {path: path.read_bytes() for path in parquet_files(lake_root(tmp_path))}
    again = load(service, tmp_path, hour, max_records=7)

    files_after = {path: path.read_bytes() for path in parquet_files(lake_root(tmp_path))}
    assert sorted(again.files) == sorted(first.files)
    assert files_after == files_before, "a reload rewrites the same files with the same rows"


def test_bad_lines_are_dead_lettered_with_blob_line_and_reason(
    service: BlobServiceClient, tmp_path: Path
) -> None:
    hour = datetime(2025, 4, 3, 9, tzinfo=UTC)
    good = orjson.dumps(signin(1, hour))
    tabbed = json.dumps(signin(2, hour)).replace("Sign-in activity", "Sign-in\tactivity")
    lines = [
        good,
        b'{"time": "2025-04-03T09:10:00Z", "category": "SignInLogs", "properties": {"id": "tr',
        b"",
        tabbed.encode(),
        b"\xff\xfe not text",
        b"   ",
        orjson.dumps(signin(3, hour)) + b"\r",
        orjson.dumps(signin(4, hour)),
    ]
    name = (
        f"resourceId=/tenants/{TENANT}/providers/microsoft.aadiam/{hour_folder(hour)}m=00/PT1H.json"
    )
    ensure_container(service, "insights-logs-signinlogs")
    write_blob(service, "insights-logs-signinlogs", name, b"\n".join(lines))

    result = load(service, tmp_path, hour)

    assert (result.records, result.dead_letters, result.repaired) == (4, 2, 1)
    dead = read_all(deadletter_root(tmp_path)).sort_by("sequence_number").to_pylist()
    assert [(row["sequence_number"], row["body"]) for row in dead] == [(2, lines[1]), (5, lines[4])]
    assert dead[0]["reason"].startswith("invalid_json") and dead[1]["reason"].startswith(
        "invalid_utf8"
    )
    assert all(row["partition_id"] == name for row in dead)
    assert all(row["eventhub"] == "archive:insights-logs-signinlogs" for row in dead)
    assert [int(row["offset"]) for row in dead] == [
        len(lines[0]) + 1,
        sum(len(x) + 1 for x in lines[:4]),
    ]
    raw = read_all(raw_root(tmp_path)).sort_by("sequence_number").to_pylist()
    assert [(row["sequence_number"], row["repaired"]) for row in raw] == [
        (1, False), (4, True), (7, False), (8, False)
    ]  # fmt: skip
    assert raw[0]["record_id"] == record_id(signin(1, hour))
    assert raw[2]["record_id"] == record_id(signin(3, hour)), "a CRLF line break is not data"


# Azure turns `\\` into `/`: the first name is stored with real `..` segments.
ODD_NAMES = [
    "resourceId=\\tenants\\..\\..\\..\\..\\tmp\\escape/y=2025/m=04/d=04/h=10/m=00/PT1H.json",
    "resourceId=/tenants/Zoë space #1 %2e%2e;x=1?q&/providers/x/y=2025/m=04/d=04/h=10/m=00/PT1H.json",
    "resourceId=/.hidden/" + "deep-" * 40 + "/y=2025/m=04/d=04/h=10/m=00/PT1H.json",
]


def test_blob_names_with_odd_characters_never_leave_the_lake(
    service: BlobServiceClient, tmp_path: Path
) -> None:
    hour = datetime(2025, 4, 4, 10, tzinfo=UTC)
    container = "insights-logs-auditlogs"
    ensure_container(service, container)
    audit = {"category": "AuditLogs", "time": "2025-04-04T10:05:00Z", "properties": {"id": "a"}}
    for n, name in enumerate(ODD_NAMES):
        record = {**audit, "properties": {"id": f"a-{n}"}}
        write_blob(service, container, name, orjson.dumps(record) + b"\n{bad\n")
    data_dir = tmp_path / "data"

    result = load(service, data_dir, hour, containers=[container])

    listed = service.get_container_client(container).list_blobs(name_starts_with="resourceId=")
    this_hour = sorted(blob.name for blob in listed if hour_folder(hour) in blob.name)
    assert result.blobs == this_hour and len(result.blobs) == 3
    escaping = "resourceId=/tenants/../../../../tmp/escape/y=2025/m=04/d=04/h=10/m=00/PT1H.json"
    assert list(result.unreadable_blobs) == [escaping], "the service cannot address `..` names"
    assert result.records == 2 and result.dead_letters == 2
    written = [p.resolve() for p in tmp_path.rglob("*") if p.is_file()]
    assert written and all(p.is_relative_to(lake_root(data_dir).resolve()) for p in written)
    assert len(written) == 4 and len({p.name for p in written}) == 2, "one name per blob"
    assert all(len(p.name) < 255 for p in written)
    raw = read_all(raw_root(data_dir))
    assert sorted(raw.column("partition_id").to_pylist()) == sorted(set(result.blobs) - {escaping})


def test_hour_without_blobs_loads_nothing(service: BlobServiceClient, tmp_path: Path) -> None:
    upload_archive(service, [signin(1, datetime(2025, 4, 5, 1, tzinfo=UTC))])

    result = load(service, tmp_path, datetime(2025, 4, 5, 2, 30, tzinfo=UTC))

    assert result.hour == datetime(2025, 4, 5, 2, tzinfo=UTC)
    assert "insights-logs-signinlogs" in result.containers
    assert (result.blobs, result.records, result.files, result.hours_touched) == ([], 0, [], set())
    assert not lake_root(tmp_path).exists()


def test_settings_default_to_checkpoint_account_and_errors_hide_the_key(
    azurite_endpoint: AzuriteEndpoint, tmp_path: Path
) -> None:
    hour = datetime(2025, 4, 6, 3, tzinfo=UTC)
    env = {"AZLOGS_STORAGE_CONNECTION_STRING": azurite_endpoint.connection_string}
    client = BlobServiceClient.from_connection_string(azurite_endpoint.connection_string)
    upload_archive(client, [signin(n, hour) for n in range(3)])
    client.close()

    loaded = load_archive_hour_from_settings(load_archive_settings(env), tmp_path, hour)
    assert loaded.records == 3

    wrong_key = base64.b64encode(bytes(range(64))).decode()
    endpoint = azurite.blob_endpoint(azurite_endpoint.host, azurite_endpoint.port)
    refused_env = {
        "AZLOGS_ARCHIVE_CONNECTION_STRING": f"AccountName={azurite.DEV_ACCOUNT_NAME};"
        f"AccountKey={wrong_key};BlobEndpoint={endpoint}"
    }
    with pytest.raises(ArchiveError, match="AZLOGS_ARCHIVE_CONNECTION_STRING") as refused:
        load_archive_hour_from_settings(load_archive_settings(refused_env), tmp_path, hour)
    assert wrong_key not in str(refused.value)
    assert "refused the credentials" in str(refused.value)


def test_iter_lines_is_independent_of_chunking() -> None:
    rng = random.Random(7)
    text = (
        b"".join(
            bytes(rng.choice(b"ab{}\r ") for _ in range(rng.randrange(0, 30))) + b"\n"
            for _ in range(200)
        )
        + b"tail without newline"
    )
    expected = []
    offset = 0
    for number, line in enumerate(text.split(b"\n"), start=1):
        expected.append((number, offset, line[:-1] if line.endswith(b"\r") else line))
        offset += len(line) + 1
    for _ in range(20):
        cuts = sorted(rng.sample(range(1, len(text)), rng.randrange(0, 50)))
        chunks = [text[a:b] for a, b in zip([0, *cuts], [*cuts, len(text)], strict=True)]
        assert list(iter_lines(chunks)) == expected
    assert Counter(line for _, _, line in iter_lines([b"a\n", b"\n"])) == Counter([b"a", b""])


def test_azlogs_generate_archive_writes_a_loadable_archive(
    azurite_endpoint: AzuriteEndpoint,
    service: BlobServiceClient,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("AZLOGS_ARCHIVE_CONNECTION_STRING", azurite_endpoint.connection_string)
    args = ["generate", "--records", "60", "--hours", "1", "--start", "2025-04-07T05:00Z"]

    assert main([*args, "--seed", "3", "--archive"]) == 0

    printed = capsys.readouterr().out
    archived = int(printed.split("archived ")[1].split()[0])
    first, last = (
        datetime.strptime(hour, "%Y-%m-%d-%H").replace(tzinfo=UTC)
        for hour in printed.split("(hours ")[1].split(";")[0].split("..")
    )
    hours = [first + timedelta(hours=n) for n in range((last - first) // timedelta(hours=1) + 1)]
    loaded = sum(load(service, tmp_path, hour).records for hour in hours)
    assert archived == loaded > 50


def test_unreachable_account_error_names_the_settings_and_masks_a_sas() -> None:
    settings = load_archive_settings(
        {
            "AZLOGS_ARCHIVE_CONNECTION_STRING": "BlobEndpoint=https://a.example;SharedAccessSignature=sv=1&sig=S3CRET"
        }
    )
    sdk = ServiceRequestError(
        "Max retries exceeded with url: /?restype=container&sig=S3CRET%3D&se=1"
    )

    explained = str(explain_archive_error(sdk, settings))

    assert "AZLOGS_ARCHIVE_ACCOUNT_URL / AZLOGS_ARCHIVE_CONNECTION_STRING" in explained
    assert "S3CRET" not in explained and "sig=***" in explained
