"""Injected configuration attacks (AuditLogs), in the records Azure really sends.

Each function places one scenario through the ``Planner`` and returns it (or why it could not).
Their look-alikes are in the background (``audit``): PIM activations of privileged roles,
certificate renewals of apps long after any consent, MFA registered by users with no risk before,
consents to low-privilege scopes, Conditional Access policies switched from report-only to on.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from azlogs_pipeline.vocabulary import DIRECTORY_DETECTION_KINDS

from .audit import CREDENTIALS_ACTIVITY, ROLES, SECURITY_INFO_ACTIVITY
from .population import App
from .times import HOUR, MINUTE
from .traffic import Item

if TYPE_CHECKING:
    from .scenarios import Planner, Scenario

DIRECTORY_KINDS = DIRECTORY_DETECTION_KINDS
"""One injected scenario per detection of `directory_detections`."""
DIRECTORY_RULES = {
    "ca_policy_weakened": "a Conditional Access policy deleted, disabled or switched to "
    "report-only (state enabled -> other)",
    "app_credential_added": "a secret or certificate added to an app; high when the app got "
    "admin consent in the previous 24 hours",
    "privileged_role_assigned": "a member added to a privileged directory role outside PIM",
    "consent_to_risky_permissions": "consent granted to an app with a high-privilege scope "
    "(Mail.ReadWrite, Mail.Send, ...); high for admin consent",
    "auth_method_changed_after_risk": "a user's security info changed within 24 h after a medium "
    "or high risk sign-in of that user",
}
DIRECTORY_COST = dict.fromkeys(DIRECTORY_KINDS, 2)
WEAKENED_POLICY = "Require multifactor authentication for admins"
CONSENTED_APP = "Invoice Sync Connector"
RISKY_APP = "Mail Archiver Pro"
RISKY_SCOPES = ["Mail.ReadWrite", "Mail.Send", "offline_access", "User.Read"]


def _admin_change(
    planner: Planner,
    ev: int,
    activity: tuple[str, str, str, str],
    targets: list[dict[str, Any]],
) -> Item:
    ctx, audit = planner.ctx, planner.audit
    admin = ctx.rng.pick(ctx.pop.admins)
    rec = audit.finish(
        ev,
        ev + 2 * MINUTE,
        activity,
        audit.user_actor(admin, admin.ip),
        admin.ip,
        targets,
        result="success",
    )
    return Item(ev + 2 * MINUTE, ev, "AuditLogs", rec)


def _target(
    tid: str, name: str | None, kind: str, modified: list[dict[str, Any]]
) -> dict[str, Any]:
    return {
        "id": tid,
        "displayName": name,
        "type": kind,
        "modifiedProperties": modified,
        "administrativeUnits": [],
    }


def _audit_id(item: Item) -> str:
    return str(item.rec["properties"]["id"])


def ca_policy_weakened(planner: Planner) -> Scenario | str:
    from .scenarios import Scenario

    t = planner.slot(5 * MINUTE)
    if t is None:
        return "run too short"
    ctx, audit = planner.ctx, planner.audit
    [policy] = [p for p in ctx.pop.policies if p.name == WEAKENED_POLICY]
    state = ctx.rng.pick(("disabled", "enabledForReportingButNotEnforced"))
    body = {"id": policy.policy_id, "displayName": policy.name, "conditions": {}}
    modified = [
        audit._modified(
            "ConditionalAccessPolicy", {**body, "state": "enabled"}, {**body, "state": state}
        )
    ]
    item = _admin_change(
        planner,
        t,
        ("Update conditional access policy", "Policy", "Update", "Conditional Access"),
        [_target(policy.policy_id, policy.name, "Policy", modified)],
    )
    return Scenario(
        "ca_policy_weakened",
        policy.name,
        "policy",
        t,
        t,
        [],
        [item],
        {"new_state": state},
        record_ids=[_audit_id(item)],
    )


def app_credential_added(planner: Planner) -> Scenario | str:
    """Admin consent to a new app (low-privilege scopes), then a secret added to it."""
    from .scenarios import Scenario

    span = min(3 * HOUR, (planner.end - planner.start) // 3)
    t0 = planner.slot(span)
    if t0 is None:
        return "run too short"
    ctx, audit, rng = planner.ctx, planner.audit, planner.ctx.rng
    app = App(rng.guid(), CONSENTED_APP, CONSENTED_APP, rng.guid(), rng.guid())
    consent = _admin_change(
        planner,
        t0,
        ("Consent to application", "ApplicationManagement", "Assign", "Core Directory"),
        [
            _target(
                app.resource_sp_id,
                app.name,
                "ServicePrincipal",
                audit.consent_properties(True, ["User.Read", "offline_access"], app),
            )
        ],
    )
    t1 = t0 + span // 2 + int(rng.random() * (span // 2))
    key = f"[KeyIdentifier={rng.guid()},KeyType=Password,KeyUsage=Verify,DisplayName=sync]"
    added = _admin_change(
        planner,
        t1,
        (CREDENTIALS_ACTIVITY, "ApplicationManagement", "Update", "Core Directory"),
        [
            _target(
                app.resource_id,
                app.name,
                "Application",
                [audit._modified("KeyDescription", [], [key])],
            )
        ],
    )
    audit.note("app_credential_change", t1, app.resource_id, _audit_id(added))
    return Scenario(
        "app_credential_added",
        app.name,
        "application",
        t0,
        t1,
        [],
        [consent, added],
        {"consented": ctx.clock.iso_micro(t0)},
        record_ids=[_audit_id(added)],
        context_ids=[_audit_id(consent)],
    )


def privileged_role_assigned(planner: Planner) -> Scenario | str:
    from .scenarios import Scenario

    t = planner.slot(5 * MINUTE)
    if t is None:
        return "run too short"
    user = planner.victim()
    if user is None:
        return "no user available"
    audit = planner.audit
    role, template = ROLES[0]
    modified = [
        audit._modified("Role.DisplayName", None, role),
        audit._modified("Role.TemplateId", None, template),
        audit._modified("Role.WellKnownObjectName", None, role.replace(" ", "")),
    ]
    target = _target(user.user_id, None, "User", modified)
    target["userPrincipalName"] = user.upn
    item = _admin_change(
        planner,
        t,
        ("Add member to role", "RoleManagement", "Assign", "Core Directory"),
        [target, _target(template, role, "Role", [])],
    )
    audit.note("privileged_role_assignment", t, user.user_id, _audit_id(item), role=role)
    return Scenario(
        "privileged_role_assigned",
        user.upn,
        "user",
        t,
        t,
        [],
        [item],
        {"role": role},
        record_ids=[_audit_id(item)],
    )


def consent_to_risky_permissions(planner: Planner) -> Scenario | str:
    from .scenarios import Scenario

    t = planner.slot(5 * MINUTE)
    if t is None:
        return "run too short"
    rng, audit = planner.ctx.rng, planner.audit
    app = App(rng.guid(), RISKY_APP, RISKY_APP, rng.guid(), rng.guid())
    item = _admin_change(
        planner,
        t,
        ("Consent to application", "ApplicationManagement", "Assign", "Core Directory"),
        [
            _target(
                app.resource_sp_id,
                app.name,
                "ServicePrincipal",
                audit.consent_properties(True, RISKY_SCOPES, app),
            )
        ],
    )
    return Scenario(
        "consent_to_risky_permissions",
        app.name,
        "application",
        t,
        t,
        [],
        [item],
        {"scopes": RISKY_SCOPES, "admin_consent": True},
        record_ids=[_audit_id(item)],
    )


def auth_method_changed_after_risk(planner: Planner) -> Scenario | str:
    """A medium-risk sign-in of a user, then new MFA registered on the account."""
    from .scenarios import Scenario

    span = min(2 * HOUR, (planner.end - planner.start) // 3)
    t0 = planner.slot(span)
    if t0 is None:
        return "run too short"
    user = planner.victim()
    if user is None:
        return "no user available"
    ctx, audit = planner.ctx, planner.audit
    ctx.pop.mark_risky(user)
    risky = planner.signin(t0, user, 0, user.city, user.ip, mfa=True)
    props = risky.rec["properties"]
    props["riskLevelDuringSignIn"] = props["riskLevelAggregated"] = "medium"
    props["riskState"] = "atRisk"
    props["riskEventTypes"] = props["riskEventTypes_v2"] = ["unfamiliarFeatures"]
    t1 = t0 + span // 2 + int(ctx.rng.random() * (span // 2))
    modified = [audit._modified("StrongAuthenticationMethod", [], ["PhoneAppNotification"])]
    target = _target(user.user_id, user.display, "User", modified)
    target["userPrincipalName"] = user.upn
    rec = audit.finish(
        t1,
        t1 + 2 * MINUTE,
        (SECURITY_INFO_ACTIVITY, "UserManagement", "Add", "Authentication Methods"),
        audit.user_actor(user, user.ip),
        user.ip,
        [target],
        result="success",
    )
    change = Item(t1 + 2 * MINUTE, t1, "AuditLogs", rec)
    return Scenario(
        "auth_method_changed_after_risk",
        user.upn,
        "user",
        t0,
        t1,
        planner.ids([risky]),
        [risky, change],
        {"user_id": user.user_id, "risk": "medium"},
        record_ids=[_audit_id(change)],
    )


DIRECTORY_SCENARIOS = {
    "ca_policy_weakened": ca_policy_weakened,
    "app_credential_added": app_credential_added,
    "privileged_role_assigned": privileged_role_assigned,
    "consent_to_risky_permissions": consent_to_risky_permissions,
    "auth_method_changed_after_risk": auth_method_changed_after_risk,
}
