"""ProvisioningLogs records: app and HR provisioning cycles.

Some records use the older shapes: PascalCase ``Id``/``Name``/``Type`` inner keys and numeric step
types and statuses; US-locale ``activityDateTime`` is common here.
"""

from __future__ import annotations

from typing import Any

from .context import Ctx
from .rand import weighted_table

TARGETS = (
    ("Salesforce", "SCIM"),
    ("ServiceNow", "SCIM"),
    ("Workday", "Workday"),
    ("GitHub Enterprise", "SCIM"),
    ("Slack", "SCIM"),
    ("Zoom", "SCIM"),
)
OUTCOMES = weighted_table(
    [(("success", "Success"), 80), (("skipped", "Skipped"), 14), (("failure", "Failure"), 6)]
)
ACTIONS = weighted_table(
    [("update", 60), ("create", 15), ("delete", 5), ("disable", 5), ("other", 15)]
)
STEP_NAMES = (
    ("EntryImport", "import", 0),
    ("EntryExportAdd", "matching", 1),
    ("EntryExport", "export", 3),
)
ERRORS = (
    (
        "SalesforceDuplicateUserName",
        "The username already exists in Salesforce.",
        "NonServiceFailure",
        "Change the user's userName or delete the duplicate.",
    ),
    (
        "SystemForCrossDomainIdentityManagementServiceIncompatible",
        "The SCIM endpoint returned an unexpected response.",
        "ServiceFailure",
        "Check the target application's SCIM implementation.",
    ),
)
STATUS_NUMBER = {"success": 0, "failure": 1, "skipped": 2, "warning": 3}


class ProvisioningBuilder:
    def __init__(self, ctx: Ctx) -> None:
        self.ctx = ctx
        rng = ctx.rng
        self.jobs = [
            (name, kind, f"{kind}.{rng.hexstr(32)}.{rng.guid()}", rng.guid(), rng.guid())
            for name, kind in TARGETS
        ]

    def record(self, ev: int, proc: int) -> dict[str, Any]:
        ctx, rng, q = self.ctx, self.ctx.rng, self.ctx.q
        name, _, job_id, cycle_id, sp_id = rng.pick(self.jobs)
        user = rng.pick(ctx.pop.users)
        status, result_type = rng.pick(OUTCOMES)
        action = rng.pick(ACTIONS)
        legacy = rng.random() < 0.25
        if legacy:
            q.seen["provisioning_pascal_case"] += 1

        def ident(i: str, n: str, t: str) -> dict[str, Any]:
            if legacy:
                return {"Id": i, "Name": n, "Type": t}
            return {"id": i, "displayName": n, "identityType": t, "details": {}}

        numeric = legacy or rng.random() < 0.1
        if numeric:
            q.seen["provisioning_numeric_steps"] += 1
        steps = []
        for step_name, step_type, step_number in STEP_NAMES:
            step_status = status if step_name == "EntryExport" else "success"
            steps.append(
                {
                    "name": step_name,
                    "provisioningStepType": step_number if numeric else step_type,
                    "status": STATUS_NUMBER[step_status] if numeric else step_status,
                    "description": f"{step_name} for {user.upn}",
                    "details": {"SkipReason": "NotEffectivelyEntitled"}
                    if status == "skipped"
                    else {},
                }
            )
        error: dict[str, Any] | None = None
        if status == "failure":
            code, reason, category, action_hint = rng.pick(ERRORS)
            error = {
                "errorCode": code,
                "reason": reason,
                "additionalDetails": None,
                "errorCategory": category,
                "recommendedAction": action_hint,
            }
        corr = rng.guid()
        rec = ctx.envelope(
            proc, "ProvisioningLogs", "Provisioning activity", result_type, corr, "", identity=name
        )
        rec["properties"] = {
            "id": rng.guid(),
            "activityDateTime": q.event_time(ev, us_rate=0.35),
            "tenantId": ctx.pop.tenant_id,
            "jobId": job_id,
            "cycleId": cycle_id,
            "changeId": rng.guid(),
            "action": action.capitalize(),
            "provisioningAction": action,
            "durationInMilliseconds": 200 + int(rng.random() * 8000),
            "provisioningStatusInfo": {"status": status, "errorInformation": error},
            "provisioningSteps": steps,
            "servicePrincipal": ident(sp_id, name, "ServicePrincipal"),
            "sourceSystem": {
                "id": rng.guid(),
                "displayName": "Azure Active Directory",
                "details": {},
            },
            "targetSystem": {
                "id": rng.guid(),
                "displayName": name,
                "details": {"ApplicationId": sp_id, "ServicePrincipalDisplayName": name},
            },
            "sourceIdentity": ident(user.user_id, user.display, "User"),
            "targetIdentity": ident(rng.hexstr(18), user.upn, "User"),
            "initiatedBy": ident("", "Azure AD Provisioning Service", "system")
            if legacy
            else {
                "id": "",
                "displayName": "Azure AD Provisioning Service",
                "initiatorType": "system",
            },
            "modifiedProperties": [
                {"displayName": "accountEnabled", "oldValue": None, "newValue": "True"},
                {"displayName": "userName", "oldValue": None, "newValue": user.upn},
            ],
        }
        return rec
