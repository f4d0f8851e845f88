"""Background traffic: which category, user, outcome and delay each ordinary record gets.

Background traffic is kept clear of every detection threshold the injected scenarios cross:
- each user signs in from their own addresses only (no address is shared between users), and odd
  addresses (empty, ``<null>``, CIDR...) appear on successes only, so no address fails for two users;
- failures per user per UTC day are capped (8, or 2 for scenario victims), MFA denials at 2, and a
  user signs in from at most two cities, so no user reaches 30 failures or 3 locations in a day;
- successes always come from the user's home country (travellers move to a second city of that
  country, with a sign-in blackout long enough to keep the speed under 250 km/h);
- legacy clients (IMAP4, POP3...) appear only as failures blocked by Conditional Access;
- risk (risky sign-ins, risk detections) happens to risk-prone users only, so the others register
  security info with no risk before; a user's interactive sign-ins of a day share one session (one
  country); device-code users use the device-code flow for every interactive sign-in.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

from .activity import ActivityBuilder
from .audit import AuditBuilder
from .context import Ctx
from .other import OtherBuilder
from .population import User
from .provisioning import ProvisioningBuilder
from .rand import weighted_table
from .risk import RiskBuilder
from .signins import LEGACY_CLIENTS, SignInBuilder
from .times import DAY, HOUR, MINUTE, SECOND

USER_SIGNIN_CATEGORIES = ("SignInLogs", "NonInteractiveUserSignInLogs", "ADFSSignInLogs")
WORKLOAD_SIGNIN_CATEGORIES = (
    "ServicePrincipalSignInLogs",
    "ManagedIdentitySignInLogs",
    "MicrosoftServicePrincipalSignInLogs",
)
SIGNIN_CATEGORIES = USER_SIGNIN_CATEGORIES + WORKLOAD_SIGNIN_CATEGORIES
ACTIVITY_CATEGORIES = (
    "Administrative",
    "Policy",
    "Security",
    "ServiceHealth",
    "Alert",
    "Recommendation",
    "Autoscale",
    "ResourceHealth",
)
# Share of background records per category (non-interactive + workload ~ 8x interactive).
CATEGORY_WEIGHTS: dict[str, float] = {
    "NonInteractiveUserSignInLogs": 0.37,
    "ServicePrincipalSignInLogs": 0.16,
    "ManagedIdentitySignInLogs": 0.08,
    "SignInLogs": 0.08,
    "MicrosoftServicePrincipalSignInLogs": 0.004,
    "ADFSSignInLogs": 0.01,
    "AuditLogs": 0.07,
    "ProvisioningLogs": 0.03,
    "MicrosoftGraphActivityLogs": 0.08,
    "NetworkAccessTrafficLogs": 0.004,
    "RiskyUsers": 0.004,
    "UserRiskEvents": 0.008,
    "RiskyServicePrincipals": 0.002,
    "ServicePrincipalRiskEvents": 0.002,
    "Administrative": 0.045,
    "Policy": 0.015,
    "Security": 0.003,
    "ServiceHealth": 0.002,
    "Alert": 0.003,
    "Recommendation": 0.002,
    "Autoscale": 0.002,
    "ResourceHealth": 0.002,
}
CATEGORIES = tuple(CATEGORY_WEIGHTS)
NIGHT_ONLY_GAPS = frozenset({"ProvisioningLogs"})
"""Categories with normal gaps: no record at night (provisioning cycles run in office hours), the
look-alike of a category gone silent."""
NIGHT_HOURS = frozenset({22, 23, 0, 1, 2, 3, 4})
"""UTC hours of the night for ``NIGHT_ONLY_GAPS``."""

INTERACTIVE_CODES = weighted_table(
    [
        (0, 860),
        (50126, 25),
        (50140, 30),
        (50058, 20),
        (50074, 10),
        (50076, 10),
        (53003, 4),
        (53000, 4),
        (53001, 1),
        (53002, 1),
        (500121, 3),
        (50053, 1),
        (50055, 2),
        (50056, 1),
        (50057, 1),
        (50105, 2),
        (65001, 2),
        (70043, 2),
        (50079, 2),
        (90025, 1),
        (50034, 1),
    ]
)
NON_INTERACTIVE_CODES = weighted_table(
    [
        (0, 930),
        (70043, 10),
        (50076, 10),
        (50173, 10),
        (700082, 10),
        (50133, 5),
        (65001, 5),
        (53003, 3),
        (50058, 5),
        (90025, 2),
    ]
)
SP_CODES = weighted_table([(0, 965), (7000215, 15), (7000222, 10), (700027, 5), (7000112, 5)])
RISK_TYPES = ("unfamiliarFeatures", "anonymizedIPAddress", "suspiciousBrowser")

FAILURE_CAP = 8
VICTIM_FAILURE_CAP = 2
MFA_DENIAL_CAP = 2
UNKNOWN_USER_CAP = 10  # 50034 per day in the whole tenant (they share an empty userId)


@dataclass(slots=True)
class Item:
    """A record waiting for its body: ``proc`` is when Azure publishes it."""

    proc: int
    ev: int
    category: str
    rec: dict[str, Any]
    late: bool = False


class Builders:
    def __init__(self, ctx: Ctx) -> None:
        self.signins = SignInBuilder(ctx)
        self.audit = AuditBuilder(ctx)
        self.provisioning = ProvisioningBuilder(ctx)
        self.risk = RiskBuilder(ctx)
        self.activity = ActivityBuilder(ctx)
        self.other = OtherBuilder(ctx)


class Traffic:
    """Makes background records, one category draw at a time."""

    def __init__(self, ctx: Ctx, builders: Builders, end: int) -> None:
        self.ctx = ctx
        self.b = builders
        self.end = end
        pop = ctx.pop
        self.user_table = weighted_table(
            [(u, u.weight) for u in pop.users], size=max(10_000, 8 * len(pop.users))
        )
        self.failures: Counter[tuple[int, int]] = Counter()
        self.denials: Counter[tuple[int, int]] = Counter()
        self.unknown_users: Counter[int] = Counter()
        self.sessions: dict[tuple[int, int], str] = {}

    def _delay(self, lo_s: int, hi_s: int) -> int:
        return (lo_s + int(self.ctx.rng.random() * (hi_s - lo_s))) * SECOND

    def _late(self, ev: int, lo: int, hi: int) -> int | None:
        """A publication ``lo``..``hi`` ticks after ``ev`` that still falls inside the run."""
        room = self.end - ev
        if room < lo + 5 * MINUTE:
            return None
        return ev + lo + int(self.ctx.rng.random() * (min(hi, room - 5 * MINUTE) - lo))

    def make(self, category: str, ev: int, room: int) -> list[Item]:
        """Records for one draw of ``category`` at event time ``ev``; at most ``room`` of them."""
        if category in USER_SIGNIN_CATEGORIES:
            return self.user_signin(category, ev, room)
        rng, b = self.ctx.rng, self.b
        pop = self.ctx.pop
        if category in WORKLOAD_SIGNIN_CATEGORIES:
            if category == "ServicePrincipalSignInLogs":
                sp = rng.pick(pop.service_principals)
            elif category == "ManagedIdentitySignInLogs":
                sp = rng.pick(pop.managed_identities)
            else:
                sp = rng.pick(pop.microsoft_sps)
            code = rng.pick(SP_CODES) if category == "ServicePrincipalSignInLogs" else 0
            ip = None
            if rng.random() < 0.02:
                ip = self.ctx.q.odd_ip(None)
            proc = ev + self._delay(60, 400)
            rec = b.signins.sp_signin(
                ev=ev, proc=proc, sp=sp, category=category, code=code, app=rng.pick(pop.apps), ip=ip
            )
            if category == "ServicePrincipalSignInLogs" and rng.random() < 0.03:
                rec = b.signins.pascal_case(rec, ev)
            return [Item(proc, ev, category, rec)]
        if category == "AuditLogs":
            proc = ev + self._delay(30, 300)
            late = False
            if rng.random() < 0.003:
                later = self._late(ev, HOUR, 3 * HOUR)
                if later is not None:
                    proc, late = later, True
            return [Item(proc, ev, category, b.audit.record(ev, proc), late)]
        if category == "ProvisioningLogs":
            proc = ev + self._delay(120, 2400)
            return [Item(proc, ev, category, b.provisioning.record(ev, proc))]
        if category == "RiskyUsers":
            proc = ev + self._delay(60, 600)
            return [Item(proc, ev, category, b.risk.risky_user(ev, proc, rng.pick(pop.users)))]
        if category == "UserRiskEvents":
            return [self.user_risk_event(ev)]
        if category == "RiskyServicePrincipals":
            proc = ev + self._delay(60, 600)
            rec = b.risk.risky_service_principal(ev, proc, rng.pick(pop.service_principals))
            return [Item(proc, ev, category, rec)]
        if category == "ServicePrincipalRiskEvents":
            detected = self._late(ev, 2 * HOUR, 30 * HOUR)
            late = detected is not None
            detected = detected if detected is not None else ev + self._delay(60, 600)
            proc = detected + self._delay(60, 600)
            sp = rng.pick(pop.service_principals)
            rec = b.risk.sp_risk_event(ev, detected, proc, sp, pop.azure_ip(rng))
            return [Item(proc, ev, category, rec, late)]
        if category == "MicrosoftGraphActivityLogs":
            return [Item(ev + self._delay(60, 600), ev, category, b.other.graph(ev))]
        if category == "NetworkAccessTrafficLogs":
            return [Item(ev + self._delay(60, 300), ev, category, b.other.network_access(ev))]
        return [Item(ev + self._delay(30, 300), ev, category, b.activity.record(ev, category))]

    def user_risk_event(self, ev: int) -> Item:
        rng, b, q = self.ctx.rng, self.b, self.ctx.q
        user = rng.pick(self.user_table)
        if not user.risk_prone:
            user = rng.pick(self.ctx.pop.risk_prone_users)
        r = rng.random()
        timing = "realtime" if r < 0.4 else ("nearRealtime" if r < 0.7 else "offline")
        late = False
        if timing == "offline":
            detected = self._late(ev, 2 * HOUR, 40 * HOUR)
            if detected is None:
                timing, detected = "nearRealtime", ev + self._delay(300, 1800)
            else:
                late = True
        else:
            detected = ev + self._delay(5, 300 if timing == "realtime" else 1800)
        proc = detected + self._delay(60, 600)
        ip = user.ip if rng.random() < 0.85 else q.odd_ip(user)
        rec = b.risk.user_risk_event(ev, detected, proc, user, timing, ip)
        return Item(proc, ev, "UserRiskEvents", rec, late)

    def _session(self, user: User, ev: int) -> str:
        """A user's interactive sign-ins of one UTC day share a session (from any of the user's
        addresses: one country), the look-alike of a session used from two countries."""
        key = (user.index, ev // DAY)
        if key not in self.sessions:
            if len(self.sessions) > 50_000:
                self.sessions.clear()
            self.sessions[key] = self.ctx.rng.guid()
        return self.sessions[key]

    def _user(self, ev: int) -> User | None:
        rng = self.ctx.rng
        for _ in range(20):
            user = rng.pick(self.user_table)
            if not user.blackouts or not user.blocked(ev):
                return user
        return None

    def _code(self, user: User, category: str, ev: int) -> int:
        rng = self.ctx.rng
        table = (
            INTERACTIVE_CODES
            if category != "NonInteractiveUserSignInLogs"
            else (NON_INTERACTIVE_CODES)
        )
        code = rng.pick(table)
        if not code:
            return 0
        day = ev // DAY
        key = (user.index, day)
        if self.failures[key] >= user.failure_cap:
            return 0
        if code == 500121:
            if self.denials[key] >= MFA_DENIAL_CAP:
                return 0
            self.denials[key] += 1
        if code == 50034:
            if self.unknown_users[day] >= UNKNOWN_USER_CAP:
                return 0
            self.unknown_users[day] += 1
        self.failures[key] += 1
        return code

    def user_signin(self, category: str, ev: int, room: int) -> list[Item]:
        ctx, rng, q, sb = self.ctx, self.ctx.rng, self.ctx.q, self.b.signins
        pop = ctx.pop
        user = self._user(ev)
        if user is None:  # everyone drawn was in a blackout: make it a workload sign-in instead
            return self.make("ServicePrincipalSignInLogs", ev, room)
        interactive = category != "NonInteractiveUserSignInLogs"
        code = self._code(user, category, ev)
        city = user.city_at(ev)
        if interactive:
            client = "Browser" if rng.random() < 0.7 else "Mobile Apps and Desktop clients"
            if code == 53003 and category == "SignInLogs" and rng.random() < 0.5:
                client = rng.pick(LEGACY_CLIENTS)  # legacy only ever as a blocked failure
        else:
            client = "Mobile Apps and Desktop clients" if rng.random() < 0.9 else "Browser"
        mfa = interactive and code == 0 and rng.random() < (0.95 if user.privileged else 0.55)
        r = rng.random()
        if code == 0 and r < 0.025:
            ip = q.odd_ip(user)
        elif r < 0.12:
            ip = user.ipv6
            q.seen["ip:ipv6"] += 1
        elif r < 0.4:
            ip = user.mobile_ip
        else:
            ip = user.ip
        upn = user_id = None
        if code == 50034:  # someone mistyped the name: no such account
            upn, user_id = user.upn.replace("@", "x@", 1), ""
        elif rng.random() < 0.005:
            upn = user.user_id
            q.seen["guid_upn"] += 1
        device = None
        if user.user_type == "Guest" and rng.random() < 0.4:
            device = sb.pii_device()
            q.seen["pii_removed_device"] += 1
        sp_id = ""
        if interactive and rng.random() < 0.03:
            sp_id = q.zero_sp()
        resource_tenant = None
        if user.user_type == "Member" and rng.random() < 0.01:
            resource_tenant = rng.pick(pop.partner_tenants)
        proc = ev + self._delay(60, 420)
        late = False
        if code == 0 and rng.random() < 0.004:
            later = self._late(ev, HOUR, 2 * HOUR)
            if later is not None:
                proc, late = later, True
        details = None
        if code == 500121:
            details = rng.pick(
                (
                    "MFA denied; user declined the authentication",
                    "MFA denied; user did not respond to mobile app notification",
                )
            )
        rec = sb.user_signin(
            ev=ev,
            proc=proc,
            user=user,
            category=category,
            code=code,
            city=city,
            ip=ip,
            app=rng.pick(pop.app_table),
            client_app=client,
            mfa=mfa,
            details=details,
            upn=upn,
            device=device,
            service_principal_id=sp_id,
            resource_tenant=resource_tenant,
            user_id=user_id,
            session_id=self._session(user, ev) if interactive else None,
            protocol="deviceCode" if user.device_code and interactive else None,
        )
        items = [Item(proc, ev, category, rec, late)]
        if code == 0 and interactive and rng.random() < 0.02 and user.risk_prone:
            props = rec["properties"]
            level = "low" if rng.random() < 0.7 else "medium"
            props["riskLevelDuringSignIn"] = props["riskLevelAggregated"] = level
            props["riskState"] = "atRisk"
            props["riskEventTypes"] = props["riskEventTypes_v2"] = [rng.pick(RISK_TYPES)]
        if room >= 2 and code == 0:
            r = rng.random()
            if r < 0.005 and user.risk_prone:
                q.seen["risk_copy"] += 1
                proc2 = proc + self._delay(120, 1800)
                level = "high" if rng.random() < 0.3 else "medium"
                copy = sb.risk_copy(rec, proc2, level, [rng.pick(RISK_TYPES)])
                items.append(Item(proc2, ev, category, copy))
            elif r < 0.025 and interactive:
                q.seen["split_ca"] += 1
                first, second = sb.split_ca(rec, proc + SECOND)
                items = [
                    Item(proc, ev, category, first, late),
                    Item(proc + SECOND, ev, category, second, late),
                ]
        return items
