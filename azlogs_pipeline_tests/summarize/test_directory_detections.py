"""directory_detections: configuration changes an attacker makes (AuditLogs, in Azure's shapes):
every injected scenario found and nothing in the look-alike background, thresholds at their
edges, one finding per change however hours are rebuilt."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from azlogs_pipeline.summarize import DetectionThresholds, SummaryResult, build_summary
from azlogs_pipeline_tests.summarize.azure_records import (
    audit,
    audit_id,
    by_app,
    by_user,
    land,
    modified,
    target,
)
from azlogs_pipeline_tests.summarize.quality import findings
from azlogs_pipeline_tests.summarize.signins import T0, signin, write_signins

FAMILY = "directory_detections"
TABLES = ["audit_logs", "user_risk_events"]
HOUR = timedelta(hours=1)
MINUTE = timedelta(minutes=1)
CREDENTIALS = "Update application \u2013 Certificates and secrets management "


def detect(data_dir: Path, records: list[dict[str, Any]], **thresholds: Any) -> list[dict]:
    hours = land(data_dir, records, TABLES)
    limits = DetectionThresholds(**thresholds)
    return findings([build_summary(data_dir, FAMILY, h, thresholds=limits) for h in hours])


def names(found: list[dict[str, Any]]) -> list[tuple[str, str, str]]:
    return sorted((r["detection"], r["severity"], r["entity"]) for r in found)


# -- findings on generated data ------------------------------------------------------------------


@pytest.mark.timeout(900)  # may build the shared lake and the family's summaries
def test_each_finding_has_evidence_and_a_stable_unique_id(
    built_summaries: dict[str, list[SummaryResult]],
) -> None:
    found = findings(built_summaries[FAMILY])
    assert found
    assert len({row["detection_id"] for row in found}) == len(found)
    for row in found:
        assert row["window_start"] <= row["window_end"]
        assert row["hour"] <= row["window_end"] < row["hour"] + HOUR
        assert row["records"] == len(row["record_ids"]) > 0
        assert row["severity"] in ("high", "medium") and row["description"]


# -- Conditional Access ---------------------------------------------------------------------------


def ca_update(when: datetime, old: str | None, new: str | None, **kw: Any) -> dict[str, Any]:
    body = {"id": "pol-1", "displayName": "Require MFA for admins", "conditions": {}}
    props = [
        modified(
            "ConditionalAccessPolicy",
            None if old is None else {**body, "state": old},
            None if new is None else {**body, "state": new},
        )
    ]
    return audit(
        when,
        kw.pop("activity", "Update conditional access policy"),
        [target("pol-1", "Require MFA for admins", "Policy", props)],
        service=kw.pop("service", "Conditional Access"),
        category="Policy",
        **kw,
    )


def test_ca_policy_weakened(tmp_path: Path) -> None:
    t = T0 + 10 * MINUTE
    found = detect(
        tmp_path / "a",
        [
            ca_update(t, "enabled", "disabled"),
            ca_update(t + MINUTE, "enabled", "enabledForReportingButNotEnforced"),
            audit(
                t + 2 * MINUTE,
                "Delete conditional access policy",
                [target("pol-2", "Block legacy authentication", "Policy")],
                service="Conditional Access",
                category="Policy",
            ),
        ],
    )
    assert names(found) == [
        ("ca_policy_weakened", "high", "Block legacy authentication"),
        ("ca_policy_weakened", "high", "Require MFA for admins"),
        ("ca_policy_weakened", "high", "Require MFA for admins"),
    ]
    assert {r["description"].split(" by ")[0].rsplit(" ", 1)[-1] for r in found} >= {"deleted"}
    quiet = [
        ca_update(t, "enabledForReportingButNotEnforced", "enabled"),  # strengthened
        ca_update(t, "disabled", "enabledForReportingButNotEnforced"),
        ca_update(t, "enabled", "enabled"),  # another field changed
        ca_update(t, "enabled", "disabled", result="failure"),
        ca_update(t, "enabled", "disabled", service="Core Directory"),
    ]
    assert detect(tmp_path / "b", quiet) == []


# -- application credentials ----------------------------------------------------------------------


def consent(when: datetime, app: str, scopes: str, admin: bool, app_only: bool = False) -> dict:
    grant = (
        f"[] => [[Id: x1, ClientId: sp-{app}, PrincipalId: , ResourceId: r1, ConsentType: "
        f"{'AllPrincipals' if admin else 'Principal'}, Scope:  {scopes}, CreatedDateTime: , "
        "LastModifiedDateTime ]]; "
    )
    props = [
        modified("ConsentContext.IsAdminConsent", None, str(admin)),
        modified("ConsentContext.IsAppOnly", None, str(app_only)),
        modified("ConsentContext.OnBehalfOfAll", None, str(admin)),
        modified("ConsentAction.Permissions", None, grant),
    ]
    return audit(
        when, "Consent to application", [target(f"sp-{app}", app, "ServicePrincipal", props)]
    )


def credential(when: datetime, app: str, old: list[str], new: list[str], **kw: Any) -> dict:
    keys = [f"[KeyIdentifier={k},KeyType=Password,KeyUsage=Verify,DisplayName=s]" for k in new]
    olds = [f"[KeyIdentifier={k},KeyType=Password,KeyUsage=Verify,DisplayName=s]" for k in old]
    return audit(
        when,
        kw.pop("activity", CREDENTIALS),
        [target(f"app-{app}", app, "Application", [modified("KeyDescription", olds, keys)])],
        **kw,
    )


def test_app_credential_added_and_its_severity_edge(tmp_path: Path) -> None:
    t = T0 + 30 * MINUTE
    day = timedelta(hours=24)
    records = [
        consent(t - day + MINUTE, "Payroll", "User.Read", admin=True),  # just under 24 h before
        credential(t, "Payroll", [], ["k1"]),
        consent(t - day, "Ledger", "User.Read", admin=True),  # exactly 24 h before: too old
        credential(t, "Ledger", ["k0"], ["k0", "k2"]),
        consent(t - HOUR, "Notes", "User.Read", admin=False),  # user consent: no escalation
        credential(t, "Notes", [], ["k3"]),
        audit(
            t,
            "Add service principal credentials",
            [target("sp-x", "Backup Runner", "ServicePrincipal")],
            initiated=by_app("Backup Automation"),
        ),
    ]
    found = detect(tmp_path / "a", records)
    assert names(found) == [
        ("app_credential_added", "high", "Payroll"),
        ("app_credential_added", "medium", "Backup Runner"),
        ("app_credential_added", "medium", "Ledger"),
        ("app_credential_added", "medium", "Notes"),
    ]
    [payroll] = [r for r in found if r["entity"] == "Payroll"]
    assert (
        payroll["record_ids"] == [audit_id(records[1])]
        and "admin consent" in payroll["description"]
    )
    quiet = [
        credential(t, "Ledger", ["k0", "k2"], ["k0"]),  # a key removed
        credential(t, "Ledger", ["k0"], ["k0"]),  # nothing added
        credential(t, "Ledger", [], ["k9"], result="failure"),
        credential(t, "Ledger", [], ["k9"], activity="Update application"),
    ]
    assert detect(tmp_path / "b", quiet) == []
    hyphen = credential(
        t, "Hyphen", [], ["k5"], activity="Update application - Certificates and secrets management"
    )
    assert [r["entity"] for r in detect(tmp_path / "c", [hyphen])] == ["Hyphen"]
    shorter = detect(tmp_path / "d", records[:2], credential_after_consent_hours=1)
    assert names(shorter) == [("app_credential_added", "medium", "Payroll")]


# -- privileged roles -------------------------------------------------------------------------------


def role_add(when: datetime, role: str, **kw: Any) -> dict[str, Any]:
    props = [
        modified("Role.DisplayName", None, role),
        modified("Role.TemplateId", None, "t-" + role),
    ]
    return audit(
        when,
        kw.pop("activity", "Add member to role"),
        [
            target("uid-bob", None, "User", props, userPrincipalName="bob@contoso.com"),
            target("t-" + role, role, "Role"),
        ],
        category="RoleManagement",
        **kw,
    )


def test_privileged_role_assigned_outside_pim_only(tmp_path: Path) -> None:
    t = T0 + 5 * MINUTE
    found = detect(
        tmp_path / "a", [role_add(t, "Global Administrator"), role_add(t, "Exchange Administrator")]
    )
    assert names(found) == [
        ("privileged_role_assigned", "high", "bob@contoso.com"),
        ("privileged_role_assigned", "high", "bob@contoso.com"),
    ]
    assert found[0]["user_id"] == "uid-bob" and "outside PIM" in found[0]["description"]
    quiet = [
        role_add(t, "Global Administrator", initiated=by_app("MS-PIM")),  # a PIM activation
        role_add(
            t,
            "Global Administrator",
            service="PIM",
            activity="Add member to role completed (PIM activation)",
        ),
        role_add(t, "Global Administrator", service="PIM"),
        role_add(t, "User Administrator"),  # not in the privileged list
        role_add(t, "Global Administrator", activity="Add eligible member to role"),
        role_add(t, "Global Administrator", result="failure"),
    ]
    assert detect(tmp_path / "b", quiet) == []
    narrow = detect(
        tmp_path / "c",
        [role_add(t, "User Administrator")],
        privileged_roles=("User Administrator",),
    )
    assert len(narrow) == 1


# -- consent ----------------------------------------------------------------------------------------


def test_consent_to_risky_permissions(tmp_path: Path) -> None:
    t = T0 + 5 * MINUTE
    found = detect(
        tmp_path / "a",
        [
            consent(t, "Mailer", "openid profile Mail.ReadWrite", admin=False),
            consent(t, "Exporter", "User.Read Files.ReadWrite.All", admin=True),
            consent(t, "Daemon", "full_access_as_app", admin=False, app_only=True),
        ],
    )
    assert names(found) == [
        ("consent_to_risky_permissions", "high", "Daemon"),
        ("consent_to_risky_permissions", "high", "Exporter"),
        ("consent_to_risky_permissions", "medium", "Mailer"),
    ]
    assert "Mail.ReadWrite" in next(r for r in found if r["entity"] == "Mailer")["description"]
    quiet = [
        consent(
            t, "Calendar", "openid profile offline_access User.Read Calendars.Read", admin=True
        ),
        consent(t, "Reader", "Mail.ReadBasic Files.Read", admin=False),  # look-alike names
    ]
    assert detect(tmp_path / "b", quiet) == []


# -- security info after risk ----------------------------------------------------------------------


ALICE = {"id": "uid-alice", "upn": "alice@contoso.com", "ip": "198.51.100.10"}


def registered(when: datetime, activity: str = "User registered security info") -> dict:
    props = [modified("StrongAuthenticationMethod", [], ["PhoneAppNotification"])]
    return audit(
        when,
        activity,
        [target(ALICE["id"], "Alice", "User", props, userPrincipalName=ALICE["upn"])],
        service="Authentication Methods",
        category="UserManagement",
        initiated=by_user(ALICE),
    )


def test_auth_method_changed_after_risk_edges(tmp_path: Path) -> None:
    risky = signin(T0, risk_level_during_signin="medium", risk_state="atRisk")
    day = timedelta(hours=24)

    def run(name: str, rows: list[dict[str, Any]], change: datetime, **kw: Any) -> list[dict]:
        write_signins(tmp_path / name, rows)
        return detect(tmp_path / name, [registered(change, **kw)])

    found = run("a", [risky], T0 + day - MINUTE)
    assert names(found) == [("auth_method_changed_after_risk", "high", "alice@contoso.com")]
    assert found[0]["record_ids"][0] == risky["id"] and found[0]["records"] == 2
    assert run("b", [risky], T0 + day) == [], "exactly 24 h after: outside"
    assert run("c", [risky], T0 - MINUTE) == [], "before the risk"
    low = signin(T0, risk_level_during_signin="low", risk_level_aggregated="low")
    assert run("d", [low], T0 + HOUR) == [], "low risk"
    deleted = run("e", [risky], T0 + HOUR, activity="Admin deleted security info")
    assert len(deleted) == 1
    assert run("f", [risky], T0 + HOUR, activity="Update user") == []
