"""The Dagster instance azlogs records its runs in: ``$DAGSTER_HOME``, or ``<data dir>/dagster``
with the project's dagster.yaml and its storage (PostgreSQL when AZLOGS_DAGSTER_PG_* is set, else
the local SQLite files through `instance_storage`), opened with one clear error when it cannot be.
"""

import json
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import dagster as dg

from azlogs_pipeline.config import DagsterPostgres, load_dagster_home, load_dagster_postgres
from azlogs_pipeline.errors import AzlogsError
from azlogs_pipeline.ingest.errors import mask_credentials
from azlogs_pipeline.lake.paths import dagster_home_dir

PROJECT_DAGSTER_YAML = Path(__file__).resolve().parents[1] / "dagster.yaml"


def instance_yaml(postgres: DagsterPostgres | None, home: Path) -> str:
    """The project's dagster.yaml, plus the storage section of the instance in ``home``: the
    PostgreSQL one when configured, else the local SQLite files under ``home/storage`` through
    `instance_storage.LakeSqliteStorage` (Dagster's layout, cheaper event writes).

    The PostgreSQL section only names environment variables (``env:``): Dagster reads the values
    when it opens the instance, so the password never lands in this file.
    """
    text = PROJECT_DAGSTER_YAML.read_text() if PROJECT_DAGSTER_YAML.exists() else ""
    if postgres is None:
        lines = [
            "",
            "# Written by azlogs (instance.instance_yaml): Dagster's SQLite storage, cheaper events.",
            "storage:",
            "  custom:",
            "    module: azlogs_pipeline.instance_storage",
            "    class: LakeSqliteStorage",
            "    config:",
            f"      base_dir: {json.dumps(str(home.resolve() / 'storage'))}",
        ]
        return text.rstrip("\n") + "\n" + "\n".join(lines) + "\n"
    lines = [
        "",
        "# Written by azlogs from the AZLOGS_DAGSTER_PG_* settings (config.py).",
        "storage:",
    ]
    lines.append("  postgres:")
    if postgres.url_variable:
        lines += ["    postgres_url:", f"      env: {postgres.url_variable}"]
    else:
        lines.append("    postgres_db:")
        for field_name, variable in postgres.fields:
            lines += [f"      {field_name}:", f"        env: {variable}"]
    return text.rstrip("\n") + "\n" + "\n".join(lines) + "\n"


def dagster_home(data_dir: Path) -> Path:
    """$DAGSTER_HOME when set (its dagster.yaml is yours); else ``<data dir>/dagster``, with the
    project's dagster.yaml (plus PostgreSQL storage when AZLOGS_DAGSTER_PG_* is set), rewritten
    whenever either changes: edit the project's file, not the copy."""
    configured = load_dagster_home()
    if configured is not None:
        return configured
    home = dagster_home_dir(data_dir)
    home.mkdir(parents=True, exist_ok=True)
    target = home / "dagster.yaml"
    wanted = instance_yaml(load_dagster_postgres(), home)
    if not target.exists() or target.read_text() != wanted:
        target.write_text(wanted)
    return home


class InstanceError(AzlogsError):
    """The Dagster instance (its PostgreSQL or SQLite storage) could not be opened."""


@contextmanager
def open_instance(data_dir: Path) -> Iterator[dg.DagsterInstance]:
    home = dagster_home(data_dir)
    postgres = load_dagster_postgres()
    if postgres is not None and postgres.address is not None:
        _check_reachable(postgres.address)
    try:
        instance = dg.DagsterInstance.from_config(str(home))
    except Exception as error:
        raise _instance_error(error, home) from error
    with instance:
        yield instance


def _check_reachable(address: tuple[str, int]) -> None:
    """Fail in seconds, not after Dagster's half minute of connection retries."""
    try:
        socket.create_connection(address, timeout=5).close()
    except OSError as error:
        raise InstanceError(
            f"The Dagster instance's PostgreSQL at {address[0]}:{address[1]} "
            "(AZLOGS_DAGSTER_PG_URL or AZLOGS_DAGSTER_PG_HOST/_PORT) does not answer "
            f"({error.strerror or type(error).__name__}). Start it or fix the settings, or unset "
            "them to keep the local SQLite files."
        ) from None


def _instance_error(error: Exception, home: Path) -> InstanceError:
    cause: BaseException = error
    while cause.__cause__ is not None:
        cause = cause.__cause__
    lines = str(cause).strip().splitlines()
    detail = mask_credentials(lines[0] if lines else type(cause).__name__)
    where = (
        "its PostgreSQL storage (AZLOGS_DAGSTER_PG_URL or AZLOGS_DAGSTER_PG_*): check that the "
        "server is up and reachable and the settings are right, or unset them to keep the local "
        "SQLite files"
        if load_dagster_postgres() is not None
        else f"its storage under {home}: check that the directory is writable"
    )
    return InstanceError(
        f"The Dagster instance could not be opened, {where}. ({type(cause).__name__}: {detail})"
    )


def ensure_pool_limit(instance: dg.DagsterInstance, pool: str | None) -> None:
    """Create the pool's limit once, here, before the drain workers start.

    Left to them, parallel workers each insert the pool's first limit row at once, and on
    PostgreSQL the loser's transaction is aborted (UniqueViolation on concurrency_limits): its
    drain fails. A limit already there (default or set in the UI) is left as it is.
    """
    storage = instance.event_log_storage
    if pool is None or not storage.supports_global_concurrency_limits:
        return
    if instance.global_op_concurrency_default_limit is None:
        return
    if any(limit.name == pool for limit in storage.get_pool_limits()):
        return
    storage.initialize_concurrency_limit_to_default(pool)
