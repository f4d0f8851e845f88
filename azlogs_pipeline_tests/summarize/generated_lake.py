"""A small generated lake for summary tests: the generator's bodies landed as the drain lands them,
every hour's tables built, and the generator's ground truth to compare detections with."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from azlogs_pipeline.ingest.batch import RawBatchWriter
from azlogs_pipeline.local.generator import GeneratorOptions, generate
from azlogs_pipeline.normalize.hour import build_hour
from azlogs_pipeline.normalize.tables import TABLE_NAMES

START = datetime(2026, 3, 2, 0, tzinfo=UTC)
HOURS = 24
RECORDS = 3_000
SEED = 11
DETECTION_TABLES = tuple(TABLE_NAMES)
"""The tables the detection families read (all of them: feed health counts every category)."""


@dataclass(frozen=True)
class GeneratedLake:
    data_dir: Path
    hours: list[datetime]
    ground_truth: dict[str, Any]
    signin_rows: int


def land_generated(
    data_dir: Path,
    *,
    records: int = RECORDS,
    hours: int = HOURS,
    seed: int = SEED,
    start: datetime = START,
    silent_category: str | None = None,
    silent_hours: float = 0.0,
    tables: tuple[str, ...] = ("signin_logs",),
) -> GeneratedLake:
    """Generate, land the raw lake (one event per body, in order) and build every hour's tables
    (`silent_category`: that category stops for the run's last `silent_hours`; `tables`: the
    tables built, signin_logs always)."""
    options = GeneratorOptions(
        records=records,
        hours=hours,
        seed=seed,
        start=start,
        silent_category=silent_category,
        silent_hours=silent_hours,
    )
    generated = generate(options)
    writer = RawBatchWriter(data_dir, "adlogs", "0", clock=lambda: start + timedelta(hours=hours))
    for seq, body in enumerate(generated.bodies):
        writer.add_event(
            body, sequence_number=seq, offset=str(seq), enqueued_time=start + timedelta(hours=hours)
        )
    writer.flush()
    # Late records land in past hours; every hour of the run (plus the late tail) is built.
    all_hours = [start + timedelta(hours=h) for h in range(hours + 1)]
    rows = 0
    for hour in all_hours:
        rows += build_hour(data_dir, hour, list({"signin_logs", *tables}))["signin_logs"].rows
    return GeneratedLake(data_dir, all_hours, generated.ground_truth, rows)
