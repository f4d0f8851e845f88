"""Where the lake lives: a local directory (the default) or a blob container (`AZLOGS_LAKE_URL`).

The lake code builds paths with `/` and asks them `exists()`, `is_file()`, `iterdir()`,
`glob()`, `unlink()`; a local lake answers with `pathlib.Path`, a blob lake with `BlobPath`, which
does the same over a container with the real azure-storage-blob client. `str()` of a path is what
DuckDB reads: a file path, or `az://<container>/<blob>` through the azure extension.

Promises on blobs:
- A Parquet file is complete or absent: it is written to a local temporary file, then uploaded with
  one Put Blob (small) or staged blocks and one Put Block List (large). Either is a single commit:
  until it succeeds no blob of that name is visible, so a killed writer leaves only uncommitted
  blocks, which listings never show and the service discards.
- The checkpoint moves only after `write_parquet_atomic` returns, i.e. after the commit.
- Listings are by prefix (one hour's directory, one category's `category=` children) with `/` as
  the delimiter, never the whole container.
"""

from __future__ import annotations

import contextlib
import fnmatch
import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
from azure.core.exceptions import ResourceExistsError, ResourceNotFoundError
from azure.storage.blob import BlobProperties, ContainerClient

from azlogs_pipeline.config import LakeSettings, Secret, load_lake_settings
from azlogs_pipeline.lake.duckdb_azure import load_azure

LAKE_SCHEME = "az"
_UPLOAD_CONCURRENCY = 4


@dataclass(eq=False)
class BlobLake:
    """One lake container with its settings; the client is made (and the container created) once."""

    settings: LakeSettings
    _client: ContainerClient | None = field(default=None, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def container_name(self) -> str:
        return self.settings.container

    @property
    def root(self) -> BlobPath:
        return BlobPath(self, self.settings.prefix)

    def client(self) -> ContainerClient:
        with self._lock:
            if self._client is None:
                client = _container_client(self.settings)
                with contextlib.suppress(ResourceExistsError):
                    client.create_container()
                self._client = client
            return self._client


def _container_client(settings: LakeSettings) -> ContainerClient:
    from azlogs_pipeline.ingest.clients import make_container_client

    return make_container_client(settings)


class BlobPath:
    """A path inside a lake container, with the part of `pathlib.Path` that the lake code uses."""

    __slots__ = ("_kind", "key", "lake")

    def __init__(self, lake: BlobLake, key: str, kind: str | None = None) -> None:
        self.lake = lake
        self.key = key.strip("/")
        self._kind = kind
        """"file" or "dir" when a listing already said which."""

    # -- pure path operations ------------------------------------------------------------------
    def __truediv__(self, other: str) -> BlobPath:
        return BlobPath(self.lake, f"{self.key}/{other}" if self.key else str(other))

    @property
    def name(self) -> str:
        return self.key.rsplit("/", 1)[-1]

    @property
    def parent(self) -> BlobPath:
        return BlobPath(self.lake, self.key.rsplit("/", 1)[0] if "/" in self.key else "")

    @property
    def suffix(self) -> str:
        name = self.name
        return name[name.rfind(".") :] if "." in name.lstrip(".") else ""

    def with_name(self, name: str) -> BlobPath:
        return self.parent / name

    def resolve(self) -> BlobPath:
        return self

    def __str__(self) -> str:
        return f"{LAKE_SCHEME}://{self.lake.container_name}/{self.key}"

    def __repr__(self) -> str:
        return f"BlobPath({str(self)!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, BlobPath) and str(other) == str(self)

    def __lt__(self, other: BlobPath) -> bool:
        return str(self) < str(other)

    def __hash__(self) -> int:
        return hash(str(self))

    # -- storage operations --------------------------------------------------------------------
    def _prefix(self) -> str:
        return f"{self.key}/" if self.key else ""

    def is_file(self) -> bool:
        if self._kind is not None:
            return self._kind == "file"
        try:
            self.lake.client().get_blob_client(self.key).get_blob_properties()
        except ResourceNotFoundError:
            return False
        return True

    def is_dir(self) -> bool:
        if self._kind is not None:
            return self._kind == "dir"
        blobs = self.lake.client().list_blobs(name_starts_with=self._prefix(), results_per_page=1)
        return next(iter(blobs), None) is not None

    def exists(self) -> bool:
        return self.is_file() or self.is_dir()

    def mkdir(self, parents: bool = False, exist_ok: bool = False) -> None:
        """Containers have no directories: a prefix exists once a blob is under it."""

    def iterdir(self) -> Iterator[BlobPath]:
        """Direct children (blobs and `/`-delimited prefixes), one delimited listing."""
        for item in self.lake.client().walk_blobs(name_starts_with=self._prefix(), delimiter="/"):
            kind = "dir" if item.name.endswith("/") else "file"
            yield BlobPath(self.lake, item.name, kind)

    def glob(self, pattern: str) -> Iterator[BlobPath]:
        """Direct children whose name matches `pattern` (one level, like the lake code uses)."""
        if "/" in pattern:
            raise ValueError(f"BlobPath.glob takes one level, not {pattern!r}")
        for child in self.iterdir():
            if fnmatch.fnmatchcase(child.name, pattern):
                yield child

    def rglob(self, pattern: str) -> Iterator[BlobPath]:
        """Blobs anywhere under this prefix whose name matches `pattern`."""
        for item in self.lake.client().list_blobs(name_starts_with=self._prefix()):
            path = BlobPath(self.lake, item.name, "file")
            if fnmatch.fnmatchcase(path.name, pattern):
                yield path

    def unlink(self, missing_ok: bool = False) -> None:
        try:
            self.lake.client().delete_blob(self.key)
        except ResourceNotFoundError:
            if not missing_ok:
                raise FileNotFoundError(str(self)) from None

    def read_bytes(self) -> bytes:
        try:
            return self.lake.client().download_blob(self.key).readall()
        except ResourceNotFoundError:
            raise FileNotFoundError(str(self)) from None

    def write_bytes(self, data: bytes) -> int:
        """Upload `data` as this blob in one Put Blob (complete or absent); its size."""
        self.lake.client().upload_blob(self.key, data, length=len(data), overwrite=True)
        return len(data)

    def upload_file(self, local: Path) -> int:
        """Upload `local` as this blob in one commit (see the module docstring); its size."""
        size = local.stat().st_size
        with local.open("rb") as data:
            self.lake.client().upload_blob(
                self.key, data, length=size, overwrite=True, max_concurrency=_UPLOAD_CONCURRENCY
            )
        return size


LakePath = Path | BlobPath
"""A path in the lake: local (`Path`) or in a blob container (`BlobPath`)."""


@dataclass(frozen=True, slots=True)
class ListedFile:
    """A file as a listing shows it: its path below the listed directory ('/'-separated)."""

    relative: str
    size: int

    @property
    def name(self) -> str:
        return self.relative.rsplit("/", 1)[-1]


def list_files(directory: LakePath, *, recursive: bool = False) -> Iterator[ListedFile]:
    """The files in `directory` (below it when `recursive`) with their sizes, from listings only.

    On blobs one delimited listing (or one flat listing by prefix, pages of 5,000 names, when
    `recursive`); locally `os.scandir`. Hidden names (a local writer's temporary files) are
    skipped; a missing directory has no files."""
    if isinstance(directory, BlobPath):
        prefix = directory._prefix()
        client = directory.lake.client()
        items = (
            client.list_blobs(name_starts_with=prefix)
            if recursive
            else client.walk_blobs(name_starts_with=prefix, delimiter="/")
        )
        for item in items:
            if isinstance(item, BlobProperties):
                yield ListedFile(item.name[len(prefix) :], int(item.size))
        return
    yield from _local_files(Path(directory), "", recursive)


def _local_files(directory: Path, relative: str, recursive: bool) -> Iterator[ListedFile]:
    try:
        with os.scandir(directory) as scan:
            entries = list(scan)
    except (FileNotFoundError, NotADirectoryError):
        return
    for entry in entries:
        if entry.name.startswith("."):
            continue
        if entry.is_dir():
            if recursive:
                yield from _local_files(Path(entry.path), f"{relative}{entry.name}/", recursive)
        elif entry.is_file():
            try:
                size = entry.stat().st_size
            except FileNotFoundError:
                continue
            yield ListedFile(f"{relative}{entry.name}", size)


_LAKES: dict[LakeSettings, BlobLake] = {}
_LAKES_LOCK = threading.Lock()


def configured_lake(environ: Any = None) -> BlobLake | None:
    """The blob lake of `AZLOGS_LAKE_URL` (one client per process and settings), or None."""
    settings = load_lake_settings(environ)
    if settings is None:
        return None
    with _LAKES_LOCK:
        lake = _LAKES.get(settings)
        if lake is None:
            lake = _LAKES[settings] = BlobLake(settings)
        return lake


def lake_root(local_root: Path) -> LakePath:
    """The lake's root: the blob container's prefix when `AZLOGS_LAKE_URL` is set, else
    `local_root`."""
    lake = configured_lake()
    if lake is not None:
        return lake.root
    return local_root


def is_remote(path: LakePath) -> bool:
    return isinstance(path, BlobPath)


def configure_duckdb(con: duckdb.DuckDBPyConnection, lake: BlobLake | None = None) -> None:
    """Let `con` read the lake: with a blob lake, load the azure extension from its package and
    create a TEMPORARY secret from the settings (it lives in this connection's memory only, never
    in a DuckDB file). Nothing to do for a local lake."""
    lake = lake if lake is not None else configured_lake()
    if lake is None:
        return
    load_azure(con)
    settings = lake.settings
    if settings.connection_string is not None:
        con.execute(
            "CREATE OR REPLACE TEMPORARY SECRET azlogs_lake "
            "(TYPE azure, SCOPE $scope, CONNECTION_STRING $value)",
            {"scope": _scope(lake), "value": settings.connection_string.get()},
        )
    elif settings.account_key is not None:
        con.execute(
            "CREATE OR REPLACE TEMPORARY SECRET azlogs_lake "
            "(TYPE azure, SCOPE $scope, CONNECTION_STRING $value)",
            {"scope": _scope(lake), "value": _key_connection_string(settings).get()},
        )
    else:
        con.execute(
            "CREATE OR REPLACE TEMPORARY SECRET azlogs_lake "
            "(TYPE azure, SCOPE $scope, PROVIDER credential_chain, ACCOUNT_NAME $account)",
            {"scope": _scope(lake), "account": _account_name(settings)},
        )


def _scope(lake: BlobLake) -> str:
    return f"{LAKE_SCHEME}://{lake.container_name}/"


def _key_connection_string(settings: LakeSettings) -> Secret:
    assert settings.account_key is not None and settings.account_name is not None
    return Secret(
        f"DefaultEndpointsProtocol=https;AccountName={settings.account_name};"
        f"AccountKey={settings.account_key.get()};BlobEndpoint={settings.account_url};"
    )


def _account_name(settings: LakeSettings) -> str:
    if settings.account_name:
        return settings.account_name
    url = settings.account_url or ""
    host = url.split("://", 1)[-1].split("/", 1)[0]
    return host.split(".", 1)[0]


def lake_connect() -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB connection that can read the lake, wherever it is."""
    con = duckdb.connect(":memory:")
    configure_duckdb(con)
    return con
