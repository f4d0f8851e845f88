"""How hours are grouped into runs (assets/partitions.py): a day at most, or up to two weeks while
the hours are small."""

from datetime import datetime, timedelta

from azlogs_pipeline.assets.partitions import (
    MAX_HOURS_PER_RUN,
    MAX_SPARSE_HOURS_PER_RUN,
    PartitionRange,
    hour_ranges,
)

START = datetime(2026, 11, 1)


def keys(first: int, count: int) -> list[str]:
    return [f"{START + timedelta(hours=first + n):%Y-%m-%d-%H}" for n in range(count)]


def label(first: int, last: int) -> tuple[str, str]:
    return (
        f"{START + timedelta(hours=first):%Y-%m-%d-%H}:00",
        f"{START + timedelta(hours=last):%Y-%m-%d-%H}:00",
    )


def spans(ranges: list[PartitionRange]) -> list[tuple[str, str, int]]:
    return [(r.first, r.last, r.size) for r in ranges]


def test_without_sizes_a_range_holds_at_most_a_day() -> None:
    hours = keys(0, 50)
    assert spans(hour_ranges(hours)) == [
        (*label(0, 23), 24),
        (*label(24, 47), 24),
        (*label(48, 49), 2),
    ]


def test_small_hours_go_on_up_to_two_weeks_per_run() -> None:
    hours = keys(0, 400)
    ranges = hour_ranges(hours, dict.fromkeys(hours, 1_000), 10_000_000)
    assert MAX_SPARSE_HOURS_PER_RUN == 336
    assert spans(ranges) == [(*label(0, 335), 336), (*label(336, 399), 64)]


def test_a_range_past_a_day_stops_where_its_bytes_would_pass_the_budget() -> None:
    hours = keys(0, 100)
    sizes = dict.fromkeys(hours, 100)
    sizes[hours[60]] = 5_000  # hours 0..59 hold 6,000 bytes; with hour 60, 11,000
    ranges = hour_ranges(hours, sizes, 10_000)
    # hour 60 starts a range; it goes on past its day while it stays within the budget
    assert spans(ranges) == [(*label(0, 59), 60), (*label(60, 99), 40)]


def test_large_hours_keep_ranges_of_a_day() -> None:
    hours = keys(0, 48)
    ranges = hour_ranges(hours, dict.fromkeys(hours, 1_000_000), 10_000_000)
    assert [r.size for r in ranges] == [MAX_HOURS_PER_RUN, MAX_HOURS_PER_RUN]


def test_gaps_count_as_hours_of_the_range() -> None:
    hours = [*keys(0, 2), *keys(300, 2), *keys(700, 1)]
    ranges = hour_ranges(hours, dict.fromkeys(hours, 10), 1_000)
    assert spans(ranges) == [(*label(0, 301), 302), (*label(700, 700), 1)]
