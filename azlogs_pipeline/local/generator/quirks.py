"""The irregularities of real Entra / Activity records (reference: "Quirks a parser must survive").

``Quirks`` applies them at fixed rates and counts every one it applies, so ground truth can say
how many of each kind a run holds.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import orjson

from .population import ZERO_GUID, User
from .rand import Rng, weighted_table
from .times import Clock

# Every quirk kind the generator can emit (ground truth counts them under these names).
QUIRK_KINDS = (
    "pascal_case_sp_signin",
    "time_format:iso7_offset_zero",
    "time_format:iso2",
    "time_format:iso9",
    "time_format:iso_offset_minus5",
    "time_format:iso_no_zone",
    "time_format:single_digit_hour",
    "time_format:us_12h",
    "time_format:us_12h_offset",
    "time_format:us_24h_padded",
    "duration_string",
    "level_key:level",
    "level_key:Level",
    "level_value:int",
    "level_value:numeric_string",
    "level_value:Informational",
    "level_value:Information",
    "resource_id_lower_case",
    "json_in_string:risk_additional_info",
    "json_in_string:audit_modified_properties",
    "json_in_string:authentication_processing_details",
    "json_in_string:activity_body",
    "json_in_string:claim_names",
    "ca_audiences_object",
    "provisioning_pascal_case",
    "provisioning_numeric_steps",
    "activity_identity_string",
    "activity_extra_keys",
    "activity_upper_case",
    "ip:ipv6",
    "ip:malformed_ipv6",
    "ip:cidr",
    "ip:empty",
    "ip:null_text",
    "ip:html_null",
    "ip:redacted",
    "guid_upn",
    "pii_removed_device",
    "zero_service_principal_id",
    "exact_duplicate_body",
    "risk_copy",
    "split_ca",
    "late_record",
    "body:bare_array",
    "body:bare_object",
    "body:mixed_categories",
)

ODD_IP_KINDS = ("malformed_ipv6", "cidr", "empty", "null_text", "html_null", "redacted")
_TIME_VARIANTS = weighted_table(
    [
        ("iso7_offset_zero", 2),
        ("iso2", 1),
        ("iso9", 1),
        ("iso_offset_minus5", 1),
        ("iso_no_zone", 1),
        ("single_digit_hour", 2),
        ("us_12h", 2),
        ("us_12h_offset", 1),
        ("us_24h_padded", 1),
    ]
)
_US_VARIANTS = weighted_table([("us_12h", 8), ("us_12h_offset", 1), ("us_24h_padded", 1)])
_LEVEL_VALUES = weighted_table(
    [
        ((4, "level_value:int"), 55),
        (("4", "level_value:numeric_string"), 20),
        (("Informational", "level_value:Informational"), 15),
        (("Information", "level_value:Information"), 10),
    ]
)
_DURATIONS = weighted_table([("0", 4), ("828", 2), ("-1", 1), ("14.2187", 1), ("1375", 1)])


class Quirks:
    """Applies quirks at their rates with the run's ``Rng``; ``seen`` counts what was applied."""

    time_variant_rate = 0.012
    event_time_variant_rate = 0.03
    duration_string_rate = 0.12
    lower_resource_rate = 0.15

    def __init__(self, rng: Rng, clock: Clock, tenant_id: str) -> None:
        self.rng = rng
        self.clock = clock
        self.seen: Counter[str] = Counter()
        self.tenant_resource = f"/tenants/{tenant_id}/providers/Microsoft.aadiam"
        self.tenant_resource_lower = self.tenant_resource.lower()

    def resource_id(self) -> str:
        if self.rng.random() < self.lower_resource_rate:
            self.seen["resource_id_lower_case"] += 1
            return self.tenant_resource_lower
        return self.tenant_resource

    def level(self, rec: dict[str, Any]) -> None:
        """Set the (informational) level under ``Level`` or ``level``, in one of its shapes."""
        key = "Level" if self.rng.random() < 0.7 else "level"
        self.seen["level_key:" + key] += 1
        value, kind = self.rng.pick(_LEVEL_VALUES)
        self.seen[kind] += 1
        rec[key] = value

    def duration(self) -> int | str:
        if self.rng.random() < self.duration_string_rate:
            self.seen["duration_string"] += 1
            return self.rng.pick(_DURATIONS)
        return 0

    def time(self, ticks: int) -> str:
        """Top-level ``time``: mostly 7 digits and ``Z``."""
        if self.rng.random() < self.time_variant_rate:
            return self.variant(ticks, self.rng.pick(_TIME_VARIANTS))
        return self.clock.iso(ticks)

    def event_time(self, ticks: int, offset_style: bool = False, us_rate: float = 0.0) -> str:
        """An event-time property (``createdDateTime``, ``activityDateTime``...)."""
        r = self.rng.random()
        if r < us_rate:
            return self.variant(ticks, self.rng.pick(_US_VARIANTS))
        if r < us_rate + self.event_time_variant_rate:
            return self.variant(ticks, self.rng.pick(_TIME_VARIANTS))
        return self.clock.iso_offset(ticks) if offset_style else self.clock.iso(ticks)

    def variant(self, ticks: int, kind: str) -> str:
        text = self.clock.fmt(ticks, kind)
        if kind == "single_digit_hour" and text[12] != ":":
            return text  # hour >= 10: the shape is ordinary, do not count it
        self.seen["time_format:" + kind] += 1
        return text

    def odd_ip(self, user: User | None, kind: str | None = None) -> str:
        """One of the irregular address shapes; ``redacted`` keeps the user's own prefix."""
        kind = kind or self.rng.pick(ODD_IP_KINDS)
        self.seen["ip:" + kind] += 1
        if kind == "malformed_ipv6":
            return f"::2a02:{self.rng.getrandbits(16):x}:{self.rng.getrandbits(16):x}:0:0:1"
        if kind == "cidr":
            return self.rng.pick(("127.0.0.0/8", "10.0.0.0/8", "192.168.0.0/16"))
        if kind == "empty":
            return ""
        if kind == "null_text":
            return "<null>"
        if kind == "html_null":
            return "&lt;null&gt;"
        base = user.ip if user is not None else "203.0.113.7"
        return base.rsplit(".", 1)[0] + ".XXX"

    def json_text(self, value: Any, kind: str) -> str:
        """``value`` as a JSON string nested inside a record."""
        self.seen["json_in_string:" + kind] += 1
        return orjson.dumps(value).decode()

    def zero_sp(self) -> str:
        self.seen["zero_service_principal_id"] += 1
        return ZERO_GUID
