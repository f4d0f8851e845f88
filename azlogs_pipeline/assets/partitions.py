"""The time partitions of the lake's assets: UTC event-time hours (tables, hourly summaries,
archive loads) and UTC days (daily summaries), from `AZLOGS_PARTITION_START`."""

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import accumulate

import dagster as dg

from azlogs_pipeline.config import load_partition_start
from azlogs_pipeline.vocabulary import HOUR_KEY_FORMAT

HOURLY = dg.HourlyPartitionsDefinition(
    start_date=load_partition_start().strftime("%Y-%m-%d-%H:%M"),
    timezone="UTC",
    end_offset=1,
)
DAILY = dg.DailyPartitionsDefinition(
    start_date=load_partition_start().strftime("%Y-%m-%d"), timezone="UTC", end_offset=1
)

MAX_HOURS_PER_RUN = 24
"""Hours built in one run at most (a UI backfill of a day is one run; `azlogs run` and the lake
sensor group their hours the same way)."""
HOURS_PER_RUN = dg.BackfillPolicy.multi_run(max_partitions_per_run=MAX_HOURS_PER_RUN)
MAX_SPARSE_HOURS_PER_RUN = 14 * 24
"""Hours `azlogs run` builds in one run at most when they are small (`hour_ranges` with a
budget): a run costs about a second and a half of its own (planning, steps, events, loading the
look-backs) whatever it holds, which quiet hours would otherwise pay every day."""
MAX_DAYS_PER_RUN = 31
DAYS_PER_RUN = dg.BackfillPolicy.multi_run(max_partitions_per_run=MAX_DAYS_PER_RUN)


@dataclass(frozen=True, slots=True)
class PartitionRange:
    """A range of partition keys (Dagster's form) built in one run."""

    first: str
    last: str

    size: int = 1
    """How many partitions the range holds."""

    @property
    def label(self) -> str:
        return self.first if self.first == self.last else f"{self.first}...{self.last}"


def range_tags(keys: PartitionRange) -> dict[str, str]:
    """The tags that make one run build every partition of a range."""
    return {
        "dagster/asset_partition_range_start": keys.first,
        "dagster/asset_partition_range_end": keys.last,
    }


def _ranges(
    moments: Sequence[datetime],
    span: timedelta,
    step: timedelta,
    fmt: str,
    within: Callable[[datetime, datetime], bool] | None = None,
) -> list[PartitionRange]:
    """`moments` in ranges of less than `span` from their first, or longer while `within(first,
    moment)` says the range may take `moment` too."""
    groups: list[list[datetime]] = []
    for moment in sorted(set(moments)):
        if not groups or (
            moment - groups[-1][0] >= span and (within is None or not within(groups[-1][0], moment))
        ):
            groups.append([])
        groups[-1].append(moment)
    return [
        PartitionRange(g[0].strftime(fmt), g[-1].strftime(fmt), (g[-1] - g[0]) // step + 1)
        for g in groups
    ]


def hour_ranges(
    hour_keys: Sequence[str], sizes: Mapping[str, int] | None = None, budget: int = 0
) -> list[PartitionRange]:
    """Lake hour keys (`YYYY-MM-DD-HH`) as hourly partition ranges of at most
    `MAX_HOURS_PER_RUN` hours each, oldest first (hours without data in between are built too:
    they cost a directory listing). With `sizes` (bytes of each hour's raw files), a range goes
    on up to `MAX_SPARSE_HOURS_PER_RUN` hours while its hours' bytes stay within `budget`."""
    moments = [datetime.strptime(key, HOUR_KEY_FORMAT) for key in hour_keys]
    within: Callable[[datetime, datetime], bool] | None = None
    if sizes is not None:
        keys = sorted(set(hour_keys))
        upto = dict(zip(keys, accumulate(sizes.get(key, 0) for key in keys), strict=True))

        def fits(first: datetime, moment: datetime) -> bool:
            start, key = first.strftime(HOUR_KEY_FORMAT), moment.strftime(HOUR_KEY_FORMAT)
            range_bytes = upto[key] - upto[start] + sizes.get(start, 0)
            return moment - first < timedelta(hours=MAX_SPARSE_HOURS_PER_RUN) and (
                range_bytes <= budget
            )

        within = fits

    return _ranges(
        moments, timedelta(hours=MAX_HOURS_PER_RUN), timedelta(hours=1), HOURLY.fmt, within
    )


def day_ranges(day_keys: Sequence[str]) -> list[PartitionRange]:
    """Days (`YYYY-MM-DD`) as daily partition ranges of at most `MAX_DAYS_PER_RUN` days."""
    moments = [datetime.strptime(key, "%Y-%m-%d") for key in day_keys]
    return _ranges(moments, timedelta(days=MAX_DAYS_PER_RUN), timedelta(days=1), DAILY.fmt)
