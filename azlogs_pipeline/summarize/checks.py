"""What the summaries' checks look at: the sign-in summary of each hour against the rows of that
hour's signin_logs file (nothing lost, nothing doubled between the table and its summary)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from azlogs_pipeline.lake.parquet import open_parquet
from azlogs_pipeline.lake.paths import current_partition_file, table_hour_file
from azlogs_pipeline.summarize.build import SummaryResult
from azlogs_pipeline.summarize.report import signin_totals


@dataclass(frozen=True)
class SigninReconciliation:
    attempts: int
    """sum(attempts) of the summary hours built."""
    signin_logs_rows: int
    """Rows of the same hours' signin_logs files."""
    hours_not_reconciled: list[str]
    """Hours (`YYYY-MM-DD-HH`) whose two counts differ."""


def reconcile_signins(data_dir: Path, results: Sequence[SummaryResult]) -> SigninReconciliation:
    """Compare each built signin_summary hour with its signin_logs file (read for its row count)."""
    attempts = rows = 0
    wrong = []
    for result in results:
        path = current_partition_file(table_hour_file(data_dir, "signin_logs", result.window_start))
        table_rows = open_parquet(path).metadata.num_rows if path is not None else 0
        hour_attempts = signin_totals(result.data)["attempts"]
        attempts, rows = attempts + hour_attempts, rows + table_rows
        if hour_attempts != table_rows:
            wrong.append(f"{result.window_start:%Y-%m-%d-%H}")
    return SigninReconciliation(attempts, rows, wrong)
