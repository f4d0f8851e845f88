"""Sign-in records: interactive, non-interactive, ADFS, service principal, managed identity,
Microsoft service principal, and the PascalCase Log-Analytics-style variant.

Builders take every decision as an argument (who, where, which error code); choosing those is the
job of ``traffic`` (background) and ``scenarios`` (attacks). Constant sub-objects (locations,
policy results, device details) are built once and shared between records: treat records as
read-only.
"""

from __future__ import annotations

from typing import Any

import orjson

from .context import Ctx
from .geo import AZURE_BLOCKS, BY_CODE, City, block_address
from .population import App, ServicePrincipal, User

# errorCode -> (failureReason, additionalDetails)
ERRORS: dict[int, tuple[str, str]] = {
    50126: (
        "Error validating credentials due to invalid username or password.",
        "The user didn't enter the right credentials. It's expected to see some number of "
        "these errors in your logs due to users making mistakes.",
    ),
    50053: (
        "Account is locked because user tried to sign in too many times with an incorrect user "
        "ID or password.",
        "Sign-in was blocked by smart lockout.",
    ),
    50055: (
        "The password is expired.",
        "The user's password is expired, and therefore their login or session was ended.",
    ),
    50056: (
        "Invalid or null password: password does not exist in the directory for this user.",
        "The user should be asked to enter their password again.",
    ),
    50057: ("User account is disabled.", "The account has been disabled by an administrator."),
    50034: (
        "User account does not exist in the directory.",
        "The user account doesn't exist in the directory.",
    ),
    50074: ("Strong Authentication is required.", "MFA required in Azure AD"),
    50076: (
        "Due to a configuration change made by your administrator, or because you moved to a "
        "new location, you must use multi-factor authentication to access the resource.",
        "MFA required in Azure AD",
    ),
    50079: (
        "Due to a configuration change made by your administrator, or because you moved to a "
        "new location, you must enroll in multi-factor authentication to access the resource.",
        "User needs to register for MFA",
    ),
    500121: (
        "Authentication failed during strong authentication request.",
        "MFA denied; user declined the authentication",
    ),
    53003: (
        "Access has been blocked by Conditional Access policies. The access policy does not "
        "allow token issuance.",
        "Access was blocked by a Conditional Access policy.",
    ),
    53000: (
        "Device is not in required device state: compliant. Conditional Access policy requires "
        "a compliant device, and the device is not compliant.",
        "The user must enroll their device with an approved MDM provider like Intune.",
    ),
    53001: (
        "Device is not in required device state: domainJoined.",
        "Conditional Access policy requires a domain joined device.",
    ),
    53002: (
        "Application used is not an approved application for Conditional Access.",
        "The user must use one of the approved client applications.",
    ),
    50105: (
        "Your administrator has configured the application to block users unless they are "
        "specifically granted ('assigned') access to the application.",
        "The signed in user isn't assigned to a role for the signed in application.",
    ),
    65001: (
        "The user or administrator has not consented to use the application.",
        "Send an interactive authorization request for this user and resource.",
    ),
    70043: (
        "The refresh token has expired or is invalid due to sign-in frequency checks by "
        "conditional access.",
        "The token was issued before the sign-in frequency window.",
    ),
    50140: (
        "This error occurred due to 'Keep me signed in' interrupt when the user was signing in.",
        "This is an expected part of the login flow.",
    ),
    50058: (
        "Session information is not sufficient for single-sign-on.",
        "This is an expected part of the login flow.",
    ),
    90025: (
        "An internal Azure AD service hit its retry allowance.",
        "An internal retry was needed; no user action is required.",
    ),
    50173: (
        "The provided grant has expired due to it being revoked, a fresh auth token is needed.",
        "The user might have changed their password.",
    ),
    700082: (
        "The refresh token has expired due to inactivity.",
        "The token was issued and was inactive for a long time.",
    ),
    50133: (
        "Session is invalid due to expiration or recent password change.",
        "The session was revoked.",
    ),
    7000215: (
        "Invalid client secret provided.",
        "Ensure the secret being sent in the request is "
        "the client secret value, not the client secret ID.",
    ),
    7000222: (
        "The provided client secret keys for app are expired.",
        "Create new keys for your app, or consider using certificate credentials.",
    ),
    700027: (
        "Client assertion failed signature validation.",
        "The certificate used does not match any registered key.",
    ),
    7000112: ("Application is disabled.", "The application was disabled by an administrator."),
}
MFA_DENIALS = (
    "MFA denied; user declined the authentication",
    "MFA denied; user did not respond to mobile app notification",
    "MFA denied; user reported fraud",
)
SUCCESS_DETAILS = (
    "MFA requirement satisfied by claim in the token",
    "MFA completed in Azure AD",
    None,
    None,
)
# Codes where the first factor (password) was right even though the sign-in failed.
PASSWORD_OK = frozenset(
    {
        50055,
        50057,
        50155,
        50105,
        50133,
        50005,
        50076,
        50079,
        50173,
        50158,
        50072,
        50074,
        53003,
        53000,
        53001,
        53002,
        50129,
        500121,
        65001,
        70043,
    }
)
CA_FAILURE_POLICY = {53003: 4, 53000: 2, 53001: 2, 53002: 2}
LEGACY_CLIENTS = (
    "IMAP4",
    "POP3",
    "Authenticated SMTP",
    "Exchange ActiveSync",
    "Other clients",
    "Exchange Web Services",
    "MAPI Over HTTP",
    "Offline Address Book",
)
SP_CITIES = {
    (20, 42): BY_CODE["IE"].cities[0],
    (40, 74): BY_CODE["NL"].cities[0],
    (52, 169): BY_CODE["US"].cities[1],
    (13, 69): BY_CODE["US"].cities[2],
    (20, 191): BY_CODE["US"].cities[0],
}
_PROCESSING = (
    [
        {"key": "Legacy TLS (TLS 1.0, 1.1, 3DES)", "value": "False"},
        {"key": "Is CAE Token", "value": "False"},
    ],
    [
        {"key": "Legacy TLS (TLS 1.0, 1.1, 3DES)", "value": "False"},
        {"key": "Is CAE Token", "value": "True"},
        {"key": "Root Key Type", "value": "Unknown"},
    ],
)
_PROCESSING_JSON = [
    {"key": "Legacy TLS (TLS 1.0, 1.1, 3DES)", "value": "False"},
    {
        "key": "Oauth Scope Info",
        "value": '["openid","profile","email","offline_access","User.Read"]',
    },
]
_SP_PROCESSING = [
    {
        "key": "Azure AD App Authentication Library",
        "value": "Family: MSAL Library: MSAL.NET 4.59.0.0 Platform: .NET",
    },
    {"key": "Is CAE Token", "value": "False"},
]
_PII_DEVICE = {
    "deviceId": "",
    "displayName": "PII Removed",
    "operatingSystem": "PII Removed",
    "browser": "PII Removed",
    "isCompliant": False,
    "isManaged": False,
    "trustType": "",
}
_NO_DEVICE = {
    "deviceId": "",
    "displayName": "",
    "operatingSystem": "",
    "browser": "",
    "isCompliant": False,
    "isManaged": False,
    "trustType": "",
}
_TRUSTED_NETWORK = [{"networkType": "trustedNamedLocation", "networkNames": ["Corporate egress"]}]


def location_dict(city: City) -> dict[str, Any]:
    return {
        "city": city.name,
        "state": city.state,
        "countryOrRegion": city.country,
        "geoCoordinates": {"latitude": city.latitude, "longitude": city.longitude},
    }


def _no_risk() -> dict[str, Any]:
    """The risk fields of a sign-in Entra saw no risk in (fresh lists: a record is its own)."""
    return {
        "riskDetail": "none",
        "riskLevelAggregated": "none",
        "riskLevelDuringSignIn": "none",
        "riskState": "none",
        "riskEventTypes": [],
        "riskEventTypes_v2": [],
    }


class SignInBuilder:
    """Builds sign-in records; see the module docstring."""

    def __init__(self, ctx: Ctx) -> None:
        self.ctx = ctx
        self._loc: dict[int, dict[str, Any]] = {}
        self._policy: list[dict[str, dict[str, Any]]] = []
        for p in ctx.pop.policies:
            variants: dict[str, dict[str, Any]] = {}
            for result in (
                "success",
                "failure",
                "notApplied",
                "reportOnlySuccess",
                "reportOnlyNotApplied",
                "reportOnlyFailure",
            ):
                applied = result not in ("notApplied", "reportOnlyNotApplied")
                entry: dict[str, Any] = {
                    "id": p.policy_id,
                    "displayName": p.name,
                    "enforcedGrantControls": list(p.grant) if applied else [],
                    "enforcedSessionControls": list(p.session) if applied else [],
                    "result": result,
                }
                if applied:
                    entry["conditionsSatisfied"] = 3
                    entry["conditionsNotSatisfied"] = 0
                variants[result] = entry
            self._policy.append(variants)
        self._policy_cache: dict[tuple[Any, ...], list[dict[str, Any]]] = {}
        self._all_not_applied = [v["notApplied"] for v in self._policy]
        tid = ctx.pop.tenant_id
        self._sp_ip = {
            sp.sp_id: block_address(AZURE_BLOCKS[i % len(AZURE_BLOCKS)], 40 + i)
            for i, sp in enumerate(
                ctx.pop.service_principals + ctx.pop.managed_identities + ctx.pop.microsoft_sps
            )
        }
        self._tenant_id = tid

    def location(self, city: City) -> dict[str, Any]:
        loc = self._loc.get(id(city))
        if loc is None:
            loc = self._loc[id(city)] = location_dict(city)
        return loc

    # -- conditional access -------------------------------------------------------------------
    def policies(
        self, user: User, code: int, mfa: bool, client_app: str, interactive: bool
    ) -> list[dict[str, Any]]:
        """The Conditional Access results of a sign-in (shared, cached lists)."""
        if code and code not in PASSWORD_OK:
            return self._all_not_applied
        legacy = client_app in LEGACY_CLIENTS
        key = (user.privileged, user.device["isManaged"], code, mfa, legacy, interactive)
        cached = self._policy_cache.get(key)
        if cached is not None:
            return cached
        pv = self._policy
        out = [
            pv[0]["success" if mfa else "failure"]
            if user.privileged and interactive
            else pv[0]["notApplied"],
            pv[1]["failure"] if legacy and code else pv[1]["notApplied"],
            pv[2]["success"] if user.device["isManaged"] else pv[2]["notApplied"],
            pv[3]["success"] if mfa and interactive else pv[3]["notApplied"],
            pv[4]["notApplied"],
            pv[5]["reportOnlySuccess"] if mfa else pv[5]["reportOnlyNotApplied"],
        ]
        failing = CA_FAILURE_POLICY.get(code)
        if failing is not None and not legacy:
            out[failing] = pv[failing]["failure"]
        self._policy_cache[key] = out
        return out

    @staticmethod
    def ca_status(policies: list[dict[str, Any]]) -> str:
        status = "notApplied"
        for p in policies:
            r = p["result"]
            if r == "failure":
                return "failure"
            if r == "success":
                status = "success"
        return status

    def auth_details(
        self, when: str, code: int, mfa: bool, interactive: bool, details: str | None
    ) -> list[dict[str, Any]]:
        if not interactive:
            return [
                {
                    "authenticationStepDateTime": when,
                    "authenticationMethod": "Previously satisfied",
                    "authenticationMethodDetail": None,
                    "succeeded": code == 0,
                    "authenticationStepResultDetail": "First factor requirement satisfied by claim in the token",
                    "authenticationStepRequirement": "Primary authentication",
                    "StatusSequence": 0,
                    "RequestSequence": 0,
                }
            ]
        password_ok = code == 0 or code in PASSWORD_OK
        steps = [
            {
                "authenticationStepDateTime": when,
                "authenticationMethod": "Password",
                "authenticationMethodDetail": "Password in the cloud",
                "succeeded": password_ok,
                "authenticationStepResultDetail": "Correct password"
                if password_ok
                else "Invalid username or password or Invalid on-premise username or password.",
                "authenticationStepRequirement": "Primary authentication",
                "StatusSequence": 0,
                "RequestSequence": 0,
            }
        ]
        if mfa or code in (500121, 50074, 50076):
            ok = code == 0
            steps.append(
                {
                    "authenticationStepDateTime": when,
                    "authenticationMethod": "Mobile app notification",
                    "authenticationMethodDetail": None,
                    "succeeded": ok,
                    "authenticationStepResultDetail": "MFA successfully completed"
                    if ok
                    else (details or "MFA required in Azure AD"),
                    "authenticationStepRequirement": "Multifactor authentication",
                    "StatusSequence": 0 if not ok else 1,
                    "RequestSequence": 1,
                }
            )
        return steps

    # -- user sign-ins ------------------------------------------------------------------------
    def user_signin(
        self,
        *,
        ev: int,
        proc: int,
        user: User,
        category: str,
        code: int,
        city: City,
        ip: str,
        app: App,
        client_app: str,
        mfa: bool,
        details: str | None = None,
        upn: str | None = None,
        device: dict[str, Any] | None = None,
        service_principal_id: str = "",
        signin_id: str | None = None,
        resource_tenant: str | None = None,
        user_id: str | None = None,
        session_id: str | None = None,
        protocol: str | None = None,
    ) -> dict[str, Any]:
        """One user sign-in (SignInLogs, NonInteractiveUserSignInLogs or ADFSSignInLogs);
        ``session_id`` None: a new session (interactive) or none; ``protocol`` None: Azure's
        value for the client ("none", or "ropc" for legacy clients)."""
        ctx, rng, q = self.ctx, self.ctx.rng, self.ctx.q
        interactive = category != "NonInteractiveUserSignInLogs"
        adfs = category == "ADFSSignInLogs"
        sid = signin_id or rng.guid()
        corr = rng.guid()
        when = ctx.clock.iso(ev)
        policies = self.policies(user, code, mfa, client_app, interactive)
        if code:
            reason, default_details = ERRORS[code]
            status: dict[str, Any] = {
                "errorCode": code,
                "failureReason": reason,
                "additionalDetails": details or default_details,
            }
        else:
            reason = ""
            status = {"errorCode": 0, "additionalDetails": details or rng.pick(SUCCESS_DETAILS)}
        upn = upn or user.upn
        home = user.home_tenant
        resource_tenant = resource_tenant or self._tenant_id
        if rng.random() < 0.04:
            processing = _PROCESSING_JSON
            q.seen["json_in_string:authentication_processing_details"] += 1
        else:
            processing = _PROCESSING[int(rng.random() * 2)]
        audiences: Any = [app.resource_id]
        if rng.random() < 0.03:
            audiences = {"applicationId": app.resource_id, "audienceReasons": "none"}
            q.seen["ca_audiences_object"] += 1
        rec = ctx.envelope(
            proc,
            category,
            "Sign-in activity",
            str(code),
            corr,
            ip,
            identity=user.display,
            location=city.country,
            description=reason or None,
        )
        rec["properties"] = {
            "id": sid,
            "createdDateTime": q.event_time(ev, offset_style=True),
            "userDisplayName": user.display,
            "userPrincipalName": upn,
            "userId": user.user_id if user_id is None else user_id,
            "appId": app.app_id,
            "appDisplayName": app.name,
            "ipAddress": ip,
            "status": status,
            "clientAppUsed": client_app,
            "userAgent": user.user_agent,
            "deviceDetail": device or user.device,
            "location": self.location(city),
            "mfaDetail": {"authMethod": "Mobile app notification", "authDetail": None}
            if mfa
            else {},
            "correlationId": corr,
            "conditionalAccessStatus": self.ca_status(policies),
            "appliedConditionalAccessPolicies": policies,
            "authenticationContextClassReferences": [],
            "originalRequestId": sid,
            "isInteractive": interactive,
            "tokenIssuerName": "fs.contoso.com" if adfs else "",
            "tokenIssuerType": "ADFederationServices" if adfs else "AzureAD",
            "authenticationProcessingDetails": processing,
            "networkLocationDetails": _TRUSTED_NETWORK if user.device["isManaged"] else [],
            "clientCredentialType": "none",
            "processingTimeInMilliseconds": 40 + int(rng.random() * 400),
            **_no_risk(),
            "resourceDisplayName": app.resource_name,
            "resourceId": app.resource_id,
            "resourceTenantId": resource_tenant,
            "homeTenantId": home,
            "authenticationDetails": self.auth_details(
                when, code, mfa, interactive and not adfs, details
            ),
            "authenticationRequirementPolicies": [],
            "authenticationRequirement": "multiFactorAuthentication"
            if mfa
            else "singleFactorAuthentication",
            "alternateSignInName": upn,
            "signInIdentifier": upn,
            "servicePrincipalId": service_principal_id,
            "userType": user.user_type,
            "flaggedForReview": False,
            "isTenantRestricted": False,
            "autonomousSystemNumber": user.asn,
            "crossTenantAccessType": "none" if home == resource_tenant else "b2bCollaboration",
            "uniqueTokenIdentifier": rng.token(),
            "incomingTokenType": "none" if interactive else "refreshToken",
            "authenticationProtocol": protocol
            or ("none" if client_app not in LEGACY_CLIENTS else "ropc"),
            "appServicePrincipalId": None,
            "resourceServicePrincipalId": app.resource_sp_id,
            "conditionalAccessAudiences": audiences,
            "sessionId": session_id
            if session_id is not None
            else (rng.guid() if interactive else ""),
            "signInEventTypes": ["interactiveUser"] if interactive else ["nonInteractiveUser"],
        }
        return rec

    @staticmethod
    def pii_device() -> dict[str, Any]:
        return _PII_DEVICE

    @staticmethod
    def no_device() -> dict[str, Any]:
        return _NO_DEVICE

    def risk_copy(
        self, rec: dict[str, Any], proc: int, level: str, events: list[str]
    ) -> dict[str, Any]:
        """The near-identical copy sent when risk is found on a sign-in (same ``id``)."""
        copy = dict(rec)
        props = dict(rec["properties"])
        props.update(
            {
                "riskDetail": "none",
                "riskLevelAggregated": level,
                "riskLevelDuringSignIn": level,
                "riskState": "atRisk",
                "riskEventTypes": list(events),
                "riskEventTypes_v2": list(events),
                "flaggedForReview": level == "high",
            }
        )
        copy["time"] = self.ctx.clock.iso(proc)
        copy["properties"] = props
        return copy

    def split_ca(self, rec: dict[str, Any], proc: int) -> tuple[dict[str, Any], dict[str, Any]]:
        """A sign-in split into two records with the same ``id``, policies divided between them."""
        policies = rec["properties"]["appliedConditionalAccessPolicies"]
        cut = max(1, len(policies) // 2)
        first, second = dict(rec), dict(rec)
        p1, p2 = dict(rec["properties"]), dict(rec["properties"])
        p1["appliedConditionalAccessPolicies"] = policies[:cut]
        p2["appliedConditionalAccessPolicies"] = policies[cut:]
        first["properties"], second["properties"] = p1, p2
        second["time"] = self.ctx.clock.iso(proc)
        return first, second

    # -- workload identities ------------------------------------------------------------------
    def sp_signin(
        self,
        *,
        ev: int,
        proc: int,
        sp: ServicePrincipal,
        category: str,
        code: int,
        app: App,
        ip: str | None = None,
    ) -> dict[str, Any]:
        """Service principal, managed identity or Microsoft service principal sign-in."""
        ctx, rng, q = self.ctx, self.ctx.rng, self.ctx.q
        ip = ip if ip is not None else self._sp_ip[sp.sp_id]
        octets = ip.split(".")
        block = (int(octets[0]), int(octets[1])) if len(octets) == 4 else (20, 42)
        city = SP_CITIES.get(block, BY_CODE["IE"].cities[0])
        sid, corr = rng.guid(), rng.guid()
        if code:
            reason, extra = ERRORS[code]
            status: dict[str, Any] = {
                "errorCode": code,
                "failureReason": reason,
                "additionalDetails": extra,
            }
        else:
            reason = ""
            status = {"errorCode": 0}
        rec = ctx.envelope(
            proc,
            category,
            "Sign-in activity",
            str(code),
            corr,
            ip,
            location=city.country,
            description=reason or None,
        )
        sp_id = sp.sp_id
        if category == "MicrosoftServicePrincipalSignInLogs" and rng.random() < 0.3:
            sp_id = q.zero_sp()
        props: dict[str, Any] = {
            "id": sid,
            "createdDateTime": q.event_time(ev, offset_style=True),
            "appId": sp.app_id,
            "appDisplayName": sp.name,
            "ipAddress": ip,
            "status": status,
            "location": self.location(city),
            "correlationId": corr,
            "conditionalAccessStatus": "notApplied",
            "appliedConditionalAccessPolicies": [],
            "originalRequestId": sid,
            "isInteractive": False,
            "tokenIssuerType": "AzureAD",
            "authenticationProcessingDetails": _SP_PROCESSING,
            "networkLocationDetails": [],
            "clientCredentialType": sp.credential,
            "processingTimeInMilliseconds": 10 + int(rng.random() * 150),
            **_no_risk(),
            "resourceDisplayName": app.resource_name,
            "resourceId": app.resource_id,
            "resourceTenantId": self._tenant_id,
            "homeTenantId": self._tenant_id,
            "authenticationDetails": [],
            "authenticationRequirement": "singleFactorAuthentication",
            "servicePrincipalId": sp_id,
            "servicePrincipalName": sp.name,
            "servicePrincipalCredentialKeyId": sp.key_id,
            "servicePrincipalCredentialThumbprint": rng.hexstr(40).upper()
            if sp.credential == "certificate"
            else "",
            "uniqueTokenIdentifier": rng.token(),
            "incomingTokenType": "none",
            "authenticationProtocol": "none",
            "resourceServicePrincipalId": app.resource_sp_id,
            "federatedCredentialId": rng.guid() if sp.credential == "clientAssertion" else "",
            "signInEventTypes": ["managedIdentity"]
            if sp.kind == "managedIdentity"
            else ["servicePrincipal"],
        }
        if sp.kind == "managedIdentity":
            props["managedIdentityType"] = sp.mi_type
            props["managedServiceIdentity"] = {
                "msiType": sp.mi_type,
                "associatedResourceId": sp.mi_resource_id,
                "federatedTokenId": "",
                "federatedTokenIssuer": "",
            }
        rec["properties"] = props
        return rec

    def pascal_case(self, rec: dict[str, Any], ev: int) -> dict[str, Any]:
        """The Log-Analytics-shaped variant of a service-principal sign-in: PascalCase keys, no
        ``time``, nested objects as JSON strings."""
        q = self.ctx.q
        q.seen["pascal_case_sp_signin"] += 1
        p = rec["properties"]
        return {
            "TenantId": rec["tenantId"],
            "SourceSystem": "Azure AD",
            "OperationName": rec["operationName"],
            "OperationVersion": rec["operationVersion"],
            "Category": rec["category"],
            "ResultType": rec["resultType"],
            "ResultSignature": "None",
            "ResultDescription": rec.get("resultDescription", ""),
            "DurationMs": rec["durationMs"],
            "CorrelationId": rec["correlationId"],
            "ResourceId": rec["resourceId"],
            "ResourceGroup": "Microsoft.aadiam",
            "Identity": "",
            "Level": 4,
            "Location": rec["location"],
            "AppId": p["appId"],
            "AuthenticationProcessingDetails": q.json_text(
                p["authenticationProcessingDetails"], "authentication_processing_details"
            ),
            "ConditionalAccessPolicies": "[]",
            "ConditionalAccessStatus": p["conditionalAccessStatus"],
            "CreatedDateTime": self.ctx.clock.iso(ev),
            "FederatedCredentialId": p["federatedCredentialId"],
            "Id": p["id"],
            "IPAddress": p["ipAddress"],
            "LocationDetails": orjson.dumps(p["location"]).decode(),
            "ResourceDisplayName": p["resourceDisplayName"],
            "ResourceIdentity": p["resourceId"],
            "ResourceServicePrincipalId": p["resourceServicePrincipalId"],
            "ServicePrincipalCredentialKeyId": p["servicePrincipalCredentialKeyId"],
            "ServicePrincipalCredentialThumbprint": p["servicePrincipalCredentialThumbprint"],
            "ServicePrincipalId": p["servicePrincipalId"],
            "ServicePrincipalName": p["servicePrincipalName"],
            "Status": orjson.dumps(p["status"]).decode(),
            "UniqueTokenIdentifier": p["uniqueTokenIdentifier"],
            "Type": "AADServicePrincipalSignInLogs",
        }
