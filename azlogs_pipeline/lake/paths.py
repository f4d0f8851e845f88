"""Every path of the pipeline's data is built here, and only here.

Layout under the lake root (`<data dir>/lake`, or the container prefix of `AZLOGS_LAKE_URL`)::

    raw/category=<Category>/date=YYYY-MM-DD/hour=HH/<hub>-<partition>-<first>-<last>.parquet
    deadletter/date=YYYY-MM-DD/hour=HH/<hub>-<partition>-<first>-<last>.parquet
    tables/<table>/date=YYYY-MM-DD/hour=HH/part.parquet      on blobs: part-<micros>-<id>.parquet
    summaries/<name>/date=YYYY-MM-DD[/hour=HH]/part.parquet  hourly, or daily without hour=
    .../_inputs-<digest>.json                beside each built partition (what it was built from)
    <area>/_schema.parquet                   zero rows: the area's columns

Beside the lake, always local under the data directory: the catalog `azlogs.duckdb`, the Dagster
home, build scratch space and writer locks, alert state and the daily reports.

Path segments that come from data (category) must already be safe; segments that come from
configuration or the broker (hub name, partition id) are sanitized here. Neither can leave the lake.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from azlogs_pipeline.lake.storage import LakePath, is_remote
from azlogs_pipeline.lake.storage import lake_root as _storage_lake_root
from azlogs_pipeline.vocabulary import HOUR_KEY_FORMAT

LAKE_DIR = "lake"
RAW_DIR = "raw"
DEADLETTER_DIR = "deadletter"
PARQUET_SUFFIX = ".parquet"

INVALID_CATEGORY = "_invalid"
"""Reserved category for records whose category is missing or not safe for a path."""

_SAFE_SEGMENT = re.compile(r"[A-Za-z0-9_-]{1,64}")
_NAME_UNSAFE_CHARS = re.compile(r"[^A-Za-z0-9_.-]")
_MAX_NAME_LENGTH = 80


def is_safe_segment(value: object) -> bool:
    """True when `value` is 1..64 characters of [A-Za-z0-9_-] (cannot traverse or hide)."""
    return isinstance(value, str) and _SAFE_SEGMENT.fullmatch(value) is not None


def safe_name(value: str) -> str:
    """Make a hub name or partition id safe inside a file name.

    Names that are already safe (letters, digits, `_`, `-`, inner dots) are kept as is. Anything else
    is replaced by `_` and suffixed with a hash of the original, so two different unsafe names never
    map to the same file (which would let one hub overwrite another's files).
    """
    cleaned = _NAME_UNSAFE_CHARS.sub("_", value)
    if cleaned.startswith("."):
        cleaned = "_" + cleaned[1:]
    if cleaned == value and 0 < len(value) <= _MAX_NAME_LENGTH:
        return value
    digest = hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()[:10]
    return f"{cleaned[:_MAX_NAME_LENGTH]}_{digest}"


def lake_root(data_dir: Path) -> LakePath:
    """`<data dir>/lake`, or the blob container's prefix when `AZLOGS_LAKE_URL` is set (the same
    layout below it)."""
    return _storage_lake_root(Path(data_dir) / LAKE_DIR)


def raw_root(data_dir: Path) -> LakePath:
    return lake_root(data_dir) / RAW_DIR


def deadletter_root(data_dir: Path) -> LakePath:
    return lake_root(data_dir) / DEADLETTER_DIR


def hour_start(moment: datetime) -> datetime:
    """The UTC hour that contains `moment` (naive datetimes are taken as UTC)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def hour_key(moment: datetime) -> str:
    """`YYYY-MM-DD-HH` of the UTC hour containing `moment` (the form sensors and metadata use)."""
    return hour_start(moment).strftime(HOUR_KEY_FORMAT)


def _hour_segments(moment: datetime) -> tuple[str, str]:
    hour = hour_start(moment)
    return f"date={hour:%Y-%m-%d}", f"hour={hour:%H}"


def _hour_dir(root: LakePath, moment: datetime) -> LakePath:
    """`<root>/date=YYYY-MM-DD/hour=HH` of the UTC hour containing `moment`."""
    date_seg, hour_seg = _hour_segments(moment)
    return root / date_seg / hour_seg


def _named_root(parent: LakePath, name: str, what: str) -> LakePath:
    """`<parent>/<name>`; names come from the code and must be path-safe (`what` says whose)."""
    if not is_safe_segment(name):
        raise ValueError(f"{what} name {name!r} is not safe for a lake path")
    return parent / name


def raw_category_dir(data_dir: Path, category: str) -> LakePath:
    if not is_safe_segment(category):
        raise ValueError(f"category {category!r} is not safe for a lake path")
    return raw_root(data_dir) / f"category={category}"


def raw_hour_dir(data_dir: Path, category: str, moment: datetime) -> LakePath:
    return _hour_dir(raw_category_dir(data_dir, category), moment)


def deadletter_hour_dir(data_dir: Path, moment: datetime) -> LakePath:
    return _hour_dir(deadletter_root(data_dir), moment)


def batch_file_name(eventhub: str, partition_id: str, first_seq: int, last_seq: int) -> str:
    """`<hub>-<partition>-<first>-<last>.parquet`: the same events always give the same name."""
    if first_seq < 0 or last_seq < first_seq:
        raise ValueError(f"bad sequence range {first_seq}..{last_seq}")
    hub, part = safe_name(eventhub), safe_name(partition_id)
    return f"{hub}-{part}-{first_seq}-{last_seq}{PARQUET_SUFFIX}"


def raw_file_path(
    data_dir: Path,
    category: str,
    moment: datetime,
    eventhub: str,
    partition_id: str,
    first_seq: int,
    last_seq: int,
) -> LakePath:
    name = batch_file_name(eventhub, partition_id, first_seq, last_seq)
    return raw_hour_dir(data_dir, category, moment) / name


def deadletter_file_path(
    data_dir: Path,
    moment: datetime,
    eventhub: str,
    partition_id: str,
    first_seq: int,
    last_seq: int,
) -> LakePath:
    name = batch_file_name(eventhub, partition_id, first_seq, last_seq)
    return deadletter_hour_dir(data_dir, moment) / name


TABLES_DIR = "tables"
CATALOG_FILE = "azlogs.duckdb"
SCHEMA_SEED_FILE = "_schema.parquet"


def tables_root(data_dir: Path) -> LakePath:
    return lake_root(data_dir) / TABLES_DIR


def table_root(data_dir: Path, table: str) -> LakePath:
    """`lake/tables/<table>`."""
    return _named_root(tables_root(data_dir), table, "table")


def schema_seed_path(area: LakePath) -> LakePath:
    """The zero-row file that gives a lake area's view its columns while the area is empty."""
    return area / SCHEMA_SEED_FILE


def catalog_path(data_dir: Path) -> Path:
    """The analysts' DuckDB catalog, `<data dir>/azlogs.duckdb`."""
    return Path(data_dir) / CATALOG_FILE


# -- normalized tables -------------------------------------------------------------------------
#   lake/tables/<table>/date=YYYY-MM-DD/hour=HH/part.parquet

TABLE_HOUR_FILE_NAME = "part" + PARQUET_SUFFIX
"""One file per table-hour: rebuilding an hour replaces it atomically."""


def table_hour_dir(data_dir: Path, table: str, moment: datetime) -> LakePath:
    return _hour_dir(table_root(data_dir, table), moment)


def table_hour_file(data_dir: Path, table: str, moment: datetime) -> LakePath:
    return table_hour_dir(data_dir, table, moment) / TABLE_HOUR_FILE_NAME


def table_hour_files(data_dir: Path, table: str, start: datetime, end: datetime) -> list[LakePath]:
    """The current table-hour files of `table` for the hours in [start, end), oldest first.

    Locally one `is_file` per hour; on blobs one listing per UTC day of the range (a summary's
    look-back spans weeks: one request per hour would be thousands)."""
    return [path for _, path in table_hour_entries(data_dir, table, start, end)]


def table_hour_entries(
    data_dir: Path, table: str, start: datetime, end: datetime
) -> list[tuple[datetime, LakePath]]:
    """`table_hour_files` with the hour of each file."""
    return _hour_files(table_root(data_dir, table), start, end)


def _hour_files(root: LakePath, start: datetime, end: datetime) -> list[tuple[datetime, LakePath]]:
    """(hour, current partition file) of each hour in [start, end) under `root` that has one."""
    if is_remote(root):
        return _remote_hour_files(root, start, end)
    files = []
    hour = hour_start(start)
    while hour < end:
        path = current_partition_file(_hour_dir(root, hour) / TABLE_HOUR_FILE_NAME)
        if path is not None:
            files.append((hour, path))
        hour += timedelta(hours=1)
    return files


def _remote_hour_files(
    root: LakePath, start: datetime, end: datetime
) -> list[tuple[datetime, LakePath]]:
    newest: dict[str, LakePath] = {}
    day = hour_start(start).replace(hour=0)
    while day < end:
        for path in _hour_dir(root, day).parent.rglob(VERSION_PATTERN):
            if version_micros(path) is None:
                continue
            directory = str(path.parent)
            if directory not in newest or newest[directory].name < path.name:
                newest[directory] = path
        day += timedelta(days=1)
    wanted = {}
    hour = hour_start(start)
    while hour < end:
        wanted[str(_hour_dir(root, hour))] = hour
        hour += timedelta(hours=1)
    return sorted(((wanted[d], newest[d]) for d in newest if d in wanted), key=lambda e: e[0])


# -- versions of a partition file (blob lakes) -------------------------------------------------
#   <partition dir>/part-<16-digit UTC epoch microseconds>-<12 hex>.parquet
# A blob cannot be renamed, and overwriting one while a reader fetches its byte ranges would mix
# two builds; so on blobs each build of a table-hour or summary partition is a new version, readers
# take the newest one, and superseded versions are deleted only after a grace period (see
# lake/parquet.py `replace_partition_file` and the catalog's versioned views).

VERSION_PATTERN = "part-*" + PARQUET_SUFFIX
_VERSION_NAME = re.compile(r"part-(\d{16})-[0-9a-f]{12}\.parquet")


def new_version_path(target: LakePath, micros: int) -> LakePath:
    """A new version of the partition file `target` (a `.../part.parquet`), stamped `micros`."""
    return target.with_name(f"part-{micros:016d}-{uuid.uuid4().hex[:12]}{PARQUET_SUFFIX}")


def version_micros(path: LakePath) -> int | None:
    """The time stamp in a version's name, None for a name that is not a version."""
    match = _VERSION_NAME.fullmatch(path.name)
    return int(match[1]) if match else None


def is_partition_file_name(name: str) -> bool:
    """True for a partition's file (`part.parquet`) or one of its versions (blob lakes)."""
    return name == TABLE_HOUR_FILE_NAME or _VERSION_NAME.fullmatch(name) is not None


def partition_versions(target: LakePath) -> list[LakePath]:
    """The versions of the partition file `target`, oldest first (one listing of its directory)."""
    found = [p for p in target.parent.glob(VERSION_PATTERN) if version_micros(p) is not None]
    return sorted(found, key=lambda p: p.name)


def current_partition_file(target: LakePath) -> LakePath | None:
    """The file a reader takes for the partition `target`: the file itself on a local lake,
    the newest version on a blob lake; None when there is none."""
    if not is_remote(target):
        return target if target.is_file() else None
    versions = partition_versions(target)
    return versions[-1] if versions else None


# -- summaries ---------------------------------------------------------------------------------
#   lake/summaries/<name>/date=YYYY-MM-DD/hour=HH/part.parquet   (hourly summaries)
#   lake/summaries/<name>/date=YYYY-MM-DD/part.parquet           (daily summaries)

SUMMARIES_DIR = "summaries"


def summaries_root(data_dir: Path) -> LakePath:
    return lake_root(data_dir) / SUMMARIES_DIR


def summary_root(data_dir: Path, name: str) -> LakePath:
    """`lake/summaries/<name>`."""
    return _named_root(summaries_root(data_dir), name, "summary")


def summary_hour_file(data_dir: Path, name: str, moment: datetime) -> LakePath:
    return _hour_dir(summary_root(data_dir, name), moment) / TABLE_HOUR_FILE_NAME


def summary_hour_files(data_dir: Path, name: str, start: datetime, end: datetime) -> list[LakePath]:
    """The current files of hourly summary `name` for the hours in [start, end), oldest first
    (read by a summary that reads another summary; listed like `table_hour_files`)."""
    return [path for _, path in summary_hour_entries(data_dir, name, start, end)]


def summary_hour_entries(
    data_dir: Path, name: str, start: datetime, end: datetime
) -> list[tuple[datetime, LakePath]]:
    """`summary_hour_files` with the hour of each file."""
    return _hour_files(summary_root(data_dir, name), start, end)


def summary_day_file(data_dir: Path, name: str, moment: datetime) -> LakePath:
    date_seg, _ = _hour_segments(moment)
    return summary_root(data_dir, name) / date_seg / TABLE_HOUR_FILE_NAME


def raw_hour_glob(data_dir: Path, moment: datetime) -> str:
    """Every raw file of one event-time hour, all categories."""
    return str(_hour_dir(raw_root(data_dir) / "category=*", moment) / f"*{PARQUET_SUFFIX}")


def raw_categories(data_dir: Path) -> list[str]:
    """Categories present in the raw lake (the safe names of their `category=` directories)."""
    root = raw_root(data_dir)
    if not root.is_dir():
        return []
    found = []
    for child in root.iterdir():
        name = child.name
        if child.is_dir() and name.startswith("category="):
            category = name[len("category=") :]
            if is_safe_segment(category):
                found.append(category)
    return sorted(found)


def raw_hour_files(data_dir: Path, category: str, moment: datetime) -> list[LakePath]:
    """The raw files of one category and event-time hour, sorted (empty when the hour is missing)."""
    directory = raw_hour_dir(data_dir, category, moment)
    if not directory.is_dir():
        return []
    return sorted(p for p in directory.glob(f"*{PARQUET_SUFFIX}") if p.is_file())


def locks_dir(data_dir: Path, area: str) -> Path:
    """`<data dir>/locks/<area>`: the partitions' writer locks (local files, also for a blob
    lake: see `lake.builds.partition_lock`)."""
    if not is_safe_segment(area):
        raise ValueError(f"lock area {area!r} is not safe for a path")
    return Path(data_dir) / "locks" / area


def scratch_dir(data_dir: Path) -> Path:
    """`<data dir>/scratch`: local room for builds (DuckDB's spill files, a blob partition's file
    before its upload), also for a blob lake."""
    return Path(data_dir) / "scratch"


def dagster_home_dir(data_dir: Path) -> Path:
    """The local Dagster instance's home (SQLite run and event storage) inside the data dir."""
    return (Path(data_dir) / "dagster").resolve()


def alert_state_dir(data_dir: Path) -> Path:
    """`<data dir>/alerts`: which findings were delivered (ids and outcomes, never the URL)."""
    return Path(data_dir) / "alerts"


def reports_dir(data_dir: Path) -> Path:
    """`<data dir>/reports`: the daily HTML security reports."""
    return Path(data_dir) / "reports"


def owed_reports_file(data_dir: Path) -> Path:
    """`<data dir>/reports/.owed.json`: the reports and alert pass an `azlogs run` has yet to do."""
    return reports_dir(data_dir) / ".owed.json"


def daily_report_file(data_dir: Path, day: str) -> Path:
    """`<data dir>/reports/security-report-YYYY-MM-DD.html` for a UTC day `YYYY-MM-DD`."""
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", day):
        raise ValueError(f"report day {day!r} is not YYYY-MM-DD")
    return reports_dir(data_dir) / f"security-report-{day}.html"
