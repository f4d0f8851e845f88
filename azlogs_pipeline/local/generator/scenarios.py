"""Injected attack scenarios and their ground truth.

Each scenario crosses one detection threshold on purpose (see ``RULES``); background traffic is
built to stay clear of all of them (see ``traffic``). Victims get sign-in blackouts around the
scenario where needed so that no background sign-in forms an extra suspicious pair, and a lower
background failure cap so that scenarios do not add up into another detection.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from azlogs_pipeline.vocabulary import SIGNIN_DETECTION_KINDS

from .context import Ctx
from .directory_scenarios import (
    DIRECTORY_COST,
    DIRECTORY_KINDS,
    DIRECTORY_RULES,
    DIRECTORY_SCENARIOS,
)
from .feed_scenarios import FEED_COST, FEED_KINDS, FEED_RULES, FEED_SCENARIOS
from .geo import (
    ATTACKER_BLOCKS,
    ATTACKER_COUNTRIES,
    BY_CODE,
    COUNTRIES,
    City,
    block_address,
    distance_km,
)
from .population import App, User
from .session_scenarios import SESSION_COST, SESSION_KINDS, SESSION_RULES, SESSION_SCENARIOS
from .times import DAY, HOUR, MINUTE, SECOND
from .traffic import VICTIM_FAILURE_CAP, Builders, Item

SIGNIN_SCENARIO_KINDS = SIGNIN_DETECTION_KINDS
"""One injected scenario per detection of `signin_detections`."""
IMPOSSIBLE_SPEED_KMH = 1000.0  # threshold assumed for "impossible travel"
BACKGROUND_MAX_SPEED_KMH = 250.0  # no background pair of successes moves faster than this
RULES = {
    "password_spray": "one IP fails (50126/50053/50055) for >= 5 distinct users within 20 minutes",
    "distributed_brute_force": "one user has >= 30 failed sign-ins from >= 3 distinct locations "
    "(IP and country) within one UTC day",
    "new_country": "successful sign-in from a country not seen in that user's successful "
    "sign-ins of the previous 14 days (the user has earlier successes)",
    "impossible_travel": f"two consecutive successful sign-ins of one user whose great-circle "
    f"distance over elapsed time exceeds {IMPOSSIBLE_SPEED_KMH:.0f} km/h",
    "mfa_fatigue": ">= 10 MFA denials (500121) of one user followed by a success within minutes",
    "legacy_auth_success": "successful sign-in with a legacy client (IMAP4, POP3, Authenticated "
    "SMTP, ...)",
}
SCENARIO_KINDS = SIGNIN_SCENARIO_KINDS + DIRECTORY_KINDS + SESSION_KINDS + FEED_KINDS
RULES.update(DIRECTORY_RULES)
RULES.update(SESSION_RULES)
RULES.update(FEED_RULES)
BUILT_ELSEWHERE = {**DIRECTORY_SCENARIOS, **SESSION_SCENARIOS, **FEED_SCENARIOS}
LEGACY_SUCCESS_CLIENTS = ("IMAP4", "POP3", "Authenticated SMTP")
EXCHANGE = App(
    "00000002-0000-0ff1-ce00-000000000000",
    "Office 365 Exchange Online",
    "Office 365 Exchange Online",
    "00000002-0000-0ff1-ce00-000000000000",
    "5c1b6c7d-4f4b-4d5e-9a1c-2b0e6f7a8b9c",
)
MIN_RECORDS = 500
RECORD_COST = {
    "password_spray": 20,
    "distributed_brute_force": 45,
    "new_country": 2,
    "impossible_travel": 3,
    "mfa_fatigue": 16,
    "legacy_auth_success": 3,
    **DIRECTORY_COST,
    **SESSION_COST,
    **FEED_COST,
}


@dataclass
class Scenario:
    kind: str
    entity: str
    entity_type: str
    start: int
    end: int
    signin_ids: list[str]
    items: list[Item]
    details: dict[str, Any] = field(default_factory=dict)
    context_ids: list[str] = field(default_factory=list)
    record_ids: list[str] = field(default_factory=list)
    """Ids of the non-sign-in records (audit ids) that should raise the finding."""


class Planner:
    """Places scenarios in the run and builds their records."""

    def __init__(self, ctx: Ctx, builders: Builders, start: int, end: int) -> None:
        self.ctx = ctx
        self.sb = builders.signins
        self.risk = builders.risk
        self.audit = builders.audit
        self.activity = builders.activity
        self.start = start
        self.end = end
        self.used: set[int] = set()
        self.done: list[Scenario] = []
        """Scenarios placed so far (a scenario may follow another)."""
        self.attacker_next: dict[str, int] = {}

    # -- helpers ------------------------------------------------------------------------------
    def attacker_ip(self, country: str) -> str:
        k = self.attacker_next.get(country, 0)
        self.attacker_next[country] = k + 1
        return block_address(ATTACKER_BLOCKS[country], 7 + k * 37)

    def slot(self, span: int, same_day: bool = False) -> int | None:
        """A start time so that ``[t, t + span]`` lies inside the run (and in one UTC day)."""
        margin = min(10 * MINUTE, (self.end - self.start) // 20)
        lo, hi = self.start + margin, self.end - margin - span
        if hi <= lo:
            return None
        rng = self.ctx.rng
        for _ in range(50):
            t = lo + int(rng.random() * (hi - lo))
            if not same_day or t // DAY == (t + span) // DAY:
                return t
        return None

    def victim(self, predicate: Callable[[User], bool] | None = None) -> User | None:
        rng = self.ctx.rng
        candidates = [
            u
            for u in self.ctx.pop.members
            if u.index not in self.used
            and u.second_city is None
            and (predicate is None or predicate(u))
        ]
        if not candidates:
            return None
        user = rng.pick(candidates)
        self.used.add(user.index)
        user.failure_cap = VICTIM_FAILURE_CAP
        return user

    def signin(
        self,
        ev: int,
        user: User,
        code: int,
        city: City,
        ip: str,
        *,
        client: str = "Browser",
        mfa: bool = False,
        details: str | None = None,
        app: App | None = None,
        category: str = "SignInLogs",
        session_id: str | None = None,
        protocol: str | None = None,
    ) -> Item:
        rng = self.ctx.rng
        proc = ev + (60 + int(rng.random() * 300)) * SECOND
        rec = self.sb.user_signin(
            ev=ev,
            proc=proc,
            user=user,
            category=category,
            code=code,
            city=city,
            ip=ip,
            app=app or EXCHANGE,
            client_app=client,
            mfa=mfa,
            details=details,
            session_id=session_id,
            protocol=protocol,
        )
        return Item(proc, ev, category, rec)

    @staticmethod
    def ids(items: list[Item]) -> list[str]:
        return [it.rec["properties"]["id"] for it in items if it.category != "UserRiskEvents"]

    def user_scenario(
        self,
        kind: str,
        user: User,
        window: tuple[int, int],
        items: list[Item],
        details: dict[str, Any],
        raised_by: list[Item] | None = None,
        context: list[Item] | None = None,
    ) -> Scenario:
        """A scenario against `user` over `window` (start, end): the sign-ins that raise it are
        `raised_by`'s (all of `items` by default), its details start with the user's id."""
        return Scenario(
            kind,
            user.upn,
            "user",
            *window,
            self.ids(items if raised_by is None else raised_by),
            items,
            {"user_id": user.user_id, **details},
            self.ids(context or []),
        )

    # -- scenarios ----------------------------------------------------------------------------
    def password_spray(self) -> Scenario | str:
        rng = self.ctx.rng
        span = 15 * MINUTE
        t0 = self.slot(span)
        if t0 is None:
            return "run shorter than the 15 minute spray window plus margins"
        free = [u for u in self.ctx.pop.members if u.index not in self.used]
        if len(free) < 6:
            return "fewer than 6 users available as spray targets"
        count = min(len(free) - 1, 8 + int(rng.random() * 10))
        targets = []
        for _ in range(count):
            u = rng.pick(free)
            free.remove(u)
            self.used.add(u.index)
            targets.append(u)
        country = rng.pick(ATTACKER_COUNTRIES)
        ip = self.attacker_ip(country)
        city = BY_CODE[country].cities[0]
        times = sorted(t0 + int(rng.random() * span) for _ in targets)
        items = [
            self.signin(
                t,
                u,
                50126 if rng.random() < 0.8 else 50053,
                city,
                ip,
                client=rng.pick(("Browser", "Other clients")),
            )
            for t, u in zip(times, targets, strict=True)
        ]
        return Scenario(
            "password_spray",
            ip,
            "ip",
            times[0],
            times[-1],
            self.ids(items),
            items,
            {"country": country, "users": [u.upn for u in targets], "distinct_users": len(targets)},
        )

    def distributed_brute_force(self) -> Scenario | str:
        rng = self.ctx.rng
        span = min(3 * HOUR, int((self.end - self.start) * 0.6))
        t0 = self.slot(span, same_day=True)
        if t0 is None:
            return "run too short for a brute force within one UTC day"
        user = self.victim()
        if user is None:
            return "no user available as a victim"
        countries = list(ATTACKER_COUNTRIES)
        rng.shuffle(countries)
        sources = [(c, self.attacker_ip(c)) for c in countries[: 3 + int(rng.random() * 3)]]
        n = 32 + int(rng.random() * 12)
        times = sorted(t0 + int(rng.random() * span) for _ in range(n))
        items = []
        for i, t in enumerate(times):
            country, ip = sources[i % len(sources)] if i < len(sources) else rng.pick(sources)
            items.append(
                self.signin(
                    t, user, 50126 if rng.random() < 0.85 else 50053, BY_CODE[country].cities[0], ip
                )
            )
        return self.user_scenario(
            "distributed_brute_force",
            user,
            (times[0], times[-1]),
            items,
            {
                "failures": n,
                "locations": [{"country": c, "ip": ip} for c, ip in sources],
            },
        )

    def new_country(self) -> Scenario | str:
        rng = self.ctx.rng

        def nearest_abroad(u: User) -> tuple[City, float] | None:
            best: tuple[City, float] | None = None
            for country in COUNTRIES:
                if country.code == u.country.code:
                    continue
                for c in country.cities:
                    d = distance_km(u.city, c)
                    if d <= 1500 and (best is None or d < best[1]):
                        best = (c, d)
            return best

        usable_km = ((self.end - self.start) * 0.8 - 20 * MINUTE) / HOUR * BACKGROUND_MAX_SPEED_KMH
        nearest: dict[int, tuple[City, float] | None] = {}

        def fits(u: User) -> bool:
            if id(u.city) not in nearest:
                nearest[id(u.city)] = nearest_abroad(u)
            found = nearest[id(u.city)]
            return found is not None and found[1] <= usable_km

        user = self.victim(fits)
        if user is None:
            return (
                "no user whose home city has a foreign city near enough to keep "
                "background travel under 250 km/h within the run"
            )
        city, km = nearest_abroad(user) or (user.city, 0.0)
        gap = int(km / BACKGROUND_MAX_SPEED_KMH * HOUR) + 10 * MINUTE
        ta = self.slot(gap)
        if ta is None:
            self.used.discard(user.index)
            return "run too short to separate the home sign-in from the new-country sign-in"
        tn = ta + gap
        anchor = self.signin(
            ta, user, 0, user.city, user.ip, mfa=True, app=rng.pick(self.ctx.pop.apps[:4])
        )
        new = self.signin(
            tn,
            user,
            0,
            city,
            self.ctx.pop.ips.take(BY_CODE[city.country]),
            mfa=True,
            app=rng.pick(self.ctx.pop.apps[:4]),
        )
        user.blackouts.append((ta + SECOND, tn + gap))
        return self.user_scenario(
            "new_country",
            user,
            (tn, tn),
            [anchor, new],
            {
                "home_country": user.country.code,
                "new_country": city.country,
                "city": city.name,
                "distance_km": round(km, 1),
            },
            raised_by=[new],
            context=[anchor],
        )

    def impossible_travel(self) -> Scenario | str:
        rng = self.ctx.rng

        farthest: dict[int, tuple[City, float] | None] = {}

        def far_city(u: User) -> tuple[City, float] | None:
            if id(u.city) not in farthest:
                best = max(
                    ((c, distance_km(u.city, c)) for c in u.country.cities), key=lambda x: x[1]
                )
                farthest[id(u.city)] = best if best[1] >= 1500 else None
            return farthest[id(u.city)]

        user = self.victim(lambda u: far_city(u) is not None)
        if user is None:
            return "no user whose home country has two cities 1500 km apart"
        self.ctx.pop.mark_risky(user)  # an unlikelyTravel detection follows
        city, km = far_city(user) or (user.city, 0.0)
        longest = min(40 * MINUTE, (self.end - self.start) // 3, int(km / 2500 * HOUR))
        dt = int(longest * (0.5 + rng.random() * 0.5))
        t1 = self.slot(dt)
        if t1 is None:
            self.used.discard(user.index)
            return "run too short for two sign-ins"
        t2 = t1 + dt
        slow = int(km / BACKGROUND_MAX_SPEED_KMH * HOUR) + 10 * MINUTE
        first = self.signin(
            t1, user, 0, user.city, user.ip, mfa=True, app=rng.pick(self.ctx.pop.apps[:4])
        )
        second = self.signin(
            t2,
            user,
            0,
            city,
            self.ctx.pop.ips.take(user.country),
            mfa=True,
            app=rng.pick(self.ctx.pop.apps[:4]),
        )
        user.blackouts.append((t1 - slow, t2 + slow))
        items = [first, second]
        detected = t2 + min(3 * HOUR, self.end - t2 - 15 * MINUTE)
        if detected - t2 >= 30 * MINUTE:
            sid = second.rec["properties"]["id"]
            proc = detected + 5 * MINUTE
            rec = self.risk.user_risk_event(
                t2,
                detected,
                proc,
                user,
                "offline",
                second.rec["properties"]["ipAddress"],
                event_type="unlikelyTravel",
                level="medium",
                request_id=sid,
            )
            items.append(Item(proc, t2, "UserRiskEvents", rec, proc - t2 >= HOUR))
        speed = km / (dt / HOUR)
        return self.user_scenario(
            "impossible_travel",
            user,
            (t1, t2),
            items,
            {
                "from_city": user.city.name,
                "to_city": city.name,
                "distance_km": round(km, 1),
                "minutes": round(dt / MINUTE, 2),
                "speed_kmh": round(speed, 1),
                "threshold_kmh": IMPOSSIBLE_SPEED_KMH,
                "risk_event_ids": [it.rec["properties"]["id"] for it in items[2:]],
            },
        )

    def mfa_fatigue(self) -> Scenario | str:
        rng = self.ctx.rng
        n = 10 + int(rng.random() * 6)
        span = 25 * MINUTE
        t0 = self.slot(span)
        if t0 is None:
            return "run too short for a 25 minute MFA fatigue burst"
        user = self.victim()
        if user is None:
            return "no user available as a victim"
        ip = self.ctx.pop.ips.take(user.country)
        items, t = [], t0
        for i in range(n):
            t += (20 + int(rng.random() * 50)) * SECOND
            detail = (
                "MFA denied; user did not respond to mobile app notification"
                if i % 3
                else "MFA denied; user declined the authentication"
            )
            items.append(
                self.signin(
                    t, user, 500121, user.city, ip, details=detail, app=self.ctx.pop.apps[0]
                )
            )
        t += (60 + int(rng.random() * 180)) * SECOND
        items.append(self.signin(t, user, 0, user.city, ip, mfa=True, app=self.ctx.pop.apps[0]))
        return self.user_scenario(
            "mfa_fatigue", user, (items[0].ev, t), items, {"denials": n, "ip": ip}
        )

    def legacy_auth_success(self) -> Scenario | str:
        rng = self.ctx.rng
        span = 20 * MINUTE
        t0 = self.slot(span)
        if t0 is None:
            return "run too short"
        user = self.victim()
        if user is None:
            return "no user available as a victim"
        ip = self.ctx.pop.ips.take(user.country)
        n = 1 + int(rng.random() * 3)
        times = sorted(t0 + int(rng.random() * span) for _ in range(n))
        items = [
            self.signin(t, user, 0, user.city, ip, client=rng.pick(LEGACY_SUCCESS_CLIENTS))
            for t in times
        ]
        return self.user_scenario(
            "legacy_auth_success",
            user,
            (times[0], times[-1]),
            items,
            {
                "ip": ip,
                "clients": [it.rec["properties"]["clientAppUsed"] for it in items],
            },
        )

    def plan(self, records: int) -> tuple[list[Scenario], list[dict[str, str]]]:
        """All scenarios that fit: one of each kind (more for large runs), within 10% of the
        record budget."""
        instances = max(1, min(5, 1 + records // 250_000))
        budget = records // 10
        done: list[Scenario] = []
        skipped: list[dict[str, str]] = []
        if records < MIN_RECORDS:
            reason = f"records={records} below {MIN_RECORDS}: scenarios would dominate the run"
            return [], [{"kind": kind, "reason": reason} for kind in SCENARIO_KINDS]
        for i in range(instances):
            for kind in SCENARIO_KINDS:
                if RECORD_COST[kind] > budget:
                    if i == 0:
                        skipped.append(
                            {
                                "kind": kind,
                                "reason": f"records={records} too few "
                                f"to hold it (needs about {RECORD_COST[kind] * 10})",
                            }
                        )
                    continue
                result = (
                    BUILT_ELSEWHERE[kind](self)
                    if kind in BUILT_ELSEWHERE
                    else getattr(self, kind)()
                )
                if isinstance(result, str):
                    if i == 0:
                        skipped.append({"kind": kind, "reason": result})
                    continue
                budget -= len(result.items)
                done.append(result)
                self.done.append(result)
        return done, skipped
