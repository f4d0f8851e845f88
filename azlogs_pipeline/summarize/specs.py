"""Which summaries exist, which tables each reads, how far back it looks and how it is partitioned.

Each summary is one SQL file, `summarize/sql/<name>.sql`: a single SELECT over views named after
the tables in `tables` (each holding only the table-hour files of the summary's read window) and the
one-row view `summary_window`; see the package docstring for the whole contract.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from azlogs_pipeline.normalize.tables import TABLE_NAMES
from azlogs_pipeline.vocabulary import DAY_KEY_FORMAT, HOUR_KEY_FORMAT

HOUR_GRAIN = "hour"
DAY_GRAIN = "day"
GRAINS = (HOUR_GRAIN, DAY_GRAIN)


@dataclass(frozen=True, slots=True)
class SummarySpec:
    """A summary: its name (SQL file, lake directory and catalog view), the normalized tables it
    reads, the hours before its window it also reads, and its partition grain."""

    name: str
    tables: tuple[str, ...]
    lookback_hours: int = 0
    grain: str = HOUR_GRAIN
    summaries: tuple[str, ...] = ()
    """Hourly summaries it also reads (same window and look-back), built before it."""

    def __post_init__(self) -> None:
        if self.grain not in GRAINS:
            raise ValueError(f"summary {self.name!r}: grain must be one of {GRAINS}")
        if self.lookback_hours < 0:
            raise ValueError(f"summary {self.name!r}: lookback_hours must be >= 0")
        if not self.tables:
            raise ValueError(f"summary {self.name!r} reads no table")

    @property
    def sql_file(self) -> str:
        return f"{self.name}.sql"

    @property
    def window_hours(self) -> int:
        """Hours in one partition's window: 1 (hourly) or 24 (daily)."""
        return 24 if self.grain == DAY_GRAIN else 1

    def read_window(self, partition: str) -> tuple[str, str]:
        """The hour keys [first, end) that partition `YYYY-MM-DD-HH` (or day `YYYY-MM-DD`)
        reads: its window plus the look-back."""
        fmt = DAY_KEY_FORMAT if self.grain == DAY_GRAIN else HOUR_KEY_FORMAT
        start = datetime.strptime(partition, fmt)
        end = start + timedelta(hours=self.window_hours)
        first = start - timedelta(hours=self.lookback_hours)
        return first.strftime(HOUR_KEY_FORMAT), end.strftime(HOUR_KEY_FORMAT)


NEW_COUNTRY_HISTORY_HOURS = 14 * 24
"""signin_detections reads 14 days back: the new-country rule's per-user history (the longest of
its detections; each detection filters its own shorter look-back inside the SQL)."""

SUMMARIES: tuple[SummarySpec, ...] = (
    SummarySpec("signin_summary", ("signin_logs",)),
    SummarySpec("signin_detections", ("signin_logs",), lookback_hours=NEW_COUNTRY_HISTORY_HOURS),
)


def summary_names() -> tuple[str, ...]:
    return tuple(spec.name for spec in SUMMARIES)


def summary_spec(name: str) -> SummarySpec:
    """The spec of summary `name`; ValueError listing the known summaries otherwise."""
    for spec in SUMMARIES:
        if spec.name == name:
            return spec
    raise ValueError(f"unknown summary {name!r}; known summaries: {', '.join(summary_names())}")


RISK_STATE_LOOKBACK_HOURS = 90 * 24
"""risky_users_current reads 90 days of risky_users: Identity Protection keeps risk detections for
90 days, and a user whose risk has not changed for that long is no current lead."""
RISK_WEEK_HOURS = 7 * 24
"""top_risky_users reads 7 days: detections in 7 days (and failed sign-ins in the last 24 h)."""
CREATED_THEN_DELETED_HOURS = 24
"""audit_highlights reads 24 h back: a user deleted in the hour may have been created a day ago."""

SUMMARIES += (
    SummarySpec("risky_users_current", ("risky_users",), lookback_hours=RISK_STATE_LOOKBACK_HOURS),
    SummarySpec("risk_events_daily", ("user_risk_events",), grain=DAY_GRAIN),
    SummarySpec(
        "top_risky_users",
        ("risky_users", "user_risk_events", "signin_logs"),
        lookback_hours=RISK_WEEK_HOURS,
    ),
    SummarySpec("audit_highlights", ("audit_logs",), lookback_hours=CREATED_THEN_DELETED_HOURS),
)

ALL_TABLES: tuple[str, ...] = tuple(TABLE_NAMES)
"""Every normalized table (feed health reads them all)."""
DIRECTORY_HISTORY_HOURS = 24
"""directory_detections reads 24 h back: admin consent before a credential, risk before a
security info change (their thresholds are at most this)."""
SESSION_HISTORY_HOURS = 14 * 24
"""session_detections reads 14 days back: a user's device-code history (the longest of its
rules), the 24 h after a spray or brute force, the window of a session."""
FEED_HISTORY_HOURS = 7 * 24 + 24 + 1
"""feed_detections reads 8 days and an hour of feed_health back: 7 days of arrivals before a
category's last record, and up to 24 hours of silence after it."""
FAMILY_LOOKBACK_HOURS: dict[str, int] = {
    "directory_detections": DIRECTORY_HISTORY_HOURS,
    "feed_detections": FEED_HISTORY_HOURS,
    "session_detections": SESSION_HISTORY_HOURS,
}
"""Hours of history each newer detection family reads (thresholds are checked against it)."""

SUMMARIES += (
    SummarySpec(
        "directory_detections",
        ("audit_logs", "signin_logs", "user_risk_events"),
        lookback_hours=DIRECTORY_HISTORY_HOURS,
    ),
    SummarySpec(
        "session_detections",
        ("signin_logs",),
        lookback_hours=SESSION_HISTORY_HOURS,
        summaries=("signin_detections",),
    ),
    SummarySpec("feed_health", ALL_TABLES),
    SummarySpec(
        "feed_detections",
        ("activity_logs",),
        lookback_hours=FEED_HISTORY_HOURS,
        summaries=("feed_health",),
    ),
)


def _check_reads_of_summaries() -> None:
    """A summary reads only hourly summaries listed before it (the order they are built in)."""
    seen: dict[str, SummarySpec] = {}
    for spec in SUMMARIES:
        for upstream in spec.summaries:
            if upstream not in seen or seen[upstream].grain != HOUR_GRAIN:
                raise ValueError(
                    f"summary {spec.name!r} reads {upstream!r}, which must be an hourly summary "
                    "listed before it in SUMMARIES"
                )
        seen[spec.name] = spec


_check_reads_of_summaries()


def input_tables(spec: SummarySpec) -> tuple[str, ...]:
    """The tables a summary's rows depend on: those it reads and those the summaries it reads
    read (what its build's digest covers, and what gives one of its partitions data)."""
    names = list(spec.tables)
    for upstream in spec.summaries:
        names += [t for t in input_tables(summary_spec(upstream)) if t not in names]
    return tuple(names)


def _upstream_lookback_hours(spec: SummarySpec) -> int:
    return max(
        (
            summary_spec(u).lookback_hours + _upstream_lookback_hours(summary_spec(u))
            for u in spec.summaries
        ),
        default=0,
    )


def input_window(spec: SummarySpec, partition: str) -> tuple[str, str]:
    """The hour keys [first, end) of the table hours partition `partition` depends on: its read
    window, reaching further back by the look-back of the summaries it reads (the first summary
    hour it reads was itself built from the hours before it)."""
    first, end = spec.read_window(partition)
    extra = timedelta(hours=_upstream_lookback_hours(spec))
    return (datetime.strptime(first, HOUR_KEY_FORMAT) - extra).strftime(HOUR_KEY_FORMAT), end


DETECTION_FAMILIES: tuple[str, ...] = (
    "signin_detections",
    "directory_detections",
    "session_detections",
    "feed_detections",
)
"""The summaries whose rows are findings; the catalog view `detections` unions them all
(`summarize/sql/detections_view.sql`: a family added here is added to that file too)."""
CATALOG_VIEWS: dict[str, str] = {"detections": "detections_view.sql"}
"""Catalog views over other views (name -> SQL file in `summarize/sql/`), created after the views
of the lake areas."""
