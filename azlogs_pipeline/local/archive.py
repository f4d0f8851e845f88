"""Write records into a storage account the way a diagnostic setting archives them.

One container per category (`insights-logs-<category lower-cased>`, `insights-activity-logs` for
the Activity log), one append blob per resource and hour at
`resourceId=/tenants/<tenant>/providers/microsoft.aadiam/y=YYYY/m=MM/d=DD/h=HH/m=00/PT1H.json`
(Entra ID) or `resourceId=/SUBSCRIPTIONS/<SUBSCRIPTION>/y=.../PT1H.json` (Activity log), one
record per line. A record goes to the hour of its top-level `time` (the time Azure processed it),
else of its event time. Records without a usable category or time are skipped and counted: Azure
would not have archived them under a category either.

For the local stack and the tests; `encode` lets a test serialize records differently from the
Event Hub bodies (key order, whitespace, escapes) to prove that record ids do not depend on it.
"""

from __future__ import annotations

import contextlib
import json
import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from azure.core.exceptions import ResourceExistsError
from azure.storage.blob import BlobServiceClient, BlobType

from azlogs_pipeline.ingest.archive import (
    ACTIVITY_CONTAINER,
    LOGS_CONTAINER_PREFIX,
    hour_folder,
)
from azlogs_pipeline.ingest.records import (
    SOURCE_ENQUEUED_TIME,
    extract_record_fields,
    get_ci,
    parse_event_time,
    safe_category,
)
from azlogs_pipeline.lake.paths import hour_start
from azlogs_pipeline.vocabulary import ACTIVITY_LOG_CATEGORIES

BLOB_FILE = "m=00/PT1H.json"
_ACTIVITY = frozenset(name.lower() for name in ACTIVITY_LOG_CATEGORIES)
_SUBSCRIPTION = re.compile(r"/subscriptions/([^/]+)", re.IGNORECASE)
_NO_TIME = datetime(1970, 1, 1, tzinfo=UTC)
_UNKNOWN = "00000000-0000-0000-0000-000000000000"

Encoder = Callable[[Mapping[str, Any]], bytes]


def azure_style_line(record: Mapping[str, Any]) -> bytes:
    """One archive line: Python's json with `, ` / `: ` separators and ASCII escapes."""
    return json.dumps(record, ensure_ascii=True).encode("ascii")


@dataclass
class ArchiveUpload:
    """What was uploaded: blob lines per (container, blob name), hours, and records skipped."""

    blobs: dict[tuple[str, str], int] = field(default_factory=dict)
    hours: set[datetime] = field(default_factory=set)
    records: int = 0
    skipped: int = 0


def container_for(category: str) -> str:
    """The archive container of a category."""
    if category.lower() in _ACTIVITY:
        return ACTIVITY_CONTAINER
    return LOGS_CONTAINER_PREFIX + category.lower()


def resource_folder(record: Mapping[str, Any], category: str) -> str:
    """The resource part of a blob's path, up to and including the `/` before `y=`."""
    if category.lower() in _ACTIVITY:
        match = _SUBSCRIPTION.search(str(get_ci(record, "resourceId") or ""))
        subscription = match.group(1) if match else _UNKNOWN
        return f"resourceId=/SUBSCRIPTIONS/{subscription.upper()}/"
    tenant = get_ci(record, "tenantId")
    tenant = tenant if isinstance(tenant, str) and tenant else _UNKNOWN
    return f"resourceId=/tenants/{tenant}/providers/microsoft.aadiam/"


def archive_hour_of(record: Mapping[str, Any]) -> datetime | None:
    """The hour folder a record is archived in: its `time`, else its event time, else None."""
    moment = parse_event_time(get_ci(record, "time"))
    if moment is None:
        fields = extract_record_fields(record, _NO_TIME)
        if fields.event_time_source == SOURCE_ENQUEUED_TIME:
            return None
        moment = fields.event_time
    return hour_start(moment)


def archive_blob_name(resource: str, hour: datetime) -> str:
    return f"{resource}{hour_folder(hour)}{BLOB_FILE}"


def layout(
    records: Iterable[Mapping[str, Any]], encode: Encoder = azure_style_line
) -> tuple[dict[tuple[str, str], list[bytes]], ArchiveUpload]:
    """The lines of every blob, without uploading anything."""
    blobs: dict[tuple[str, str], list[bytes]] = defaultdict(list)
    upload = ArchiveUpload()
    for record in records:
        category, valid = safe_category(get_ci(record, "category"))
        hour = archive_hour_of(record) if valid else None
        if hour is None:
            upload.skipped += 1
            continue
        name = archive_blob_name(resource_folder(record, category), hour)
        blobs[(container_for(category), name)].append(encode(record))
        upload.hours.add(hour)
        upload.records += 1
    upload.blobs = {key: len(lines) for key, lines in sorted(blobs.items())}
    return dict(blobs), upload


def upload_archive(
    service: BlobServiceClient,
    records: Iterable[Mapping[str, Any]],
    encode: Encoder = azure_style_line,
) -> ArchiveUpload:
    """Write `records` as an archive (append blobs, one record per line, replacing any blob of
    the same name); containers are created as needed."""
    blobs, upload = layout(records, encode)
    for container in sorted({container for container, _ in blobs}):
        with contextlib.suppress(ResourceExistsError):
            service.create_container(container)
    for (container, name), lines in sorted(blobs.items()):
        write_blob(service, container, name, b"".join(line + b"\n" for line in lines))
    return upload


def write_blob(service: BlobServiceClient, container: str, name: str, data: bytes) -> None:
    """Write one archive blob as an append blob, as Azure does (replacing an existing one)."""
    blob = service.get_blob_client(container, name)
    blob.upload_blob(data, blob_type=BlobType.APPENDBLOB, overwrite=True)
