"""Other Entra categories: MicrosoftGraphActivityLogs and NetworkAccessTrafficLogs (a category a
sign-in pipeline may not know yet). Their ``time`` is the event time."""

from __future__ import annotations

from typing import Any

from .context import Ctx
from .rand import weighted_table

GRAPH_CALLS = weighted_table(
    [
        (("GET", "/me"), 20),
        (("GET", "/me/messages?$top=25&$select=subject,from"), 14),
        (("GET", "/users?$filter=accountEnabled eq true&$top=999"), 6),
        (("GET", "/groups/{id}/members"), 6),
        (("POST", "/me/sendMail"), 4),
        (("GET", "/auditLogs/signIns?$top=1000"), 2),
        (("PATCH", "/users/{id}"), 2),
        (("GET", "/servicePrincipals?$top=100"), 3),
        (("GET", "/me/drive/root/children"), 10),
        (("POST", "/$batch"), 5),
        (("GET", "/applications"), 2),
    ]
)
STATUS = weighted_table([(200, 88), (204, 3), (400, 2), (401, 1), (403, 3), (404, 2), (429, 1)])
SCOPES = (
    "User.Read Mail.Read Files.ReadWrite.All",
    "User.Read",
    "Directory.Read.All",
    "AuditLog.Read.All Directory.Read.All",
)


class OtherBuilder:
    def __init__(self, ctx: Ctx) -> None:
        self.ctx = ctx

    def graph(self, ev: int) -> dict[str, Any]:
        ctx, rng, q = self.ctx, self.ctx.rng, self.ctx.q
        pop = ctx.pop
        method, path = rng.pick(GRAPH_CALLS)
        status = rng.pick(STATUS)
        delegated = rng.random() < 0.7
        if delegated:
            user = rng.pick(pop.users)
            app = rng.pick(pop.apps)
            ip, agent, user_id, app_id, sp_id = (
                user.ip,
                user.user_agent,
                user.user_id,
                app.app_id,
                "",
            )
        else:
            sp = rng.pick(pop.service_principals)
            ip, agent, user_id, app_id, sp_id = (
                pop.azure_ip(rng),
                "Microsoft.Graph.SDK/5.44",
                "",
                sp.app_id,
                sp.sp_id,
            )
        version = "v1.0" if rng.random() < 0.8 else "beta"
        uri = f"https://graph.microsoft.com/{version}{path.replace('{id}', rng.guid())}"
        request_id = rng.guid()
        duration = 20 + int(rng.random() * 900)
        rec: dict[str, Any] = {
            "time": q.time(ev),
            "resourceId": q.resource_id(),
            "operationName": "Microsoft Graph Activity",
            "operationVersion": version,
            "category": "MicrosoftGraphActivityLogs",
            "tenantId": pop.tenant_id,
            "resultType": "Succeeded" if status < 400 else "Failed",
            "resultSignature": str(status),
            "durationMs": duration,
            "callerIpAddress": ip,
            "correlationId": request_id,
            "level": "Informational",
            "location": "West Europe",
            "properties": {
                "timeGenerated": ctx.clock.iso(ev),
                "location": "West Europe",
                "requestId": request_id,
                "operationId": request_id,
                "clientRequestId": rng.guid(),
                "apiVersion": version,
                "requestMethod": method,
                "responseStatusCode": status,
                "tenantId": pop.tenant_id,
                "durationMs": duration,
                "responseSizeBytes": 200 + int(rng.random() * 50_000),
                "signInActivityId": rng.token(),
                "roles": "" if delegated else "Directory.Read.All",
                "tokenIssuedAt": ctx.clock.iso(ev - int(rng.random() * 3600) * 10_000_000),
                "appId": app_id,
                "userId": user_id,
                "servicePrincipalId": sp_id,
                "scopes": rng.pick(SCOPES) if delegated else "",
                "identityProvider": f"https://sts.windows.net/{pop.tenant_id}/",
                "clientAuthMethod": 0 if delegated else 2,
                "wids": "b79fbf4d-3ef9-4689-8143-76b194e85509",
                "atContent": "",
                "requestUri": uri,
                "ipAddress": ip,
                "userAgent": agent,
                "isCaeToken": "False",
                "deviceId": None,
            },
        }
        return rec

    def network_access(self, ev: int) -> dict[str, Any]:
        ctx, rng, q = self.ctx, self.ctx.rng, self.ctx.q
        pop = ctx.pop
        user = rng.pick(pop.users)
        fqdn = rng.pick(
            (
                "outlook.office365.com",
                "contoso.sharepoint.com",
                "github.com",
                "login.microsoftonline.com",
                "teams.microsoft.com",
            )
        )
        rec: dict[str, Any] = {
            "time": q.time(ev),
            "resourceId": q.resource_id(),
            "operationName": "Traffic log",
            "operationVersion": "1.0",
            "category": "NetworkAccessTrafficLogs",
            "tenantId": pop.tenant_id,
            "resultType": "Success",
            "resultSignature": "None",
            "durationMs": q.duration(),
            "callerIpAddress": user.ip,
            "correlationId": rng.guid(),
            "level": "Informational",
            "location": user.country.code,
            "properties": {
                "createdDateTime": ctx.clock.iso(ev),
                "transactionId": rng.guid(),
                "connectionId": rng.token(16),
                "sourceIp": user.ip,
                "destinationIp": pop.azure_ip(rng),
                "destinationFqdn": fqdn,
                "destinationPort": 443,
                "transportProtocol": "tcp",
                "trafficType": "microsoft365"
                if "micro" in fqdn or "office" in fqdn
                else "internet",
                "action": "allow",
                "policyName": "Baseline profile",
                "userId": user.user_id,
                "userPrincipalName": user.upn,
                "deviceId": user.device["deviceId"],
                "deviceOperatingSystem": user.os,
                "sentBytes": int(rng.random() * 20_000),
                "receivedBytes": int(rng.random() * 200_000),
            },
        }
        return rec
