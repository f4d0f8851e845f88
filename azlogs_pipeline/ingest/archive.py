"""Load one hour of a storage-account archive of diagnostic logs into the raw lake.

Diagnostic settings that archive to a storage account write one container per category,
`insights-logs-<category lower-cased>` (`insights-activity-logs` for the Activity log), with one
blob per resource and hour at `<resource path>/y=YYYY/m=MM/d=DD/h=HH/m=00/PT1H.json`, one JSON
record per line. The prefix before `y=` depends on the resource (`resourceId=/tenants/<tenant>/
providers/microsoft.aadiam` for Entra ID, `resourceId=/SUBSCRIPTIONS/<sub>` for the Activity log),
so the resource folders are walked level by level down to their `y=` folders, and only the
requested hour's folder is listed below each: the cost is the number of resources, not the years
of history.

Each line is one "event" of a :class:`~azlogs_pipeline.ingest.batch.RawBatchWriter`, so the
envelope repairs, record ids, event times and dead-letter rules are exactly those of the Event Hub
drain, and an hour loaded from both places collapses to one copy in the tables (the raw lake holds
both, at least once). The Event Hubs position columns say where a record came from:

- `eventhub` = `archive:<container>`;
- `partition_id` = the blob's full name;
- `sequence_number` = the line number in the blob (1-based), `offset` = the line's byte offset;
- `enqueued_time` = the start of the blob's hour (from its path): stable across reloads, and the
  event-time fallback of a record without a time of its own.

File names. One writer per blob: its files are `archive_<container>_<hash>-<blob name made safe
and hashed>-<first line>-<last line>.parquet` (`lake/paths.py` sanitizes both, so no blob name
can leave the lake). Batch boundaries depend only on the blob's lines and the flush limits, so
reloading an unchanged blob rewrites the same files with the same rows: a reload replaces, never
adds. (If the flush limits change between loads, or a blob grew, earlier files may stay beside
the new ones: more raw copies, still one table row per record.)

A listed blob that cannot be downloaded (deleted meanwhile, or a name with `..` segments that
the service normalizes away) is reported in `unreadable_blobs`, not loaded, and does not stop the
other blobs. Blank lines carry nothing and are skipped; a line that cannot be parsed even after the envelope
repairs is dead-lettered with its bytes, blob name, line number, offset and the reason. Blobs are
streamed in chunks: memory stays at one flush batch plus the longest line.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from azure.core.exceptions import (
    AzureError,
    ResourceNotFoundError,
)
from azure.storage.blob import BlobPrefix, BlobServiceClient, ContainerClient

from azlogs_pipeline.config import ArchiveSettings
from azlogs_pipeline.ingest.batch import (
    DEFAULT_MAX_BYTES,
    DEFAULT_MAX_RECORDS,
    FlushSummary,
    LandedTotals,
    RawBatchWriter,
)
from azlogs_pipeline.ingest.clients import make_archive_service_client
from azlogs_pipeline.ingest.errors import explain_archive_error
from azlogs_pipeline.lake.paths import hour_start
from azlogs_pipeline.lake.storage import LakePath

LOGS_CONTAINER_PREFIX = "insights-logs-"
ACTIVITY_CONTAINER = "insights-activity-logs"
ARCHIVE_HUB_PREFIX = "archive:"
BLOB_SUFFIX = ".json"
UNREADABLE_REASON = (
    "listed but not found when downloaded: deleted meanwhile, or a name the service cannot "
    "address (e.g. with `.` or `..` segments); copy it to a plain name and load the hour again"
)
_MAX_DEPTH = 32
"""Resource folders deeper than this are not walked (Azure's deepest paths have about a dozen)."""


@dataclass
class ArchiveLoadResult(LandedTotals):
    """What loading one archive hour did, for run metadata."""

    hour: datetime
    containers: list[str] = field(default_factory=list)
    missing_containers: list[str] = field(default_factory=list)
    """Containers asked for (AZLOGS_ARCHIVE_CONTAINERS) that the account does not have."""
    blobs: list[str] = field(default_factory=list)
    unreadable_blobs: dict[str, str] = field(default_factory=dict)
    """Listed blobs that could not be downloaded, with why: nothing of them is in the lake."""
    lines: int = 0
    bytes_read: int = 0
    files: list[LakePath] = field(default_factory=list)

    def add(self, flushed: FlushSummary) -> None:
        self.add_landed(flushed)
        self.lines += flushed.events
        self.files.extend(flushed.files)


def is_archive_container(name: str) -> bool:
    """True for the containers diagnostic settings archive to."""
    return name.startswith(LOGS_CONTAINER_PREFIX) or name == ACTIVITY_CONTAINER


def archive_hub(container: str) -> str:
    """The `eventhub` column value of records loaded from `container`."""
    return f"{ARCHIVE_HUB_PREFIX}{container}"


def hour_folder(hour: datetime) -> str:
    """`y=YYYY/m=MM/d=DD/h=HH/`: the folder of one UTC hour below a resource's path."""
    start = hour_start(hour)
    return f"y={start:%Y}/m={start:%m}/d={start:%d}/h={start:%H}/"


def load_archive_hour_from_settings(
    settings: ArchiveSettings,
    data_dir: Path,
    hour: datetime,
    **limits: Any,
) -> ArchiveLoadResult:
    """:func:`load_archive_hour` on the configured account, with Azure errors explained."""
    service = make_archive_service_client(settings)
    try:
        return load_archive_hour(
            service, data_dir, hour, containers=settings.containers or None, **limits
        )
    except AzureError as error:
        raise explain_archive_error(error, settings) from None
    finally:
        service.close()


def load_archive_hour(
    service: BlobServiceClient,
    data_dir: Path,
    hour: datetime,
    *,
    containers: Sequence[str] | None = None,
    max_records: int = DEFAULT_MAX_RECORDS,
    max_bytes: int = DEFAULT_MAX_BYTES,
    clock: Callable[[], datetime] | None = None,
) -> ArchiveLoadResult:
    """Land every archived record of the UTC hour containing `hour` in the raw lake.

    `containers` limits the load to those containers (default: every `insights-logs-*` container
    and `insights-activity-logs`). An hour without blobs loads nothing and is not an error.
    """
    start = hour_start(hour)
    result = ArchiveLoadResult(hour=start)
    names = list(containers) if containers else _archive_containers(service)
    for name in names:
        container = service.get_container_client(name)
        if containers and not container.exists():
            result.missing_containers.append(name)
            continue
        result.containers.append(name)
        for blob in hour_blobs(container, start):
            result.blobs.append(blob)
            _load_blob(container, blob, data_dir, start, result, max_records, max_bytes, clock)
    return result


def _archive_containers(service: BlobServiceClient) -> list[str]:
    found = service.list_containers(name_starts_with="insights-")
    return sorted(item.name for item in found if is_archive_container(item.name))


def hour_blobs(container: ContainerClient, hour: datetime) -> list[str]:
    """Names of the `.json` blobs of one hour in a container, sorted."""
    folder = hour_folder(hour)
    names: list[str] = []
    for resource in resource_folders(container):
        for blob in container.list_blobs(name_starts_with=resource + folder):
            if blob.name.lower().endswith(BLOB_SUFFIX):
                names.append(blob.name)
    return sorted(names)


def resource_folders(container: ContainerClient) -> Iterator[str]:
    """Every folder directly above a `y=` folder: one per archived resource."""
    pending = [("", 0)]
    while pending:
        prefix, depth = pending.pop()
        children = [
            item.name
            for item in container.walk_blobs(name_starts_with=prefix or None, delimiter="/")
            if isinstance(item, BlobPrefix)
        ]
        if any(child[len(prefix) :].startswith("y=") for child in children):
            yield prefix
        if depth < _MAX_DEPTH:
            pending.extend(
                (child, depth + 1)
                for child in reversed(children)
                if not child[len(prefix) :].startswith("y=")
            )


def iter_lines(chunks: Iterable[bytes]) -> Iterator[tuple[int, int, bytes]]:
    """(line number from 1, byte offset, line without its line break) of a chunked stream.

    A final line without a line break is yielded too; `\\r\\n` line breaks are accepted.
    """
    pending = bytearray()
    pending_offset = 0
    number = 0
    for chunk in chunks:
        pending += chunk
        begin = 0
        while True:
            end = pending.find(b"\n", begin)
            if end < 0:
                break
            number += 1
            yield number, pending_offset + begin, _strip_cr(bytes(pending[begin:end]))
            begin = end + 1
        del pending[:begin]
        pending_offset += begin
    if pending:
        yield number + 1, pending_offset, _strip_cr(bytes(pending))


def _strip_cr(line: bytes) -> bytes:
    return line[:-1] if line.endswith(b"\r") else line


def _load_blob(
    container: ContainerClient,
    blob: str,
    data_dir: Path,
    hour: datetime,
    result: ArchiveLoadResult,
    max_records: int,
    max_bytes: int,
    clock: Callable[[], datetime] | None,
) -> None:
    options: dict[str, Any] = {"max_records": max_records, "max_bytes": max_bytes}
    if clock is not None:
        options["clock"] = clock
    try:
        download = container.download_blob(blob, max_concurrency=1)
    except ResourceNotFoundError:
        result.unreadable_blobs[blob] = UNREADABLE_REASON
        return
    # An archive line's "enqueued time" is only its folder's hour: no future-time fallback.
    writer = RawBatchWriter(
        data_dir, archive_hub(container.container_name), blob, future_fallback=False, **options
    )
    result.bytes_read += download.size
    for number, offset, line in iter_lines(download.chunks()):
        if not line.strip():
            continue
        writer.add_event(line, sequence_number=number, offset=offset, enqueued_time=hour)
        if writer.is_full:
            result.add(writer.flush())
    result.add(writer.flush())
