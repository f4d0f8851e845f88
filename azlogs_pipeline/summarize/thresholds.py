"""The detection thresholds: defaults, where each default comes from, and how SQL sees them.

The SQL never has a number pasted in: `signin_detections.sql` reads the one-row view
`detection_thresholds`, whose columns are the fields below (lists stay lists). Override any of them
with `DetectionThresholds(field=value)`, passed to `build_summary(..., thresholds=...)` or given
as run config of the `signin_detections` Dagster asset.

Where the defaults come from:
- the analyst questions at the end of reference/entra-logs.md (questions 2 to 7), which are also the
  rules the synthetic generator's injected scenarios cross on purpose
  (`azlogs_pipeline.local.generator.scenarios.RULES` and `IMPOSSIBLE_SPEED_KMH`);
- where the questions leave a choice open, the value chosen is said on the field.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields

import pyarrow as pa

from azlogs_pipeline.summarize.specs import NEW_COUNTRY_HISTORY_HOURS

EARTH_HALF_CIRCUMFERENCE_KM = 20_037.5
"""No two points on Earth are farther apart: a pair of sign-ins more than this distance over the
speed threshold apart in time can never be impossible travel, which bounds that rule's look-back."""


@dataclass(frozen=True, slots=True)
class DetectionThresholds:
    """Thresholds of the sign-in detections (defaults documented per field)."""

    spray_window_minutes: int = 20
    """Password spray window. Question 2: "within 20 minutes"."""
    spray_min_users: int = 5
    """Distinct users one IP fails for. Question 2: "5+ distinct users"."""
    spray_error_codes: tuple[int, ...] = (50126, 50053, 50055)
    """Failures that count for a spray. Question 2: bad password, lockout, expired password."""
    brute_force_min_failures: int = 30
    """Failures of one user in one UTC day. Question 3: "30+ failures"."""
    brute_force_min_locations: int = 3
    """Distinct (IP, country) locations of those failures. Question 3: "3+ distinct locations"."""
    new_country_history_days: int = 14
    """Per-user history of successful sign-ins. Question 4: "the previous 14 days"."""
    impossible_travel_speed_kmh: float = 1000.0
    """Speed between consecutive successes that is not possible. Generator's
    IMPOSSIBLE_SPEED_KMH; above an airliner's cruise speed (about 900 km/h)."""
    impossible_travel_min_km: float = 100.0
    """Shortest distance that counts as travel (our choice): IP geolocation is city-level, so two
    addresses of one place may be placed tens of km apart seconds from each other."""
    mfa_fatigue_min_denials: int = 10
    """MFA denials (500121) before the success. Question 7: "10+ denials"."""
    mfa_fatigue_window_minutes: int = 60
    """Denials are counted over this long before the success (our choice: a push-bombing burst
    lasts minutes to tens of minutes)."""
    mfa_fatigue_success_within_minutes: int = 10
    """The success follows the last denial within this long. Question 7: "within minutes"."""
    legacy_auth_quiet_hours: int = 24
    """A user's legacy-client successes are reported once per episode: a new detection only after
    this long without one (our choice: one finding per user and day of use, not one per sign-in)."""

    def __post_init__(self) -> None:
        for item in fields(self):
            value = getattr(self, item.name)
            values = value if isinstance(value, tuple) else (value,)
            if not values or any(not v > 0 for v in values):
                raise ValueError(f"detection threshold {item.name} must be positive, got {value!r}")
        if self.lookback_hours() > NEW_COUNTRY_HISTORY_HOURS:
            raise ValueError(
                f"detection thresholds need {self.lookback_hours()} hours of history but "
                f"signin_detections reads {NEW_COUNTRY_HISTORY_HOURS}: lower the windows "
                "(new_country_history_days at most 14)"
            )

    def lookback_hours(self) -> int:
        """Hours before an hour that its detections need to read (the longest rule)."""
        travel = EARTH_HALF_CIRCUMFERENCE_KM / self.impossible_travel_speed_kmh
        return math.ceil(
            max(
                2 * self.spray_window_minutes / 60,
                24.0,  # brute force: the UTC day so far
                self.new_country_history_days * 24,
                travel,
                self.mfa_fatigue_window_minutes / 60,
                self.legacy_auth_quiet_hours,
            )
        )

    def to_arrow(self) -> pa.Table:
        """The one-row table behind the `detection_thresholds` view (types from the fields)."""
        columns = {}
        for item in fields(self):
            value = getattr(self, item.name)
            kind = _ARROW_TYPES[str(item.type)]
            columns[item.name] = pa.array(
                [list(value) if isinstance(value, tuple) else value], kind
            )
        return pa.table(columns)


_ARROW_TYPES: dict[str, pa.DataType] = {
    "int": pa.int64(),
    "float": pa.float64(),
    "tuple[int, ...]": pa.list_(pa.int64()),
}

DEFAULT_THRESHOLDS = DetectionThresholds()
