"""Every setting of azlogs, read from the environment in one place and validated.

Each problem is reported with the variable's name and what to do about it. Secret values (connection
strings, account keys) are wrapped in :class:`Secret`, whose ``repr`` and ``str`` never show them, and
are never quoted in an error message.
"""

from __future__ import annotations

import base64
import math
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

from dotenv import dotenv_values

from azlogs_pipeline.errors import AzlogsError

DEFAULT_CONTAINER = "azurelogs"
DEFAULT_CONSUMER_GROUP = "$Default"
DEFAULT_DATA_DIR = "./data"
DEFAULT_RETRY_TOTAL = 3
DEFAULT_RETRY_TIMEOUT = 60.0
DEFAULT_DRAIN_MAX_SECONDS = 3600.0
DEFAULT_BUILD_MEMORY_MB = 1024
MIN_BUILD_MEMORY_MB = 64
"""Wall-clock safety bound of one drain: it stops, lands what it has and resumes next run."""

StartPosition = Literal["earliest", "latest"]
Transport = Literal["amqp", "websocket"]

_HUB_NAME = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9._-]{0,254}[A-Za-z0-9])?$")
_CONTAINER_NAME = re.compile(r"^[a-z0-9](?:[a-z0-9]|-(?=[a-z0-9])){2,62}$")
_ACCOUNT_NAME = re.compile(r"^[a-z0-9]{3,24}$")
_HOST = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?(?::[0-9]{1,5})?$")
_CONSUMER_GROUP = re.compile(r"^(?:\$Default|[A-Za-z0-9][A-Za-z0-9._-]{0,49})$")
_MAX_FLUSH_MB = 1024
DEFAULT_FLUSH_MB = 16
"""A drain holds two flushes of text (one filling, one being written) and their transients:
at 32 MB its peak RSS was 411 MB with a 1,000,000-record backlog, at 16 MB 375 MB (the bound is
400 MB), at the same records/s (bench_drain)."""


class ConfigError(AzlogsError, ValueError):
    """A setting is missing or invalid; the message names the variable and the fix."""


class Secret:
    """A string that never shows itself in a repr, a log line or an f-string."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def get(self) -> str:
        """The secret value itself: pass it to an SDK, never to a logger."""
        return self._value

    def __repr__(self) -> str:
        return "Secret('********')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)


def parse_connection_string(value: str, variable: str) -> dict[str, str]:
    """Split an Azure ``Key=Value;...`` connection string; keys are matched case-insensitively."""
    parts: dict[str, str] = {}
    for item in value.strip().strip(";").split(";"):
        if not item.strip():
            continue
        key, sep, val = item.partition("=")
        if not sep:
            raise ConfigError(
                f"{variable} is not a valid connection string (an element has no '='). "
                "Copy the whole value from the Azure portal ('Shared access policies' or "
                "'Access keys'), without quotes."
            )
        parts[key.strip().lower()] = val.strip()
    return parts


@dataclass(frozen=True)
class EventHubSettings:
    """Where the logs come from."""

    names: tuple[str, ...]
    consumer_group: str = DEFAULT_CONSUMER_GROUP
    connection_string: Secret | None = None
    fully_qualified_namespace: str | None = None
    transport: Transport = "amqp"
    start_position: StartPosition = "earliest"
    retry_total: int = DEFAULT_RETRY_TOTAL
    """The SDK's retries of one failed operation (AZLOGS_EVENTHUB_RETRY_TOTAL)."""
    retry_timeout: float = DEFAULT_RETRY_TIMEOUT
    """Longest a drain goes without a word from Event Hubs (AZLOGS_EVENTHUB_RETRY_TIMEOUT): the
    SDK reconnects a lost link inside its receive loop without ever reporting it, so past this
    the drain gives up with an error naming the hub and partition."""

    @property
    def uses_entra_id(self) -> bool:
        """True when the pipeline signs in with DefaultAzureCredential instead of a key."""
        return self.connection_string is None


@dataclass(frozen=True, kw_only=True)
class StorageCredentials:
    """How to reach a storage account: a connection string, a name and key, or (neither given)
    Entra ID at `account_url`. Keyword-only, so the settings built on it keep their own
    positional fields."""

    connection_string: Secret | None = None
    account_name: str | None = None
    account_key: Secret | None = None
    account_url: str | None = None

    @property
    def uses_entra_id(self) -> bool:
        return self.connection_string is None and self.account_key is None


@dataclass(frozen=True)
class StorageSettings(StorageCredentials):
    """The storage account and container that hold checkpoints and ownership blobs."""

    container: str = DEFAULT_CONTAINER


@dataclass(frozen=True)
class DrainSettings:
    """How much one drain of one partition may do, and how big its flushes are."""

    max_events: int | None = None
    max_seconds: float = DEFAULT_DRAIN_MAX_SECONDS
    flush_records: int = 50_000
    flush_bytes: int = DEFAULT_FLUSH_MB * 1024 * 1024
    receive_batch: int = 50
    idle_seconds: float = 5.0
    ownership_seconds: float = 120.0


@dataclass(frozen=True)
class Settings:
    """All settings of one pipeline deployment."""

    eventhub: EventHubSettings
    storage: StorageSettings
    data_dir: Path = field(default_factory=lambda: Path(DEFAULT_DATA_DIR))
    drain: DrainSettings = field(default_factory=DrainSettings)


def _environment(environ: Mapping[str, str] | None) -> dict[str, str]:
    if environ is not None:
        return dict(environ)
    merged = _dotenv()
    merged.update(os.environ)
    return merged


_DOTENV: tuple[tuple[str, int, int] | None, dict[str, str]] = (None, {})


def _dotenv() -> dict[str, str]:
    """The working directory's `.env` (read again only when the file changes: paths are built
    thousands of times per build, and each asks where the lake is)."""
    global _DOTENV
    try:
        stat = os.stat(".env")
    except OSError:
        return {}
    key = (os.path.abspath(".env"), stat.st_mtime_ns, stat.st_size)
    if _DOTENV[0] != key:
        _DOTENV = (key, {k: v for k, v in dotenv_values(".env").items() if v is not None})
    return dict(_DOTENV[1])


def _get(env: Mapping[str, str], name: str) -> str | None:
    value = env.get(name, "").strip()
    return value or None


def _choice(env: Mapping[str, str], name: str, default: str, allowed: tuple[str, ...]) -> str:
    value = (_get(env, name) or default).lower()
    if value not in allowed:
        raise ConfigError(
            f"{name}={value!r} is not valid. Use one of: {', '.join(allowed)} (default {default})."
        )
    return value


def _hub_names(env: Mapping[str, str], entity_path: str | None) -> tuple[str, ...]:
    raw = _get(env, "AZLOGS_EVENTHUB_NAME") or entity_path
    if not raw:
        raise ConfigError(
            "AZLOGS_EVENTHUB_NAME is not set. Set it to the Event Hub's name (not the namespace), "
            "or to a comma-separated list of names, e.g. AZLOGS_EVENTHUB_NAME=insights-logs-signinlogs."
        )
    names = tuple(dict.fromkeys(n.strip() for n in raw.split(",") if n.strip()))
    if not names:
        raise ConfigError(
            f"AZLOGS_EVENTHUB_NAME={raw!r} names no Event Hub. Set it to the Event Hub's name, or "
            "to a comma-separated list of names."
        )
    for name in names:
        if not _HUB_NAME.match(name):
            raise ConfigError(
                f"AZLOGS_EVENTHUB_NAME contains {name!r}, which is not a valid Event Hub name. "
                "Names have 1-256 letters, digits, '.', '-' or '_', and start and end with a letter "
                "or digit."
            )
    return names


def _eventhub(env: Mapping[str, str]) -> EventHubSettings:
    conn = _get(env, "AZLOGS_EVENTHUB_CONNECTION_STRING")
    namespace = _get(env, "AZLOGS_EVENTHUB_NAMESPACE")
    entity_path = None
    if conn:
        parts = parse_connection_string(conn, "AZLOGS_EVENTHUB_CONNECTION_STRING")
        if not parts.get("endpoint", "").startswith("sb://"):
            raise ConfigError(
                "AZLOGS_EVENTHUB_CONNECTION_STRING has no 'Endpoint=sb://...' element. Copy the "
                "'Connection string-primary key' of a shared access policy of the Event Hub or its "
                "namespace."
            )
        if "sharedaccesskey" not in parts and "sharedaccesssignature" not in parts:
            raise ConfigError(
                "AZLOGS_EVENTHUB_CONNECTION_STRING has no SharedAccessKey. Copy the full "
                "'Connection string-primary key', or unset it and set AZLOGS_EVENTHUB_NAMESPACE "
                "to sign in with Entra ID."
            )
        entity_path = parts.get("entitypath")
    elif not namespace:
        raise ConfigError(
            "Neither AZLOGS_EVENTHUB_CONNECTION_STRING nor AZLOGS_EVENTHUB_NAMESPACE is set. Set "
            "the connection string of the Event Hub (primary key), or set "
            "AZLOGS_EVENTHUB_NAMESPACE=<namespace>.servicebus.windows.net to sign in with Entra ID "
            "(DefaultAzureCredential)."
        )
    if namespace and not _HOST.match(namespace):
        raise ConfigError(
            f"AZLOGS_EVENTHUB_NAMESPACE={namespace!r} is not a namespace name or host. Use the "
            "namespace's name (e.g. contoso-logs) or its host, contoso-logs.servicebus.windows.net."
        )
    if namespace and "." not in namespace:
        namespace = f"{namespace}.servicebus.windows.net"
    consumer_group = _get(env, "AZLOGS_CONSUMER_GROUP") or DEFAULT_CONSUMER_GROUP
    if not _CONSUMER_GROUP.match(consumer_group):
        raise ConfigError(
            f"AZLOGS_CONSUMER_GROUP={consumer_group!r} is not a consumer group name: use up to 50 "
            "letters, digits, '.', '-' or '_' starting with a letter or digit, or $Default."
        )
    return EventHubSettings(
        names=_hub_names(env, entity_path),
        consumer_group=consumer_group,
        connection_string=Secret(conn) if conn else None,
        fully_qualified_namespace=namespace,
        transport=_choice(env, "AZLOGS_TRANSPORT", "amqp", ("amqp", "websocket")),  # type: ignore[arg-type]
        start_position=_choice(  # type: ignore[arg-type]
            env, "AZLOGS_START_POSITION", "earliest", ("earliest", "latest")
        ),
        retry_total=_count(
            env, "AZLOGS_EVENTHUB_RETRY_TOTAL", DEFAULT_RETRY_TOTAL, "Default 3 retries."
        ),
        retry_timeout=_number(
            env,
            "AZLOGS_EVENTHUB_RETRY_TIMEOUT",
            DEFAULT_RETRY_TIMEOUT,
            "Seconds a drain waits for a lost Event Hubs connection; default 60.",
        )
        or DEFAULT_RETRY_TIMEOUT,
    )


def _container(env: Mapping[str, str]) -> str:
    container = _get(env, "AZLOGS_STORAGE_CONTAINER") or DEFAULT_CONTAINER
    if not _CONTAINER_NAME.match(container):
        raise ConfigError(
            f"AZLOGS_STORAGE_CONTAINER={container!r} is not a valid container name. Container "
            "names have 3-63 lower-case letters, digits and single hyphens, and start and end with "
            "a letter or digit."
        )
    return container


def _check_account_key(key: str | None, variable: str) -> None:
    """A storage account key is base64; a truncated or mistyped one fails here, not in the SDK."""
    if key is None:
        return
    try:
        base64.b64decode(key, validate=True)
    except ValueError:
        raise ConfigError(
            f"{variable} holds an account key that is not base64 (value not shown): copy key 1 of "
            "the storage account again from 'Access keys', whole and without quotes."
        ) from None


def _check_url(url: str, variable: str) -> None:
    scheme, _, rest = url.partition("://")
    host = rest.split("/", 1)[0]
    if scheme not in ("https", "http") or not _HOST.match(host):
        raise ConfigError(
            f"{variable} is not a blob endpoint URL (value not shown). Use "
            "https://<account>.blob.core.windows.net, or unset it to derive it from "
            "AZLOGS_STORAGE_ACCOUNT_NAME."
        )


def _storage(env: Mapping[str, str]) -> StorageSettings:
    container = _container(env)
    conn = _get(env, "AZLOGS_STORAGE_CONNECTION_STRING")
    name = _get(env, "AZLOGS_STORAGE_ACCOUNT_NAME")
    key = _get(env, "AZLOGS_STORAGE_ACCOUNT_KEY")
    url = _get(env, "AZLOGS_STORAGE_ACCOUNT_URL")
    if conn:
        parts = parse_connection_string(conn, "AZLOGS_STORAGE_CONNECTION_STRING")
        if not (
            {"accountname", "blobendpoint"} & parts.keys() or parts.get("usedevelopmentstorage")
        ):
            raise ConfigError(
                "AZLOGS_STORAGE_CONNECTION_STRING names no account. Copy the storage account's "
                "'Connection string' from 'Access keys' in the Azure portal."
            )
        _check_account_key(parts.get("accountkey"), "AZLOGS_STORAGE_CONNECTION_STRING")
        return StorageSettings(container=container, connection_string=Secret(conn))
    _check_account_key(key, "AZLOGS_STORAGE_ACCOUNT_KEY")
    if url is not None:
        _check_url(url, "AZLOGS_STORAGE_ACCOUNT_URL")
    if key and not name:
        raise ConfigError(
            "AZLOGS_STORAGE_ACCOUNT_KEY is set but AZLOGS_STORAGE_ACCOUNT_NAME is not. Set the "
            "storage account's name too."
        )
    if name and not _ACCOUNT_NAME.match(name):
        raise ConfigError(
            f"AZLOGS_STORAGE_ACCOUNT_NAME={name!r} is not a valid storage account name "
            "(3-24 lower-case letters and digits)."
        )
    if name and key:
        return StorageSettings(
            container=container,
            account_name=name,
            account_key=Secret(key),
            account_url=url or f"https://{name}.blob.core.windows.net",
        )
    if url or name:
        return StorageSettings(
            container=container,
            account_name=name,
            account_url=url or f"https://{name}.blob.core.windows.net",
        )
    raise ConfigError(
        "No storage account is configured for checkpoints. Set AZLOGS_STORAGE_ACCOUNT_NAME and "
        "AZLOGS_STORAGE_ACCOUNT_KEY (key 1 from 'Access keys'), or AZLOGS_STORAGE_CONNECTION_STRING, "
        "or AZLOGS_STORAGE_ACCOUNT_URL to sign in with Entra ID."
    )


@dataclass(frozen=True)
class ArchiveSettings:
    """The storage account that diagnostic settings archive logs to (`insights-logs-*`
    containers), read by the archive backfill. ``containers`` empty means every archive container.
    """

    connection_string: Secret | None = None
    account_name: str | None = None
    account_key: Secret | None = None
    account_url: str | None = None
    containers: tuple[str, ...] = ()

    @property
    def uses_entra_id(self) -> bool:
        return self.connection_string is None and self.account_key is None


def _archive_containers(env: Mapping[str, str]) -> tuple[str, ...]:
    raw = _get(env, "AZLOGS_ARCHIVE_CONTAINERS") or ""
    names = tuple(dict.fromkeys(n.strip() for n in raw.split(",") if n.strip()))
    for name in names:
        if not _CONTAINER_NAME.match(name) or not name.startswith("insights-"):
            raise ConfigError(
                f"AZLOGS_ARCHIVE_CONTAINERS contains {name!r}, which is not an archive container. "
                "Give a comma-separated list such as insights-logs-signinlogs,"
                "insights-activity-logs, or unset it to read every archive container."
            )
    return names


def _account_choice(
    env: Mapping[str, str], prefix: str, what: str
) -> tuple[str | None, str | None]:
    """``<prefix>_CONNECTION_STRING`` or ``<prefix>_ACCOUNT_URL`` (not both); a connection string
    must name its account."""
    conn_var, url_var = f"{prefix}_CONNECTION_STRING", f"{prefix}_ACCOUNT_URL"
    conn, url = _get(env, conn_var), _get(env, url_var)
    if conn and url:
        raise ConfigError(
            f"{conn_var} and {url_var} are both set. Set the connection string (key or SAS), or "
            "the URL alone to sign in with Entra ID."
        )
    if conn:
        parts = parse_connection_string(conn, conn_var)
        if not (
            {"accountname", "blobendpoint"} & parts.keys() or parts.get("usedevelopmentstorage")
        ):
            raise ConfigError(
                f"{conn_var} names no account. Copy the {what}'s 'Connection string' from "
                "'Access keys' in the Azure portal."
            )
    return conn, url


def _archive(env: Mapping[str, str]) -> ArchiveSettings:
    containers = _archive_containers(env)
    conn, url = _account_choice(env, "AZLOGS_ARCHIVE", "archive storage account")
    if conn:
        parts = parse_connection_string(conn, "AZLOGS_ARCHIVE_CONNECTION_STRING")
        _check_account_key(parts.get("accountkey"), "AZLOGS_ARCHIVE_CONNECTION_STRING")
        return ArchiveSettings(connection_string=Secret(conn), containers=containers)
    if url:
        if "?" in url or not url.startswith(("https://", "http://")):
            raise ConfigError(
                "AZLOGS_ARCHIVE_ACCOUNT_URL must be the account's blob endpoint without a query, "
                "e.g. https://<account>.blob.core.windows.net (value not shown). To use a SAS, put "
                "it in AZLOGS_ARCHIVE_CONNECTION_STRING as BlobEndpoint=...;SharedAccessSignature=..."
            )
        return ArchiveSettings(account_url=url.rstrip("/"), containers=containers)
    try:
        storage = _storage(env)
    except ConfigError as exc:
        raise ConfigError(
            "No storage account is configured for the archive. Set AZLOGS_ARCHIVE_CONNECTION_STRING "
            "or AZLOGS_ARCHIVE_ACCOUNT_URL, or configure the checkpoint storage account, which is "
            f"used by default. ({exc})"
        ) from None
    return ArchiveSettings(
        connection_string=storage.connection_string,
        account_name=storage.account_name,
        account_key=storage.account_key,
        account_url=storage.account_url,
        containers=containers,
    )


def load_archive_settings(environ: Mapping[str, str] | None = None) -> ArchiveSettings:
    """The archive storage account: ``AZLOGS_ARCHIVE_CONNECTION_STRING`` or
    ``AZLOGS_ARCHIVE_ACCOUNT_URL`` (Entra ID), else the checkpoint storage account; optionally
    ``AZLOGS_ARCHIVE_CONTAINERS``. It needs no Event Hub settings (history may predate the hub)."""
    return _archive(_environment(environ))


def _number(env: Mapping[str, str], name: str, default: float | None, hint: str) -> float | None:
    raw = _get(env, name)
    if raw is None:
        return default
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not (math.isfinite(value) and value > 0):
        raise ConfigError(f"{name}={raw!r} is not a positive number. {hint}")
    return value


def _count(env: Mapping[str, str], name: str, default: int, hint: str) -> int:
    raw = _get(env, name)
    if raw is None:
        return default
    if not raw.isdigit():
        raise ConfigError(f"{name}={raw!r} is not a whole number (0 or more). {hint}")
    return int(raw)


def _drain(env: Mapping[str, str]) -> DrainSettings:
    max_events = _number(
        env, "AZLOGS_DRAIN_MAX_EVENTS", None, "Leave it unset to drain until caught up."
    )
    flush_records = _number(env, "AZLOGS_FLUSH_RECORDS", 50_000, "Default 50000 records.")
    if flush_records is not None and flush_records < 1:
        raise ConfigError(
            f"AZLOGS_FLUSH_RECORDS={flush_records!r} is below one record. Default 50000 records."
        )
    flush_mb = _number(
        env, "AZLOGS_FLUSH_MB", DEFAULT_FLUSH_MB, f"Default {DEFAULT_FLUSH_MB} (MB)."
    )
    if flush_mb is not None and flush_mb > _MAX_FLUSH_MB:
        raise ConfigError(
            f"AZLOGS_FLUSH_MB={flush_mb!r} is above {_MAX_FLUSH_MB} (a flush is held in memory "
            "and written as one Parquet file per category and hour). Default 32 (MB)."
        )
    return DrainSettings(
        max_events=int(max_events) if max_events else None,
        max_seconds=_number(
            env,
            "AZLOGS_DRAIN_MAX_SECONDS",
            DEFAULT_DRAIN_MAX_SECONDS,
            "Default 3600: a drain stops after an hour, lands what it has and the next run "
            "resumes.",
        )
        or DEFAULT_DRAIN_MAX_SECONDS,
        flush_records=int(flush_records or 50_000),
        flush_bytes=int((flush_mb or DEFAULT_FLUSH_MB) * 1024 * 1024),
    )


def load_drain_parallelism(environ: Mapping[str, str] | None = None) -> int:
    """How many partitions `azlogs run` drains at once (``AZLOGS_DRAIN_PARALLELISM``, a positive
    whole number; default: the cores this process may use)."""
    env = _environment(environ)
    raw = _get(env, "AZLOGS_DRAIN_PARALLELISM")
    if raw is None:
        return max(1, len(os.sched_getaffinity(0)))
    if not raw.isdigit() or int(raw) < 1:
        raise ConfigError(
            f"AZLOGS_DRAIN_PARALLELISM={raw!r} is not a positive whole number. Use e.g. 4, or "
            "leave it unset to drain as many partitions at once as there are cores."
        )
    return int(raw)


def load_build_memory_mb(environ: Mapping[str, str] | None = None) -> int:
    """The memory budget of one build process, in MB (``AZLOGS_BUILD_MEMORY_MB``, default 1024):
    DuckDB's `memory_limit` for hour and summary builds; what does not fit spills to disk under
    `<data dir>/scratch`."""
    env = _environment(environ)
    raw = _get(env, "AZLOGS_BUILD_MEMORY_MB")
    if raw is None:
        return DEFAULT_BUILD_MEMORY_MB
    if not raw.isdigit() or int(raw) < MIN_BUILD_MEMORY_MB:
        raise ConfigError(
            f"AZLOGS_BUILD_MEMORY_MB={raw!r} is not a whole number of megabytes of at least "
            f"{MIN_BUILD_MEMORY_MB}. Use e.g. 1024 (the default), about half the memory a build "
            "worker may use."
        )
    return int(raw)


_LAKE_AZ_URL = re.compile(r"^az://(?P<container>[^/@]+)(?:/(?P<prefix>.*))?$")
_LAKE_ABFSS_URL = re.compile(
    r"^abfss://(?P<container>[^/@]+)@(?P<account>[a-z0-9]+)\.dfs\.(?P<suffix>[^/]+)"
    r"(?:/(?P<prefix>.*))?$"
)
_LAKE_PREFIX_SEGMENT = re.compile(r"^[A-Za-z0-9_.=-]{1,255}$")


@dataclass(frozen=True)
class LakeSettings(StorageCredentials):
    """The lake in Azure Storage (``AZLOGS_LAKE_URL``): container, prefix and credentials.

    Credentials are the lake's own (``AZLOGS_LAKE_CONNECTION_STRING`` or ``AZLOGS_LAKE_ACCOUNT_URL``
    for Entra ID) or, by default, the checkpoint storage account's."""

    url: str
    container: str
    prefix: str


def _lake_location(url: str) -> tuple[str, str, str | None, str | None]:
    """(container, prefix, account, account blob URL) of an ``az://`` or ``abfss://`` URL."""
    hint = (
        "Use az://<container>/<prefix> or "
        "abfss://<container>@<account>.dfs.core.windows.net/<prefix>."
    )
    account = account_url = None
    match = _LAKE_AZ_URL.match(url)
    if match is None:
        match = _LAKE_ABFSS_URL.match(url)
        if match is None:
            raise ConfigError(f"AZLOGS_LAKE_URL={url!r} is not a lake URL. {hint}")
        account = match["account"]
        account_url = f"https://{account}.blob.{match['suffix']}"
    container = match["container"]
    if not _CONTAINER_NAME.match(container):
        raise ConfigError(
            f"AZLOGS_LAKE_URL names the container {container!r}, which is not a valid container "
            "name (3-63 lower-case letters, digits and single hyphens). " + hint
        )
    segments = [s for s in (match["prefix"] or "").split("/") if s]
    for segment in segments:
        if not _LAKE_PREFIX_SEGMENT.match(segment) or set(segment) == {"."}:
            raise ConfigError(
                f"AZLOGS_LAKE_URL has the path segment {segment!r}: use letters, digits, '_', "
                "'-', '.' and '=' only. " + hint
            )
    return container, "/".join(segments), account, account_url


def _lake(env: Mapping[str, str]) -> LakeSettings | None:
    url = _get(env, "AZLOGS_LAKE_URL")
    if url is None:
        return None
    container, prefix, account, account_url = _lake_location(url)
    conn, lake_url = _account_choice(env, "AZLOGS_LAKE", "lake storage account")
    if conn:
        return LakeSettings(url, container, prefix, connection_string=Secret(conn))
    if lake_url:
        if "?" in lake_url or not lake_url.startswith(("https://", "http://")):
            raise ConfigError(
                "AZLOGS_LAKE_ACCOUNT_URL must be the account's blob endpoint without a query, "
                "e.g. https://<account>.blob.core.windows.net (value not shown)."
            )
        return LakeSettings(url, container, prefix, account_url=lake_url.rstrip("/"))
    try:
        storage = _storage(env)
    except ConfigError as exc:
        if account_url is not None:  # abfss:// names the account: sign in with Entra ID
            return LakeSettings(
                url, container, prefix, account_name=account, account_url=account_url
            )
        raise ConfigError(
            "AZLOGS_LAKE_URL is set but no credentials for it are. Set "
            "AZLOGS_LAKE_CONNECTION_STRING or AZLOGS_LAKE_ACCOUNT_URL, or configure the "
            f"checkpoint storage account, which is used by default. ({exc})"
        ) from None
    if account is not None and account != _storage_account_name(storage):
        # The lake is in another account than the checkpoints: Entra ID for that account.
        return LakeSettings(url, container, prefix, account_name=account, account_url=account_url)
    return LakeSettings(
        url,
        container,
        prefix,
        connection_string=storage.connection_string,
        account_name=storage.account_name,
        account_key=storage.account_key,
        account_url=storage.account_url,
    )


def _storage_account_name(storage: StorageSettings) -> str | None:
    if storage.connection_string is not None:
        parts = parse_connection_string(
            storage.connection_string.get(), "AZLOGS_STORAGE_CONNECTION_STRING"
        )
        return parts.get("accountname")
    return storage.account_name


def load_lake_settings(environ: Mapping[str, str] | None = None) -> LakeSettings | None:
    """The lake in Azure Storage, or None for the local directory under the data dir.

    ``AZLOGS_LAKE_URL`` is ``az://<container>/<prefix>`` or
    ``abfss://<container>@<account>.dfs.core.windows.net/<prefix>``; credentials are
    ``AZLOGS_LAKE_CONNECTION_STRING``, ``AZLOGS_LAKE_ACCOUNT_URL`` (Entra ID), or by default the
    checkpoint storage account's. It needs no Event Hub settings (the catalog and `azlogs sql` use it).
    """
    if environ is None and not (
        os.environ.get("AZLOGS_LAKE_URL", "").strip()
        or _dotenv().get("AZLOGS_LAKE_URL", "").strip()
    ):
        return None  # the local lake: no need to copy the whole environment (asked per path)
    return _lake(_environment(environ))


DEFAULT_SLOT_WAIT_SECONDS = 600.0


def load_slot_wait_seconds(environ: Mapping[str, str] | None = None) -> float:
    """How long a run of `azlogs run` waits for a free slot of its pool before it fails
    (AZLOGS_SLOT_WAIT_SECONDS, default 600)."""
    value = _number(
        _environment(environ),
        "AZLOGS_SLOT_WAIT_SECONDS",
        DEFAULT_SLOT_WAIT_SECONDS,
        f"Default {DEFAULT_SLOT_WAIT_SECONDS:.0f} (seconds).",
    )
    return value or DEFAULT_SLOT_WAIT_SECONDS


DEFAULT_PARTITION_START = "2025-01-01"


def load_partition_start(environ: Mapping[str, str] | None = None) -> datetime:
    """First hour of the hourly partitions (AZLOGS_PARTITION_START, a UTC date or time).

    Dagster needs the same value in every process (webserver, daemon, runs), so it is a fixed
    date rather than "N days ago"; records older than it stay in the raw lake.
    """
    raw = _get(_environment(environ), "AZLOGS_PARTITION_START") or DEFAULT_PARTITION_START
    try:
        start = datetime.fromisoformat(raw)
    except ValueError:
        raise ConfigError(
            f"AZLOGS_PARTITION_START={raw!r} is not an ISO date or time. Use a UTC date such as "
            f"{DEFAULT_PARTITION_START} (the default)."
        ) from None
    if start.tzinfo is None:
        start = start.replace(tzinfo=UTC)
    return start.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


DAGSTER_PG_URL = "AZLOGS_DAGSTER_PG_URL"
_DAGSTER_PG_FIELDS = (
    ("hostname", "AZLOGS_DAGSTER_PG_HOST"),
    ("port", "AZLOGS_DAGSTER_PG_PORT"),
    ("username", "AZLOGS_DAGSTER_PG_USER"),
    ("password", "AZLOGS_DAGSTER_PG_PASSWORD"),
    ("db_name", "AZLOGS_DAGSTER_PG_DB"),
)


@dataclass(frozen=True)
class DagsterPostgres:
    """The Dagster instance's PostgreSQL storage, as the *names* of the variables that are set.

    The instance yaml refers to them with ``env:``, so Dagster reads the values itself when it
    opens the instance and no password is ever written to a file.
    """

    url_variable: str | None = None
    fields: tuple[tuple[str, str], ...] = ()
    """(dagster ``postgres_db`` field, variable name) pairs, when no URL is given."""
    address: tuple[str, int] | None = None
    """(host, port) of the server, not secret: checked before Dagster retries for half a minute."""


def load_dagster_postgres(environ: Mapping[str, str] | None = None) -> DagsterPostgres | None:
    """PostgreSQL for the Dagster instance (runs, event logs, schedules), or None for the local
    SQLite files under the data dir.

    Either ``AZLOGS_DAGSTER_PG_URL=postgresql://user:password@host:5432/db``, or
    ``AZLOGS_DAGSTER_PG_HOST``, ``_USER``, ``_DB`` and optionally ``_PORT`` and ``_PASSWORD``.
    """
    env = _environment(environ)
    url = _get(env, DAGSTER_PG_URL)
    present = tuple((f, name) for f, name in _DAGSTER_PG_FIELDS if _get(env, name))
    if url:
        if not url.startswith(("postgresql://", "postgres://")):
            raise ConfigError(
                f"{DAGSTER_PG_URL} does not start with postgresql://. Use the form "
                "postgresql://<user>:<password>@<host>:5432/<database> (value not shown)."
            )
        if present:
            raise ConfigError(
                f"{DAGSTER_PG_URL} and {', '.join(name for _, name in present)} are both set. "
                "Set either the URL or the separate AZLOGS_DAGSTER_PG_* settings, not both."
            )
        return DagsterPostgres(url_variable=DAGSTER_PG_URL, address=_url_address(url))
    if not present:
        return None
    missing = [
        name
        for f, name in _DAGSTER_PG_FIELDS
        if f in {"hostname", "username", "db_name"} and not _get(env, name)
    ]
    if missing:
        raise ConfigError(
            f"Dagster's PostgreSQL storage is partly configured: {', '.join(missing)} not set. "
            "Set AZLOGS_DAGSTER_PG_HOST, AZLOGS_DAGSTER_PG_USER and AZLOGS_DAGSTER_PG_DB (plus "
            "AZLOGS_DAGSTER_PG_PASSWORD and AZLOGS_DAGSTER_PG_PORT if needed), or unset them all "
            "to keep the local SQLite files."
        )
    port = _get(env, "AZLOGS_DAGSTER_PG_PORT")
    if port is not None and not (port.isdigit() and 0 < int(port) < 65536):
        raise ConfigError(
            f"AZLOGS_DAGSTER_PG_PORT={port!r} is not a TCP port. Use a number such as 5432."
        )
    host = _get(env, "AZLOGS_DAGSTER_PG_HOST") or ""
    return DagsterPostgres(fields=present, address=(host, int(port or 5432)))


def _url_address(url: str) -> tuple[str, int] | None:
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(url)
        return (parts.hostname, parts.port or 5432) if parts.hostname else None
    except ValueError:
        raise ConfigError(
            f"{DAGSTER_PG_URL} is not a valid URL (value not shown). Use the form "
            "postgresql://<user>:<password>@<host>:5432/<database>."
        ) from None


def load_local_tool(name: str, environ: Mapping[str, str] | None = None) -> str | None:
    """Settings of the local tools, read here like every other one: ``AZLOGS_AZURITE_BIN`` (an
    azurite-blob executable), ``AZLOGS_UI_PORT`` (port of `make ui`), ``AZLOGS_DEMO_RECORDS``
    (records `make demo` and `make ui` publish, default 20000), and Dagster's own
    ``DAGSTER_HOME``."""
    if name not in {"AZLOGS_AZURITE_BIN", "AZLOGS_UI_PORT", "AZLOGS_DEMO_RECORDS", "DAGSTER_HOME"}:
        raise KeyError(name)
    return _get(_environment(environ), name)


def load_dagster_home(environ: Mapping[str, str] | None = None) -> Path | None:
    """``DAGSTER_HOME`` when set: an absolute path to an existing directory, as Dagster needs."""
    raw = _get(_environment(environ), "DAGSTER_HOME")
    if raw is None:
        return None
    path = Path(raw).expanduser()
    if not path.is_absolute():
        raise ConfigError(
            f"DAGSTER_HOME={raw!r} is a relative path; Dagster needs an absolute one. Set it to "
            "the full path, or unset it to keep the instance under AZLOGS_DATA_DIR/dagster."
        )
    if not path.is_dir():
        raise ConfigError(
            f"DAGSTER_HOME={raw!r} is not an existing directory. Create it (Dagster reads its "
            "dagster.yaml there), or unset it to keep the instance under AZLOGS_DATA_DIR/dagster."
        )
    return path


def load_eventhub_settings(environ: Mapping[str, str] | None = None) -> EventHubSettings:
    """The Event Hubs settings alone (enough to publish)."""
    return _eventhub(_environment(environ))


def load_data_dir(environ: Mapping[str, str] | None = None) -> Path:
    """The data directory alone: it needs no Azure settings (catalog, status, tests)."""
    env = _environment(environ)
    path = Path(_get(env, "AZLOGS_DATA_DIR") or DEFAULT_DATA_DIR).expanduser()
    if path.exists() and not path.is_dir():
        raise ConfigError(
            f"AZLOGS_DATA_DIR={str(path)!r} is a file, not a directory. Point it at a directory "
            "(created when missing) that holds the lake, the catalog and the Dagster instance."
        )
    return path


def load_sql_history(environ: Mapping[str, str] | None = None) -> Path | None:
    """Where `azlogs sql`'s interactive session keeps its history: ``AZLOGS_SQL_HISTORY``
    (default ``~/.azlogs_sql_history``; empty: keep none)."""
    value = _environment(environ).get("AZLOGS_SQL_HISTORY")
    if value is None:
        return Path("~/.azlogs_sql_history").expanduser()
    return Path(value).expanduser() if value.strip() else None


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Read and validate every setting; ``environ`` defaults to the process environment plus .env.

    Raises :class:`ConfigError` with one clear message on the first problem found.
    """
    env = _environment(environ)
    return Settings(
        eventhub=_eventhub(env),
        storage=_storage(env),
        data_dir=load_data_dir(env),
        drain=_drain(env),
    )


SEVERITIES = ("low", "medium", "high")
"""Finding severities, lowest first (the order `AZLOGS_ALERT_MIN_SEVERITY` compares in)."""


@dataclass(frozen=True)
class AlertSettings:
    """Where findings are POSTed and which ones (`azlogs_pipeline.alerts` has the delivery rule).

    ``webhook_url`` is a secret (it authorizes posting); None means alerts are off."""

    webhook_url: Secret | None = None
    min_severity: str = "medium"
    max_age_hours: float = 24.0
    """Findings whose window ended longer ago than this (backfills, late data) go to a digest."""
    max_posts: int = 20
    """More new findings than this in one delivery pass go to one digest instead of one post each."""


def load_alert_settings(environ: Mapping[str, str] | None = None) -> AlertSettings:
    """``AZLOGS_ALERT_WEBHOOK_URL`` (secret; a Teams, Slack or any HTTPS incoming webhook),
    ``AZLOGS_ALERT_MIN_SEVERITY`` (low, medium or high; default medium),
    ``AZLOGS_ALERT_MAX_AGE_HOURS`` (default 24) and ``AZLOGS_ALERT_MAX_POSTS`` (default 20)."""
    env = _environment(environ)
    url = _get(env, "AZLOGS_ALERT_WEBHOOK_URL")
    if url is not None and not re.match(r"^https?://[^/\s?#]+", url):
        raise ConfigError(
            "AZLOGS_ALERT_WEBHOOK_URL is not an http(s) URL (value not shown). Paste the whole "
            "incoming-webhook URL of the Teams channel or Slack app, starting with https://."
        )
    max_age = _number(env, "AZLOGS_ALERT_MAX_AGE_HOURS", 24.0, "Default 24 (hours).")
    max_posts = _number(env, "AZLOGS_ALERT_MAX_POSTS", 20, "Default 20 (posts per pass).")
    return AlertSettings(
        webhook_url=Secret(url) if url else None,
        min_severity=_choice(env, "AZLOGS_ALERT_MIN_SEVERITY", "medium", SEVERITIES),
        max_age_hours=float(max_age or 24.0),
        max_posts=int(max_posts or 20),
    )
