"""Normalized tables -> summaries and detections (DuckDB SQL, one file per summary).

The contract every summary keeps (add one by appending a `SummarySpec` to `specs.SUMMARIES` and
writing `sql/<name>.sql`; the Dagster asset, catalog view and schema seed follow from the spec):

- `SummarySpec(name, tables, lookback_hours=0, grain="hour")`: `name` is the SQL file
  `summarize/sql/<name>.sql`, the lake directory `lake/summaries/<name>/` and the catalog view;
  `tables` are the normalized tables the SQL reads; `lookback_hours` the hours BEFORE the
  partition's window it also reads; `grain` "hour" (hourly partitions) or "day" (UTC day, a 24 h
  window, file `lake/summaries/<name>/date=YYYY-MM-DD/part.parquet`).
- Inside the SQL: each table in `tables` is a view of that name holding only the table-hour files of
  `[window_start - lookback, window_end)` (zero rows, right columns, when there are none). Filter
  on `event_time` against the one-row view `summary_window(window_start, window_end,
  lookback_start)` (TIMESTAMPTZ): rows of the look-back are there for history only.
  `detection_thresholds` (one row, see `thresholds.DetectionThresholds`) is there too. The macros
  of `normalize/sql/_macros.sql` and `summarize/sql/_macros.sql` are available. Never paste a
  value into SQL: anything variable comes through these views.
- A range of partitions runs the SELECT once for many of them (`summarize/inputs.py`): as a
  LATERAL subquery per `summary_window` row, so write joins, not subquery expressions (EXISTS,
  `(SELECT ...)` as a value, a LATERAL of its own): DuckDB 1.5.5 fails on them nested there
  (`test_range_inputs` checks every file).
- Output: the SELECT's rows, sorted on all columns (deterministic), replace the partition's file
  atomically; no rows removes the file. Build any partition any number of times, in any order: same
  file. A row must belong to exactly one partition (e.g. the hour of the event that makes it), so
  rebuilding neighbours never reports it twice.
- `summaries=(...)`: hourly summaries (listed before it in `SUMMARIES`) it also reads, as views of
  their hours in the same `[window_start - lookback, window_end)`. Its partition then depends on
  the table hours those read too (`specs.input_window`): the lake plan rebuilds it when they
  change and only after the partitions it reads are rebuilt (`lake.reconcile`).
- `build_summary(data_dir, name, start)` builds the partition containing `start`;
  `summary_schema(name)` is the SQL run over empty tables (catalog seeds and checks).
"""

from azlogs_pipeline.summarize.build import (
    SummaryResult,
    build_summary,
    partition_window,
    summary_schema,
    summary_schemas,
)
from azlogs_pipeline.summarize.specs import SUMMARIES, SummarySpec, summary_names, summary_spec
from azlogs_pipeline.summarize.thresholds import DEFAULT_THRESHOLDS, DetectionThresholds

__all__ = [
    "DEFAULT_THRESHOLDS",
    "SUMMARIES",
    "DetectionThresholds",
    "SummaryResult",
    "SummarySpec",
    "build_summary",
    "partition_window",
    "summary_names",
    "summary_schema",
    "summary_schemas",
    "summary_spec",
]
