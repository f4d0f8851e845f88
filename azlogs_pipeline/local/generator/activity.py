"""Azure Activity log records (Administrative, Policy, Security, ServiceHealth, Alert,
Recommendation, Autoscale, ResourceHealth). Their ``time`` is the event time.

Quirks: all-caps ``operationName`` / ``resourceId``, ``identity`` as an object or a plain string,
JSON inside ``responseBody`` / ``requestbody`` / ``policies`` / ``_claim_names``, and stray
top-level keys (``RoleLocation``, ``Stamp``, ``ReleaseVersion``).
"""

from __future__ import annotations

from typing import Any

import orjson

from .context import Ctx
from .population import RESOURCE_GROUPS
from .rand import weighted_table
from .times import MINUTE

ADMIN_OPERATIONS = weighted_table(
    [
        (("Microsoft.Compute", "virtualMachines", "write", "Created"), 10),
        (("Microsoft.Compute", "virtualMachines", "start/action", "OK"), 5),
        (("Microsoft.Compute", "virtualMachines", "deallocate/action", "Accepted"), 4),
        (("Microsoft.Compute", "virtualMachines", "delete", "OK"), 2),
        (("Microsoft.Storage", "storageAccounts", "listKeys/action", "OK"), 8),
        (("Microsoft.Authorization", "roleAssignments", "write", "Created"), 3),
        (("Microsoft.KeyVault", "vaults", "write", "OK"), 2),
        (("Microsoft.Network", "networkSecurityGroups", "write", "OK"), 4),
        (("Microsoft.Resources", "deployments", "write", "Created"), 6),
        (("Microsoft.Web", "sites", "restart/action", "OK"), 3),
        # read, never changed: the look-alike of log_feed_tampered
        (("microsoft.insights", "diagnosticSettings", "read", "OK"), 3),
    ]
)
RESOURCE_NAMES = (
    "vm-web-01",
    "vm-web-02",
    "stcontosodata",
    "kv-contoso-prod",
    "nsg-frontend",
    "app-orders-api",
    "deploy-20240101",
    "vm-build-01",
    "stlogsarchive",
)
ROLE_NAMES = (
    "Owner",
    "Contributor",
    "Reader",
    "User Access Administrator",
    "Virtual Machine Contributor",
)
REGIONS = ("westeurope", "northeurope", "eastus", "eastus2", "uksouth", "global")
SERVICE_HEALTH = (
    ("Virtual Machines", "Incident", "Mitigated - Virtual Machines - West Europe"),
    ("Azure Active Directory", "Incident", "Active - Intermittent sign-in failures"),
    ("Storage", "Maintenance", "Planned maintenance for Azure Storage"),
    ("Azure Monitor", "Informational", "Log ingestion delays in East US"),
)


class ActivityBuilder:
    def __init__(self, ctx: Ctx) -> None:
        self.ctx = ctx

    def _resource(
        self, provider: str, rtype: str, name: str, sub: str, rg: str, upper: bool
    ) -> str:
        rid = f"/subscriptions/{sub}/resourceGroups/{rg}/providers/{provider}/{rtype}/{name}"
        return rid.upper() if upper else rid

    def _identity(self, caller_ip: str, scope: str, action: str) -> tuple[Any, str]:
        """(identity, caller UPN or app id)."""
        ctx, rng, q = self.ctx, self.ctx.rng, self.ctx.q
        if rng.random() < 0.7:
            u = rng.pick(ctx.pop.admins)
            principal, ptype, caller = u.user_id, "User", u.upn
            claims: dict[str, Any] = {
                "aud": "https://management.core.windows.net/",
                "iss": f"https://sts.windows.net/{ctx.pop.tenant_id}/",
                "iat": "1700000000",
                "nbf": "1700000000",
                "exp": "1700003600",
                "http://schemas.microsoft.com/claims/authnmethodsreferences": "pwd,mfa",
                "appid": "c44b4083-3bb0-49c1-b47d-974e53cbdf3c",
                "appidacr": "0",
                "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn": u.upn,
                "name": u.display,
                "http://schemas.microsoft.com/identity/claims/objectidentifier": u.user_id,
                "http://schemas.microsoft.com/identity/claims/tenantid": ctx.pop.tenant_id,
                "ipaddr": caller_ip,
                "ver": "1.0",
            }
            if rng.random() < 0.2:
                claims["_claim_names"] = q.json_text({"groups": "src1"}, "claim_names")
                claims["_claim_sources"] = orjson.dumps(
                    {
                        "src1": {
                            "endpoint": f"https://graph.windows.net/{ctx.pop.tenant_id}/users/"
                            f"{u.user_id}/getMemberObjects"
                        }
                    }
                ).decode()
        else:
            sp = rng.pick(ctx.pop.service_principals + ctx.pop.managed_identities)
            principal, ptype, caller = sp.sp_id, "ServicePrincipal", sp.app_id
            claims = {
                "aud": "https://management.azure.com/",
                "iss": f"https://sts.windows.net/{ctx.pop.tenant_id}/",
                "appid": sp.app_id,
                "appidacr": "2",
                "idtyp": "app",
                "http://schemas.microsoft.com/identity/claims/objectidentifier": sp.sp_id,
                "http://schemas.microsoft.com/identity/claims/tenantid": ctx.pop.tenant_id,
            }
        if rng.random() < 0.06:
            q.seen["activity_identity_string"] += 1
            return caller, caller
        return {
            "authorization": {
                "scope": scope,
                "action": action,
                "evidence": {
                    "role": rng.pick(ROLE_NAMES),
                    "roleAssignmentScope": scope.rsplit("/providers/", 1)[0],
                    "roleAssignmentId": rng.hexstr(32),
                    "roleDefinitionId": rng.hexstr(32),
                    "principalId": principal.replace("-", ""),
                    "principalType": ptype,
                },
            },
            "claims": claims,
        }, caller

    def record(self, ev: int, category: str) -> dict[str, Any]:
        ctx, rng, q = self.ctx, self.ctx.rng, self.ctx.q
        pop = ctx.pop
        sub = rng.pick(pop.subscriptions)
        rg = rng.pick(RESOURCE_GROUPS)
        upper = rng.random() < 0.5
        if upper:
            q.seen["activity_upper_case"] += 1
        corr = rng.guid()
        caller_ip = rng.pick(pop.admins).ip if rng.random() < 0.7 else pop.azure_ip(rng)
        level = "Informational"
        result_signature = ""
        identity: Any = None
        props: dict[str, Any]
        if category == "Administrative":
            provider, rtype, verb, status = rng.pick(ADMIN_OPERATIONS)
            name = rng.pick(RESOURCE_NAMES)
            if provider == "Microsoft.Authorization":
                name = rng.hexstr(32)
            resource = self._resource(provider, rtype, name, sub, rg, upper)
            operation = f"{provider}/{rtype}/{verb}"
            r = rng.random()
            result = "Start" if r < 0.35 else ("Success" if r < 0.93 else "Failure")
            result_signature = {
                "Start": "Started.",
                "Success": f"Succeeded.{status}",
                "Failure": "Failed.Forbidden",
            }[result]
            level = "Error" if result == "Failure" else "Informational"
            identity, caller = self._identity(caller_ip, resource, operation)
            props = {
                "eventCategory": "Administrative",
                "entity": resource,
                "message": operation,
                "hierarchy": f"{pop.tenant_id}/{pop.management_group}/{sub}",
                "statusCode": {"Start": "Started", "Success": status, "Failure": "Forbidden"}[
                    result
                ],
                "serviceRequestId": rng.guid() if result != "Start" else None,
            }
            if provider == "Microsoft.Authorization" and result != "Failure":
                body = {
                    "properties": {
                        "roleDefinitionId": f"/subscriptions/{sub}/providers/Microsoft.Authorization/"
                        f"roleDefinitions/{rng.guid()}",
                        "principalId": rng.guid(),
                        "principalType": "User",
                        "scope": f"/subscriptions/{sub}",
                    }
                }
                key = "requestbody" if result == "Start" else "responseBody"
                props[key] = q.json_text(body, "activity_body")
            elif result == "Success" and rng.random() < 0.3:
                props["responseBody"] = q.json_text(
                    {
                        "id": resource,
                        "name": name,
                        "location": rng.pick(REGIONS),
                        "properties": {"provisioningState": "Succeeded"},
                    },
                    "activity_body",
                )
        elif category == "Policy":
            name = rng.pick(RESOURCE_NAMES)
            resource = self._resource("Microsoft.Compute", "virtualMachines", name, sub, rg, upper)
            effect = rng.pick(("audit", "audit", "deny", "auditIfNotExists"))
            operation = f"Microsoft.Authorization/policies/{effect}/action"
            result = "Success" if effect != "deny" else "Failure"
            result_signature = "Succeeded" if effect != "deny" else "Failed.Forbidden"
            level = "Warning" if effect != "deny" else "Error"
            identity, caller = self._identity(caller_ip, resource, operation)
            props = {
                "isComplianceCheck": rng.pick(("True", "False")),
                "resourceLocation": rng.pick(REGIONS),
                "ancestors": f"{pop.management_group},{pop.tenant_id}",
                "policies": q.json_text(
                    [
                        {
                            "policyDefinitionId": f"/providers/Microsoft.Authorization/"
                            f"policyDefinitions/{rng.guid()}",
                            "policyAssignmentName": rng.hexstr(24),
                            "policyAssignmentScope": f"/subscriptions/{sub}",
                            "policyDefinitionEffect": effect,
                        }
                    ],
                    "activity_body",
                ),
                "eventCategory": "Policy",
                "entity": resource,
                "message": operation,
                "hierarchy": "",
            }
        elif category == "Security":
            resource = f"/subscriptions/{sub}/providers/Microsoft.Security/locations/westeurope"
            operation = "Microsoft.Security/locations/alerts/activate/action"
            result, level = "Active", rng.pick(("Warning", "Informational", "Critical"))
            props = {
                "eventCategory": "Security",
                "threatStatus": "Quarantined",
                "alertDisplayName": rng.pick(
                    (
                        "Suspicious PowerShell command line",
                        "Access from a Tor exit node to a storage account",
                        "Unusual deletion in a key vault",
                    )
                ),
                "compromisedEntity": rng.pick(RESOURCE_NAMES),
                "severity": "Medium",
                "entity": resource,
                "message": operation,
            }
            caller = "Microsoft.Security"
        elif category == "ServiceHealth":
            service, incident, title = rng.pick(SERVICE_HEALTH)
            resource = f"/subscriptions/{sub}"
            operation = "Microsoft.ServiceHealth/incident/action"
            if incident == "Maintenance":
                operation = "Microsoft.ServiceHealth/maintenance/action"
            result, level = rng.pick(("Active", "Resolved", "Updated")), "Warning"
            tracking = f"{rng.hexstr(3).upper()}-{rng.hexstr(3).upper()}"
            props = {
                "title": title,
                "service": service,
                "region": "West Europe",
                "communication": f"<p>Starting at {ctx.clock.iso(ev - 40 * MINUTE)} customers "
                f"may experience issues with {service}.</p>",
                "incidentType": incident,
                "trackingId": tracking,
                "impactStartTime": ctx.clock.iso(ev - 40 * MINUTE),
                "impactedServices": q.json_text(
                    [{"ImpactedRegions": [{"RegionName": "West Europe"}], "ServiceName": service}],
                    "activity_body",
                ),
                "defaultLanguageTitle": title,
                "stage": result,
                "communicationId": rng.hexstr(16),
                "isHIR": "false",
                "version": "0.1.1",
                "eventCategory": "ServiceHealth",
            }
            caller = ""
        elif category == "Alert":
            name = rng.pick(RESOURCE_NAMES)
            resource = self._resource(
                "Microsoft.Insights", "metricAlerts", f"{name}-cpu", sub, rg, upper
            )
            operation = "Microsoft.Insights/metricAlerts/Activated/action"
            result, level = rng.pick(("Activated", "Resolved")), rng.pick(("Warning", "Critical"))
            props = {
                "RuleUri": resource,
                "RuleName": f"{name}-cpu",
                "RuleDescription": "",
                "Threshold": "80",
                "WindowSizeInMinutes": "5",
                "Aggregation": "Average",
                "Operator": "GreaterThan",
                "MetricName": "Percentage CPU",
                "MetricUnit": "Percent",
                "eventCategory": "Alert",
            }
            caller = "Microsoft.Insights/alertRules"
        elif category == "Recommendation":
            resource = self._resource(
                "Microsoft.Storage", "storageAccounts", "stcontosodata", sub, rg, upper
            )
            operation = "Microsoft.Advisor/recommendations/available/action"
            result = "Succeeded"
            props = {
                "recommendationSchemaVersion": "1.0",
                "recommendationCategory": rng.pick(("Security", "Cost", "HighAvailability")),
                "recommendationImpact": rng.pick(("High", "Medium", "Low")),
                "recommendationName": "Enable soft delete for blobs",
                "recommendationResourceLink": "https://portal.azure.com/#blade/"
                "Microsoft_Azure_Expert/RecommendationListBlade",
                "recommendationType": rng.guid(),
                "eventCategory": "Recommendation",
            }
            caller = "Microsoft.Advisor"
        elif category == "Autoscale":
            resource = self._resource(
                "Microsoft.Insights", "autoscalesettings", "as-orders-api", sub, rg, upper
            )
            operation = "Microsoft.Insights/AutoscaleSettings/Scaleup/Action"
            result = "Succeeded"
            old = rng.randrange(2, 6)
            props = {
                "Description": f"The autoscale engine attempting to scale resource from {old} "
                f"instances count to {old + 1} instances count.",
                "ResourceName": "app-orders-api",
                "OldInstancesCount": str(old),
                "NewInstancesCount": str(old + 1),
                "ActiveAutoscaleProfile": q.json_text(
                    {
                        "Name": "Auto created scale condition",
                        "Capacity": {"Minimum": "2", "Maximum": "10", "Default": "2"},
                    },
                    "activity_body",
                ),
                "LastScaleActionTime": ctx.clock.iso(ev),
                "eventCategory": "Autoscale",
            }
            caller = "Microsoft.Insights/autoscaleSettings"
        else:  # ResourceHealth
            name = rng.pick(RESOURCE_NAMES)
            resource = self._resource("Microsoft.Compute", "virtualMachines", name, sub, rg, upper)
            operation = "Microsoft.Resourcehealth/healthevent/Activated/action"
            result, level = "Active", rng.pick(("Informational", "Warning", "Critical"))
            props = {
                "title": "Virtual machine unavailable",
                "details": "The virtual machine is restarting because of a platform update.",
                "currentHealthStatus": "Unavailable",
                "previousHealthStatus": "Available",
                "type": "Downtime",
                "cause": "PlatformInitiated",
                "eventCategory": "ResourceHealth",
            }
            caller = "Microsoft.ResourceHealth"
        if upper:
            operation = operation.upper()
        rec: dict[str, Any] = {
            "time": ctx.q.time(ev),
            "resourceId": resource,
            "operationName": operation,
            "category": category,
            "tenantId": pop.tenant_id,
            "resultType": result,
            "resultSignature": result_signature,
            "durationMs": q.duration(),
            "callerIpAddress": caller_ip if identity is not None else "",
            "correlationId": corr,
        }
        if identity is not None:
            rec["identity"] = identity
        elif caller:
            rec["identity"] = caller
        rec["level"] = level if level != "Informational" or rng.random() < 0.6 else "Information"
        rec["location"] = "global"
        rec["properties"] = props
        if rng.random() < 0.1:
            q.seen["activity_extra_keys"] += 1
            rec["RoleLocation"] = "West Europe"
            rec["Stamp"] = f"PROD-AM3-AZ{rng.randrange(1, 5)}"
            rec["ReleaseVersion"] = f"6.2024.{rng.randrange(10, 52)}.{rng.randrange(1, 9)}"
        return rec
