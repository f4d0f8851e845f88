"""Identity Protection records: RiskyUsers, UserRiskEvents, RiskyServicePrincipals,
ServicePrincipalRiskEvents. ``additionalInfo`` is JSON inside a string, as in the wild."""

from __future__ import annotations

from typing import Any

from .context import Ctx
from .population import ServicePrincipal, User
from .rand import weighted_table
from .signins import location_dict
from .times import SECOND

USER_RISK_EVENTS = weighted_table(
    [
        ("unfamiliarFeatures", 30),
        ("anonymizedIPAddress", 15),
        ("leakedCredentials", 5),
        ("maliciousIPAddress", 6),
        ("unlikelyTravel", 8),
        ("passwordSpray", 3),
        ("investigationsThreatIntelligence", 3),
        ("suspiciousBrowser", 4),
        ("mcasSuspiciousInboxManipulationRules", 2),
        ("anomalousToken", 4),
        ("newCountry", 5),
    ]
)
SP_RISK_EVENTS = (
    "investigationsThreatIntelligence",
    "suspiciousSignins",
    "leakedCredentials",
    "adminConfirmedServicePrincipalCompromised",
)
LEVELS = weighted_table([("low", 45), ("medium", 35), ("high", 15), ("hidden", 5)])
VISIBLE_LEVELS = weighted_table([("low", 45), ("medium", 35), ("high", 15)])
USER_STATES = weighted_table(
    [
        ("atRisk", 55),
        ("remediated", 15),
        ("dismissed", 15),
        ("confirmedSafe", 8),
        ("confirmedCompromised", 4),
        ("none", 3),
    ]
)
DETAIL_FOR_STATE = {
    "atRisk": "none",
    "remediated": "userPerformedSecuredPasswordChange",
    "dismissed": "adminDismissedAllRiskForUser",
    "confirmedSafe": "adminConfirmedSigninSafe",
    "confirmedCompromised": "adminConfirmedUserCompromised",
    "none": "none",
}
OFFLINE_ONLY = frozenset(
    {
        "leakedCredentials",
        "investigationsThreatIntelligence",
        "mcasSuspiciousInboxManipulationRules",
        "unlikelyTravel",
    }
)


class RiskBuilder:
    def __init__(self, ctx: Ctx) -> None:
        self.ctx = ctx

    def risky_user(self, ev: int, proc: int, user: User) -> dict[str, Any]:
        ctx, rng, q = self.ctx, self.ctx.rng, self.ctx.q
        state = rng.pick(USER_STATES)
        level = (
            "none" if state in ("remediated", "dismissed", "confirmedSafe") else rng.pick(LEVELS)
        )
        rec = ctx.envelope(
            proc, "RiskyUsers", "Risky user", "Success", rng.guid(), "", identity=user.display
        )
        rec["properties"] = {
            "id": user.user_id,
            "isDeleted": False,
            "isProcessing": rng.random() < 0.05,
            "isGuest": user.user_type == "Guest",
            "riskDetail": DETAIL_FOR_STATE[state],
            "riskLastUpdatedDateTime": q.event_time(ev),
            "riskLevel": level,
            "riskState": state,
            "userDisplayName": user.display,
            "userPrincipalName": user.upn,
        }
        return rec

    def user_risk_event(
        self,
        ev: int,
        detected: int,
        proc: int,
        user: User,
        timing: str,
        ip: str,
        event_type: str | None = None,
        level: str | None = None,
        request_id: str | None = None,
    ) -> dict[str, Any]:
        """A risk detection; ``ev`` is the risky activity, ``detected`` when it was found."""
        ctx, rng, q = self.ctx, self.ctx.rng, self.ctx.q
        event_type = event_type or rng.pick(USER_RISK_EVENTS)
        level = level or rng.pick(VISIBLE_LEVELS if timing == "realtime" else LEVELS)
        state = rng.pick(USER_STATES)
        corr = rng.guid()
        info: list[dict[str, Any]] = [{"Key": "userAgent", "Value": user.user_agent}]
        if event_type in ("unlikelyTravel", "newCountry"):
            info.append(
                {
                    "Key": "relatedLocation",
                    "Value": {"clientIP": user.mobile_ip, "countryCode": user.country.code},
                }
            )
        if event_type == "anonymizedIPAddress":
            info.append({"Key": "alertUrl", "Value": None})
        rec = ctx.envelope(
            proc,
            "UserRiskEvents",
            "User Risk Detection",
            "Success",
            corr,
            ip,
            identity=user.display,
        )
        rec["properties"] = {
            "id": rng.hexstr(64),
            "requestId": request_id or rng.guid(),
            "correlationId": corr,
            "riskEventType": event_type,
            "riskType": event_type,
            "riskState": state,
            "riskLevel": level,
            "riskDetail": DETAIL_FOR_STATE[state],
            "source": "MCAS" if event_type.startswith("mcas") else "IdentityProtection",
            "detectionTimingType": timing,
            "activity": "user" if event_type == "leakedCredentials" else "signin",
            "tokenIssuerType": "AzureAD",
            "ipAddress": ip,
            "location": location_dict(user.city),
            "activityDateTime": q.event_time(ev),
            "detectedDateTime": ctx.clock.iso(detected),
            "lastUpdatedDateTime": ctx.clock.iso(max(detected, proc - 30 * SECOND)),
            "userId": user.user_id,
            "userDisplayName": user.display,
            "userPrincipalName": user.upn,
            "additionalInfo": q.json_text(info, "risk_additional_info"),
        }
        return rec

    def risky_service_principal(self, ev: int, proc: int, sp: ServicePrincipal) -> dict[str, Any]:
        ctx, rng, q = self.ctx, self.ctx.rng, self.ctx.q
        state = rng.pick(("atRisk", "dismissed", "confirmedCompromised", "remediated"))
        rec = ctx.envelope(
            proc,
            "RiskyServicePrincipals",
            "Risky service principal",
            "Success",
            rng.guid(),
            "",
            identity=sp.name,
        )
        rec["properties"] = {
            "id": sp.sp_id,
            "appId": sp.app_id,
            "displayName": sp.name,
            "servicePrincipalType": "Application",
            "isEnabled": True,
            "isProcessing": False,
            "riskDetail": "none"
            if state == "atRisk"
            else "adminDismissedAllRiskForServicePrincipal",
            "riskLastUpdatedDateTime": q.event_time(ev),
            "riskLevel": rng.pick(VISIBLE_LEVELS),
            "riskState": state,
        }
        return rec

    def sp_risk_event(
        self, ev: int, detected: int, proc: int, sp: ServicePrincipal, ip: str
    ) -> dict[str, Any]:
        ctx, rng, q = self.ctx, self.ctx.rng, self.ctx.q
        corr = rng.guid()
        rec = ctx.envelope(
            proc,
            "ServicePrincipalRiskEvents",
            "Service principal risk detection",
            "Success",
            corr,
            ip,
            identity=sp.name,
        )
        sp_id = sp.sp_id if rng.random() > 0.15 else q.zero_sp()
        rec["properties"] = {
            "id": rng.hexstr(64),
            "requestId": rng.guid(),
            "correlationId": corr,
            "appId": sp.app_id,
            "servicePrincipalId": sp_id,
            "servicePrincipalDisplayName": sp.name,
            "riskEventType": rng.pick(SP_RISK_EVENTS),
            "riskLevel": rng.pick(VISIBLE_LEVELS),
            "riskState": "atRisk",
            "riskDetail": "none",
            "source": "IdentityProtection",
            "detectionTimingType": "offline",
            "activity": "servicePrincipal",
            "ipAddress": ip,
            "location": None,
            "keyIds": [sp.key_id] if sp.key_id else [],
            "activityDateTime": q.event_time(ev),
            "detectedDateTime": ctx.clock.iso(detected),
            "lastUpdatedDateTime": ctx.clock.iso(proc),
            "additionalInfo": q.json_text(
                [{"Key": "alertUrl", "Value": None}], "risk_additional_info"
            ),
        }
        return rec
