"""The words every part of the pipeline shares: the log categories, the keys of hours, days and
Event Hub partitions, the version of the schemas the lake's files carry, and the names of the
detections (the summaries raise them, reports and alerts list them, the generator injects them)."""

from __future__ import annotations

ACTIVITY_LOG_CATEGORIES: tuple[str, ...] = (
    "Administrative",
    "Security",
    "ServiceHealth",
    "Alert",
    "Recommendation",
    "Policy",
    "Autoscale",
    "ResourceHealth",
    "Action",
    "Write",
)
"""Azure Activity log categories (`Action` and `Write` appear on older records)."""

SIGNIN_CATEGORIES: tuple[str, ...] = (
    "SignInLogs",
    "NonInteractiveUserSignInLogs",
    "ServicePrincipalSignInLogs",
    "ManagedIdentitySignInLogs",
    "ADFSSignInLogs",
    "MicrosoftServicePrincipalSignInLogs",
)
"""The sign-in categories (one table, `signin_logs`, with a `signin_type` per category)."""

KNOWN_CATEGORIES: tuple[str, ...] = (
    *SIGNIN_CATEGORIES,
    "AuditLogs",
    "ProvisioningLogs",
    "RiskyUsers",
    "UserRiskEvents",
    "RiskyServicePrincipals",
    "ServicePrincipalRiskEvents",
    "MicrosoftGraphActivityLogs",
    "NetworkAccessTrafficLogs",
    "EnrichedOffice365AuditLogs",
    "RemoteNetworkHealthLogs",
    "CustomSecurityAttributeAuditLogs",
    "B2CRequestLogs",
    *ACTIVITY_LOG_CATEGORIES,
)
"""Every category Entra ID and the Activity log send, in their canonical spelling."""

HOUR_KEY_FORMAT = "%Y-%m-%d-%H"
"""An hour of event time as the lake and the build plan name it (`2026-11-20-07`, UTC)."""
DAY_KEY_FORMAT = "%Y-%m-%d"
"""A UTC day (`2026-11-20`): daily summaries and reports."""

SCHEMA_VERSION = "1"
"""Written into every Parquet file's key-value metadata (`azlogs.schema_version`)."""

SIGNIN_DETECTION_KINDS: tuple[str, ...] = (
    "password_spray",
    "distributed_brute_force",
    "new_country",
    "impossible_travel",
    "mfa_fatigue",
    "legacy_auth_success",
)
"""Every detection `signin_detections.sql` raises, in the order reports list them."""
DIRECTORY_DETECTION_KINDS: tuple[str, ...] = (
    "ca_policy_weakened",
    "app_credential_added",
    "privileged_role_assigned",
    "consent_to_risky_permissions",
    "auth_method_changed_after_risk",
)
"""Every detection `directory_detections.sql` raises."""
SESSION_DETECTION_KINDS: tuple[str, ...] = (
    "session_from_multiple_countries",
    "device_code_signin",
    "disabled_account_probing",
    "success_after_attack",
)
"""Every detection `session_detections.sql` raises."""
FEED_DETECTION_KINDS: tuple[str, ...] = ("log_feed_tampered", "category_went_silent")
"""Every detection `feed_detections.sql` raises."""


def eventhub_partition_key(eventhub: str, partition_id: str) -> str:
    """`<hub>:<partition>`, the key of one Event Hub partition (in Dagster and in messages)."""
    return f"{eventhub}:{partition_id}"


def split_eventhub_partition_key(key: str) -> tuple[str, str]:
    """The hub and partition id of an `eventhub_partition_key`."""
    eventhub, sep, partition_id = key.rpartition(":")
    if not sep or not eventhub or not partition_id:
        raise ValueError(
            f"{key!r} is not an Event Hub partition key of the form '<hub>:<partition>'"
        )
    return eventhub, partition_id
