"""Hand-built `signin_logs` rows, written straight into table-hour files, for threshold edges."""

from __future__ import annotations

import itertools
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa

from azlogs_pipeline.lake.parquet import write_parquet_atomic
from azlogs_pipeline.lake.paths import hour_start, table_hour_file
from azlogs_pipeline.normalize.schemas import table_schemas

T0 = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
CITIES: dict[str, tuple[str, float, float]] = {
    "Berlin": ("DE", 52.52, 13.405),
    "Munich": ("DE", 48.137, 11.575),
    "Paris": ("FR", 48.857, 2.352),
    "Madrid": ("ES", 40.417, -3.704),
    "Lisbon": ("PT", 38.722, -9.139),
    "Potsdam": ("DE", 52.39, 13.065),
}
_ids = itertools.count()


def signin(
    when: datetime,
    user: str = "alice@contoso.com",
    *,
    code: int = 0,
    ip: str = "198.51.100.10",
    city: str = "Berlin",
    client: str = "Browser",
    signin_type: str = "interactive",
    **extra: Any,
) -> dict[str, Any]:
    """One sign-in row; `code` 0 is a success, 50140/50058/90025 interrupts, others failures."""
    country, lat, lon = CITIES[city]
    result = (
        "success" if code == 0 else "interrupted" if code in (50140, 50058, 90025) else "failure"
    )
    n = next(_ids)
    row = {
        "id": f"s-{n:06d}",
        "record_id": f"r-{n:06d}",
        "event_time": when,
        "category": "SignInLogs",
        "signin_type": signin_type,
        "user_id": "uid-" + user.split("@")[0],
        "user_principal_name": user,
        "app_display_name": "Office 365 Exchange Online",
        "app_id": "app-exo",
        "ip_address": ip,
        "client_app_used": client,
        "error_code": code,
        "result": result,
        "location_city": city,
        "location_country": country,
        "latitude": lat,
        "longitude": lon,
    }
    row.update(extra)
    return row


def write_signins(data_dir: Path, rows: list[dict[str, Any]]) -> list[datetime]:
    """Write `rows` as the signin_logs table-hour files of their hours; return those hours."""
    schema = table_schemas()["signin_logs"]
    by_hour: dict[datetime, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        by_hour[hour_start(row["event_time"])].append(row)
    for hour, hour_rows in by_hour.items():
        table = pa.Table.from_pylist(
            [{name: row.get(name) for name in schema.names} for row in hour_rows], schema=schema
        )
        write_parquet_atomic(table, table_hour_file(data_dir, "signin_logs", hour))
    return sorted(by_hour)
