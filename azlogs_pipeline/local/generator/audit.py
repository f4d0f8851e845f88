"""AuditLogs records: directory changes (users, roles, groups, apps, policies).

Includes the changes analysts look for (privileged role assignments, users created then deleted
within a day, guest to member conversions, application credential changes) as ordinary background
activity; each successful one is noted in ``AuditBuilder.highlights`` (ground truth). Noting them
draws no random numbers, so the records are the same with or without the notes.
"""

from __future__ import annotations

from typing import Any

from .context import Ctx
from .population import App, User
from .rand import weighted_table
from .times import DAY

ROLES = (
    ("Global Administrator", "62e90394-69f5-4237-9190-012177145e10"),
    ("User Administrator", "fe930be7-5e62-47db-91af-98c3a49a38b1"),
    ("Security Reader", "5d6b6bb7-de71-4623-b4af-96380a352509"),
    ("Application Administrator", "9b895d92-2cd3-44c7-9d02-a6ac2d5ea5c3"),
    ("Helpdesk Administrator", "729827e3-9c14-49f7-bb1b-9608f156bbb8"),
    ("Privileged Role Administrator", "e8611ab8-c189-46e8-94e1-60213ab1f814"),
)
NOT_PRIVILEGED_ROLES = frozenset({"Security Reader"})
PIM_ROLES = frozenset(
    {"Global Administrator", "Application Administrator", "Privileged Role Administrator"}
)
"""Privileged roles that background traffic only ever gets through PIM: their "Add member to role"
is PIM's own directory write (initiated by the app MS-PIM), never a direct assignment."""
MS_PIM = {
    "appId": None,
    "displayName": "MS-PIM",
    "servicePrincipalId": "a1b2c3d4-0000-4000-8000-00000000b1a5",
    "servicePrincipalName": None,
}
CREDENTIALS_ACTIVITY = "Update application \u2013 Certificates and secrets management "
"""Azure's activity name: an en dash and a trailing space."""
SECURITY_INFO_ACTIVITY = "User registered security info"
CA_LOOKALIKE_POLICY = "[Report-only] Require phishing-resistant MFA"
"""Background policy updates switch this one from report-only to enabled (a strengthening)."""
LOW_SCOPES = ("openid", "profile", "offline_access", "User.Read", "Calendars.Read", "People.Read")
"""Scopes background consents grant (none of them high-privilege)."""
ROLE_ADDS = frozenset(
    {
        "Add member to role",
        "Add eligible member to role in PIM completed (permanent)",
        "Add member to role completed (PIM activation)",
    }
)
GROUPS = (
    "All Staff",
    "Finance",
    "Engineering",
    "VPN Users",
    "Sales EMEA",
    "Contractors",
    "SharePoint Owners",
    "Break Glass Exclusions",
)
# (activityDisplayName, category, operationType, loggedByService, target type, weight)
ACTIVITIES = weighted_table(
    [
        (("Update user", "UserManagement", "Update", "Core Directory", "User"), 20),
        (("Add member to group", "GroupManagement", "Assign", "Core Directory", "Group"), 14),
        (("Remove member from group", "GroupManagement", "Unassign", "Core Directory", "Group"), 5),
        (("Add user", "UserManagement", "Add", "Core Directory", "User"), 6),
        (("Delete user", "UserManagement", "Delete", "Core Directory", "User"), 3),
        (("Add member to role", "RoleManagement", "Assign", "Core Directory", "Role"), 3),
        (("Remove member from role", "RoleManagement", "Unassign", "Core Directory", "Role"), 2),
        (
            (
                "Add eligible member to role in PIM completed (permanent)",
                "RoleManagement",
                "Add",
                "PIM",
                "Role",
            ),
            1,
        ),
        (
            (
                "Update application",
                "ApplicationManagement",
                "Update",
                "Core Directory",
                "Application",
            ),
            5,
        ),
        (
            (
                CREDENTIALS_ACTIVITY,
                "ApplicationManagement",
                "Update",
                "Core Directory",
                "Application",
            ),
            2,
        ),
        (
            (
                "Consent to application",
                "ApplicationManagement",
                "Assign",
                "Core Directory",
                "ServicePrincipal",
            ),
            2,
        ),
        (
            (
                "Reset password (self-service)",
                "UserManagement",
                "Update",
                "Self-service Password Management",
                "User",
            ),
            4,
        ),
        (
            (
                "User registered security info",
                "UserManagement",
                "Add",
                "Authentication Methods",
                "User",
            ),
            4,
        ),
        (
            (
                "Update conditional access policy",
                "Policy",
                "Update",
                "Conditional Access",
                "Policy",
            ),
            1,
        ),
        (
            (
                "Add member to role completed (PIM activation)",
                "RoleManagement",
                "Add",
                "PIM",
                "Role",
            ),
            2,
        ),
        (("Invite external user", "UserManagement", "Add", "Invited Users", "User"), 2),
        (("Add device", "Device", "Add", "Core Directory", "Device"), 4),
        (
            (
                "Update StsRefreshTokenValidFrom Timestamp",
                "UserManagement",
                "Update",
                "Core Directory",
                "User",
            ),
            5,
        ),
    ]
)


class AuditBuilder:
    """Builds AuditLogs records; remembers recently created users so some get deleted."""

    def __init__(self, ctx: Ctx) -> None:
        self.ctx = ctx
        self.created: list[tuple[int, str, str, str]] = []  # (ticks, id, upn, display)
        self.created_ok: dict[str, int] = {}  # user id -> creation ticks, successful creations
        self.highlights: list[dict[str, Any]] = []

    def _actor(self, ev_user: User | None) -> tuple[dict[str, Any], str]:
        ctx, rng, q = self.ctx, self.ctx.rng, self.ctx.q
        if ev_user is not None or rng.random() < 0.65:
            u = ev_user or rng.pick(ctx.pop.admins)
            r = rng.random()
            if r < 0.5:
                ip = u.ip
            elif r < 0.65:
                ip = u.ipv6
                q.seen["ip:ipv6"] += 1
            else:
                ip = q.odd_ip(u, "null_text" if r < 0.9 else None)
            return {
                "user": {
                    "id": u.user_id,
                    "displayName": None,
                    "userPrincipalName": u.upn,
                    "ipAddress": ip,
                    "roles": [],
                }
            }, ip
        sp = rng.pick(ctx.pop.service_principals + ctx.pop.microsoft_sps)
        return {
            "app": {
                "appId": sp.app_id,
                "displayName": sp.name,
                "servicePrincipalId": sp.sp_id,
                "servicePrincipalName": sp.name,
            }
        }, "<null>"

    def _iso(self, ticks: int) -> str:
        return self.ctx.clock.iso_micro(ticks)

    def _modified(self, name: str, old: Any, new: Any) -> dict[str, Any]:
        q = self.ctx.q
        return {
            "displayName": name,
            "oldValue": None if old is None else q.json_text(old, "audit_modified_properties"),
            "newValue": None if new is None else q.json_text(new, "audit_modified_properties"),
        }

    def record(self, ev: int, proc: int) -> dict[str, Any]:
        ctx, rng, _q = self.ctx, self.ctx.rng, self.ctx.q
        pop = ctx.pop
        name, category, op_type, service, target_type = rng.pick(ACTIVITIES)
        initiated, caller_ip = self._actor(None)
        modified: list[dict[str, Any]] = []
        target: dict[str, Any]
        note: dict[str, Any] | None = None
        if target_type == "User":
            u = rng.pick(pop.users)
            if name == SECURITY_INFO_ACTIVITY:
                u = rng.pick(pop.risk_free_users)  # registering MFA the normal way: no risk before
                initiated, caller_ip = self._actor(u)
                modified = [
                    self._modified("StrongAuthenticationMethod", [], ["PhoneAppNotification"])
                ]
            tid, tname, tupn = u.user_id, u.display, u.upn
            if name == "Add user" or name == "Invite external user":
                first = rng.pick(("Sam", "Robin", "Alex", "Jo", "Kim", "Lee"))
                tid = rng.guid()
                local = f"{first.lower()}.{rng.hexstr(5)}"
                tupn = (
                    f"{local}_fabrikam.com#EXT#@contoso.onmicrosoft.com"
                    if name == "Invite external user"
                    else f"{local}@{pop.domain}"
                )
                tname = f"{first} {local[-5:].upper()}"
                self.created.append((ev, tid, tupn, tname))
                modified = [
                    self._modified("AccountEnabled", [], [True]),
                    self._modified("DisplayName", [], [tname]),
                    self._modified("UserPrincipalName", [], [tupn]),
                    self._modified("UserType", [], ["Guest" if "EXT" in tupn else "Member"]),
                ]
            elif name == "Delete user":
                recent = [c for c in self.created[-50:] if ev - c[0] < DAY]
                if recent and rng.random() < 0.7:
                    _, tid, tupn, tname = rng.pick(recent)
                    self.created = [c for c in self.created if c[1] != tid]
                    if tid in self.created_ok:
                        created_at = self._iso(self.created_ok.pop(tid))
                        note = {"kind": "created_then_deleted", "created": created_at}
            elif name == "Update user":
                if u.user_type == "Guest" and rng.random() < 0.3:
                    modified = [self._modified("UserType", ["Guest"], ["Member"])]
                    note = {"kind": "guest_to_member"}
                else:
                    modified = [
                        self._modified(
                            rng.pick(
                                (
                                    "JobTitle",
                                    "Department",
                                    "StrongAuthenticationMethod",
                                    "AssignedLicense",
                                    "MobilePhone",
                                )
                            ),
                            [rng.pick(("Analyst", "Sales", "[]", "1"))],
                            [
                                rng.pick(
                                    ("Senior Analyst", "Marketing", "PhoneAppNotification", "2")
                                )
                            ],
                        )
                    ]
                modified.append(
                    self._modified("Included Updated Properties", None, modified[0]["displayName"])
                )
            target = {
                "id": tid,
                "displayName": tname,
                "type": "User",
                "userPrincipalName": tupn,
                "modifiedProperties": modified,
                "administrativeUnits": [],
            }
            targets = [target]
        elif target_type == "Role":
            u = rng.pick(pop.users)
            role, template = rng.pick(ROLES)
            if name == "Add member to role" and role in PIM_ROLES:
                initiated, caller_ip = {"app": dict(MS_PIM)}, "<null>"
            if name in ROLE_ADDS and role not in NOT_PRIVILEGED_ROLES:
                note = {"kind": "privileged_role_assignment", "role": role}
            modified = [
                self._modified("Role.DisplayName", None, role),
                self._modified("Role.TemplateId", None, template),
                self._modified("Role.WellKnownObjectName", None, role.replace(" ", "")),
            ]
            targets = [
                {
                    "id": u.user_id,
                    "displayName": None,
                    "type": "User",
                    "userPrincipalName": u.upn,
                    "modifiedProperties": modified,
                    "administrativeUnits": [],
                },
                {
                    "id": template,
                    "displayName": role,
                    "type": "Role",
                    "modifiedProperties": [],
                    "administrativeUnits": [],
                },
            ]
        elif target_type == "Group":
            u = rng.pick(pop.users)
            group = rng.pick(GROUPS)
            gid = f"{abs(hash_text(group)) % (1 << 128):032x}"
            gid = f"{gid[:8]}-{gid[8:12]}-{gid[12:16]}-{gid[16:20]}-{gid[20:]}"
            modified = [
                self._modified("Group.ObjectID", None, gid),
                self._modified("Group.DisplayName", None, group),
            ]
            targets = [
                {
                    "id": u.user_id,
                    "displayName": None,
                    "type": "User",
                    "userPrincipalName": u.upn,
                    "modifiedProperties": modified,
                    "administrativeUnits": [],
                },
                {
                    "id": gid,
                    "displayName": group,
                    "type": "Group",
                    "modifiedProperties": [],
                    "administrativeUnits": [],
                },
            ]
        else:
            # Credentials are renewed on odd apps, consents go to even ones: no background renewal
            # follows a consent to the same app.
            app = rng.pick(pop.apps)
            renewed = pop.apps[1::2] if name == CREDENTIALS_ACTIVITY else pop.apps[0::2]
            if name in (CREDENTIALS_ACTIVITY, "Consent to application"):
                app = rng.pick(renewed)
            if name == "Consent to application":
                modified = self.consent_properties(
                    rng.random() < 0.3, [rng.pick(LOW_SCOPES), "openid", "profile"], app
                )
            if name == CREDENTIALS_ACTIVITY:
                note = {"kind": "app_credential_change"}
                modified = [
                    self._modified(
                        "KeyDescription",
                        [],
                        [
                            f"[KeyIdentifier={rng.guid()},KeyType=Password,KeyUsage=Verify,"
                            f"DisplayName=ci-secret]"
                        ],
                    )
                ]
            elif target_type == "Policy":
                app = App(app.app_id, CA_LOOKALIKE_POLICY, CA_LOOKALIKE_POLICY, "", rng.guid())
                modified = [
                    self._modified(
                        "ConditionalAccessPolicy",
                        {"state": "enabledForReportingButNotEnforced"},
                        {"state": "enabled"},
                    )
                ]
            targets = [
                {
                    "id": app.resource_sp_id,
                    "displayName": app.name,
                    "type": target_type,
                    "modifiedProperties": modified,
                    "administrativeUnits": [],
                }
            ]
        rec = self.finish(
            ev, proc, (name, category, op_type, service), initiated, caller_ip, targets
        )
        if rec["properties"]["result"] != "failure":
            self._note(ev, name, targets[0]["id"], rec["properties"]["id"], note)
        return rec

    def finish(
        self,
        ev: int,
        proc: int,
        activity: tuple[str, str, str, str],
        initiated: dict[str, Any],
        caller_ip: str,
        targets: list[dict[str, Any]],
        *,
        result: Any = None,
    ) -> dict[str, Any]:
        """The record of one audited change (``result`` None: a random, mostly successful one)."""
        ctx, rng, q = self.ctx, self.ctx.rng, self.ctx.q
        name, category, op_type, service = activity
        corr = rng.guid()
        rec = ctx.envelope(proc, "AuditLogs", name, None, corr, caller_ip)
        r = rng.random()
        if r < 0.1:
            rec["resultType"] = "Update"
        if result is None:
            result = "success"
            if r > 0.97:
                result = "failure"
            elif r > 0.82:
                result = 0
        rec["properties"] = {
            "id": f"Directory_{corr}_{rng.hexstr(5).upper()}_{rng.randrange(10**8, 10**9)}"
            if service == "Core Directory"
            else rng.guid(),
            "category": category,
            "correlationId": corr,
            "result": result,
            "resultReason": "" if result != "failure" else "Insufficient privileges",
            "activityDisplayName": name,
            "activityDateTime": q.event_time(ev),
            "loggedByService": service,
            "operationType": op_type,
            "userAgent": None,
            "initiatedBy": initiated,
            "targetResources": targets,
            "additionalDetails": [
                {
                    "key": "User-Agent",
                    "value": "Mozilla/5.0 (Windows NT 10.0; Win64; x64) "
                    "AppleWebKit/537.36 (KHTML, like Gecko)",
                },
                {"key": "OriginalRequestId", "value": rng.guid()},
            ],
        }
        return rec

    def consent_properties(
        self, admin: bool, scopes: list[str], app: App, app_only: bool = False
    ) -> list[dict[str, Any]]:
        """What "Consent to application" sends: ConsentContext.* flags and the granted
        permissions as Azure's bracketed text."""
        rng = self.ctx.rng
        grant = (
            f"[] => [[Id: {rng.token(40)}, ClientId: {app.resource_sp_id}, PrincipalId: "
            f"{'' if admin else rng.guid()}, ResourceId: {rng.guid()}, ConsentType: "
            f"{'AllPrincipals' if admin else 'Principal'}, Scope:  {' '.join(scopes)}, "
            "CreatedDateTime: , LastModifiedDateTime ]]; "
        )
        return [
            self._modified("ConsentContext.IsAdminConsent", None, str(admin)),
            self._modified("ConsentContext.IsAppOnly", None, str(app_only)),
            self._modified("ConsentContext.OnBehalfOfAll", None, str(admin)),
            self._modified("ConsentContext.Tags", None, "WindowsAzureActiveDirectoryIntegratedApp"),
            self._modified("ConsentAction.Permissions", None, grant),
            self._modified("TargetId.ServicePrincipalNames", None, app.app_id),
        ]

    def user_actor(self, user: User, ip: str) -> dict[str, Any]:
        """``initiatedBy`` of a change a user made."""
        return {
            "user": {
                "id": user.user_id,
                "displayName": None,
                "userPrincipalName": user.upn,
                "ipAddress": ip,
                "roles": [],
            }
        }

    def note(self, kind: str, ev: int, target_id: str, audit_id: str, **extra: Any) -> None:
        """Ground truth for a scenario's change that audit_highlights reports too."""
        self.highlights.append(
            {
                "kind": kind,
                **extra,
                "target_id": target_id,
                "time": self._iso(ev),
                "audit_id": audit_id,
            }
        )

    def _note(
        self, ev: int, name: str, target_id: str, audit_id: str, note: dict[str, Any] | None
    ) -> None:
        """Ground truth for a successful change (no random draws)."""
        if name in ("Add user", "Invite external user"):
            if len(self.created_ok) > 512:
                self.created_ok = {k: t for k, t in self.created_ok.items() if ev - t < DAY}
            self.created_ok[target_id] = ev
        if note is not None:
            self.highlights.append(
                {**note, "target_id": target_id, "time": self._iso(ev), "audit_id": audit_id}
            )


def hash_text(text: str) -> int:
    """A stable (seed-independent, process-independent) hash, unlike ``hash()``."""
    h = 1469598103934665603
    for ch in text.encode():
        h = ((h ^ ch) * 1099511628211) & ((1 << 128) - 1)
    return h
