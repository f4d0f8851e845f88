"""The detection thresholds: defaults, where each default comes from, and how SQL sees them.

The SQL never has a number pasted in: every detection family's SQL reads the one-row view
`detection_thresholds`, whose columns are the fields below (lists stay lists). Override any of them
with `DetectionThresholds(field=value)`, passed to `build_summary(..., thresholds=...)` or given
as run config of a detection family's Dagster asset.

Where the defaults come from:
- the analyst questions at the end of reference/entra-logs.md (questions 2 to 7), which are also the
  rules the synthetic generator's injected scenarios cross on purpose
  (`azlogs_pipeline.local.generator.scenarios.RULES` and `IMPOSSIBLE_SPEED_KMH`);
- for the families of issue 12 (directory, session, feed): the issue's text, Microsoft's
  documentation of the log fields, and the matching Sentinel / Elastic rules, said per field;
- where the questions leave a choice open, the value chosen is said on the field.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields

import pyarrow as pa

from azlogs_pipeline.summarize.specs import FAMILY_LOOKBACK_HOURS, NEW_COUNTRY_HISTORY_HOURS

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

    # -- directory_detections (configuration changes; audit_logs) ------------------------------
    privileged_roles: tuple[str, ...] = (
        "Global Administrator",
        "Privileged Role Administrator",
        "Privileged Authentication Administrator",
        "Application Administrator",
        "Cloud Application Administrator",
        "Security Administrator",
        "Exchange Administrator",
        "SharePoint Administrator",
    )
    """Roles whose assignment outside PIM is a finding: issue 12's list, the roles Microsoft marks
    PRIVILEGED that control the tenant, its credentials, its apps or its mail and files."""
    pim_initiators: tuple[str, ...] = ("MS-PIM",)
    """Initiators of PIM's own directory writes: a PIM activation is logged by Core Directory as
    "Add member to role" initiated by the app MS-PIM (Sentinel's "privileged role assigned outside
    PIM" rule excludes it the same way)."""
    credential_after_consent_hours: int = 24
    """A credential added this soon after the app's admin consent is high (issue 12: "admin
    consent in the previous 24 hours", the consent-phishing then persistence pattern)."""
    risky_consent_scopes: tuple[str, ...] = (
        "Mail.ReadWrite",
        "Mail.Send",
        "Mail.Read",
        "MailboxSettings.ReadWrite",
        "Files.ReadWrite.All",
        "Sites.ReadWrite.All",
        "Directory.ReadWrite.All",
        "RoleManagement.ReadWrite.Directory",
        "AppRoleAssignment.ReadWrite.All",
        "Application.ReadWrite.All",
        "User.ReadWrite.All",
        "full_access_as_app",
        "EWS.AccessAsUser.All",
    )
    """High-privilege scopes: issue 12's list plus the scopes of Microsoft's illicit consent grant
    guidance (mail, files, directory and role write, app-role and application write)."""
    auth_method_activities: tuple[str, ...] = (
        "User registered security info",
        "User registered all required security info",
        "User changed default security info",
        "User deleted security info",
        "Admin registered security info",
        "Admin updated security info",
        "Admin deleted security info",
        "Admin deleted all security info",
    )
    """The Authentication Methods audit activities that change a user's security info (Entra's
    "Security info" activity names)."""
    auth_method_after_risk_hours: int = 24
    """A security info change this soon after a medium or high risk signal of the user (issue 12:
    "within 24 h")."""

    # -- session_detections (token and session abuse; signin_logs) -----------------------------
    session_min_countries: int = 2
    """Countries one session id is used from (issue 12: "two or more countries")."""
    session_window_hours: int = 24
    """Window for a session's countries (our choice: Entra's default sign-in session lifetime
    for a browser is a day of activity; a token replay happens within its lifetime)."""
    device_code_history_days: int = 14
    """A device-code sign-in is a finding when the user had none this long (issue 12: "none in
    the previous 14 days")."""
    probing_window_minutes: int = 60
    """Disabled-account tries (50057) and another user's success from the IP within this long
    (our choice for issue 12's "the same window": an hour, as Sentinel's rule groups by hour)."""
    success_after_attack_hours: int = 24
    """A success for the entity of a spray or brute force this soon after it (our choice for
    issue 12's "N hours": a day, the lifetime of the attack's leads)."""

    # -- feed_detections (this pipeline's own feed) --------------------------------------------
    feed_tamper_operations: tuple[str, ...] = (
        "MICROSOFT.INSIGHTS/DIAGNOSTICSETTINGS/DELETE",
        "MICROSOFT.INSIGHTS/DIAGNOSTICSETTINGS/WRITE",
        "MICROSOFT.AADIAM/DIAGNOSTICSETTINGS/DELETE",
        "MICROSOFT.AADIAM/DIAGNOSTICSETTINGS/WRITE",
        "MICROSOFT.EVENTHUB/NAMESPACES/EVENTHUBS/DELETE",
        "MICROSOFT.EVENTHUB/NAMESPACES/DELETE",
        "MICROSOFT.EVENTHUB/NAMESPACES/AUTHORIZATIONRULES/REGENERATEKEYS/ACTION",
        "MICROSOFT.EVENTHUB/NAMESPACES/EVENTHUBS/AUTHORIZATIONRULES/REGENERATEKEYS/ACTION",
    )
    """Activity log operations that blind or cut this pipeline's feed (issue 12's list: Azure
    Monitor's and Entra's diagnostic settings, the Event Hub, its namespace and their keys; the
    operation names of Azure's resource provider operations list)."""
    silent_category_hours: int = 3
    """Hours without a record of a category that always arrives (issue 12: "N hours (default
    3)")."""
    silence_history_hours: int = 7 * 24
    """A category "always arrives" when it had records in each of this many clock hours before
    its last record (issue 12: "every hour of the last 7 days")."""

    def __post_init__(self) -> None:
        for item in fields(self):
            value = getattr(self, item.name)
            values = value if isinstance(value, tuple) else (value,)
            if not values or any(not (v.strip() if isinstance(v, str) else v > 0) for v in values):
                raise ValueError(
                    f"detection threshold {item.name} must be positive (or a non-empty "
                    f"name), got {value!r}"
                )
        for name, hours in self.family_lookbacks().items():
            reads = FAMILY_LOOKBACK_HOURS[name]
            if hours > reads:
                raise ValueError(
                    f"detection thresholds need {hours} hours of history but {name} reads "
                    f"{reads}: lower its windows"
                )
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

    def family_lookbacks(self) -> dict[str, int]:
        """Hours of history each newer detection family needs with these thresholds."""
        return {
            "directory_detections": max(
                self.credential_after_consent_hours, self.auth_method_after_risk_hours
            ),
            "feed_detections": self.silence_history_hours + self.silent_category_hours + 1,
            "session_detections": max(
                self.device_code_history_days * 24,
                2 * self.session_window_hours,
                self.success_after_attack_hours,
                2 * self.probing_window_minutes // 60 + 1,
            ),
        }

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
    "tuple[str, ...]": pa.list_(pa.string()),
}

DEFAULT_THRESHOLDS = DetectionThresholds()
