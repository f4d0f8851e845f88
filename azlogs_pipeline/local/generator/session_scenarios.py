"""Injected token and session abuse (sign-ins), placed through the ``Planner``.

Their look-alikes are in the background (``traffic``): a user's interactive sign-ins of a UTC day
share one session across the user's addresses (all in one country), a few admins sign in with the
device-code flow every time (their first sign-in of the run is one), users fail on their own
disabled account from their own address only.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from azlogs_pipeline.vocabulary import SESSION_DETECTION_KINDS

from .geo import ATTACKER_COUNTRIES, BY_CODE
from .times import HOUR, MINUTE

if TYPE_CHECKING:
    from .scenarios import Planner, Scenario

SESSION_KINDS = SESSION_DETECTION_KINDS
"""One injected scenario per detection of `session_detections`."""
SESSION_RULES = {
    "session_from_multiple_countries": "one session id used from IPs in 2+ countries within 24 h",
    "device_code_signin": "a device-code sign-in of a user with none in the previous 14 days",
    "disabled_account_probing": "an IP tries disabled accounts (50057) and signs in as another "
    "user within 60 minutes",
    "success_after_attack": "a success for the user of a distributed_brute_force finding within "
    "24 h after it",
}
SESSION_COST = {
    "session_from_multiple_countries": 2,
    "device_code_signin": 2,
    "disabled_account_probing": 4,
    "success_after_attack": 1,
}
ATTACK_QUIET_HOURS = 24
"""A brute-force victim signs in only once (the injected success) this long after the attack."""


def session_from_multiple_countries(planner: Planner) -> Scenario | str:
    """A session's token replayed from abroad: blocked by Conditional Access (so no success abroad
    and no new-country or travel finding), same session id."""
    from .scenarios import Scenario

    span = min(90 * MINUTE, (planner.end - planner.start) // 4)
    t0 = planner.slot(span)
    if t0 is None:
        return "run too short"
    user = planner.victim()
    if user is None:
        return "no user available"
    rng = planner.ctx.rng
    session = rng.guid()
    home = planner.signin(t0, user, 0, user.city, user.ip, mfa=True, session_id=session)
    country = rng.pick(ATTACKER_COUNTRIES)
    t1 = t0 + span // 3 + int(rng.random() * (span * 2 // 3))
    replay = planner.signin(
        t1,
        user,
        53003,
        BY_CODE[country].cities[0],
        planner.attacker_ip(country),
        session_id=session,
        category="NonInteractiveUserSignInLogs",
    )
    user.blackouts.append((t0 - HOUR, t1 + HOUR))
    return Scenario(
        "session_from_multiple_countries",
        session,
        "session",
        t0,
        t1,
        planner.ids([home, replay]),
        [home, replay],
        {"user": user.upn, "countries": [user.country.code, country]},
    )


def device_code_signin(planner: Planner) -> Scenario | str:
    """A user who never used the device-code flow completes one (device-code phishing)."""
    from .scenarios import Scenario

    span = 30 * MINUTE
    t0 = planner.slot(span)
    if t0 is None:
        return "run too short"
    user = planner.victim(lambda u: not u.device_code)
    if user is None:
        return "no user available"
    anchor = planner.signin(t0, user, 0, user.city, user.ip, mfa=True)
    t1 = t0 + span
    phished = planner.signin(
        t1, user, 0, user.city, planner.ctx.pop.ips.take(user.country), protocol="deviceCode"
    )
    return Scenario(
        "device_code_signin",
        user.upn,
        "user",
        t1,
        t1,
        planner.ids([phished]),
        [anchor, phished],
        {"user_id": user.user_id},
        planner.ids([anchor]),
    )


def disabled_account_probing(planner: Planner) -> Scenario | str:
    """From one address in the victim's city: tries on a disabled account, then a success as the
    victim (a compromised account)."""
    from .scenarios import Scenario

    span = 20 * MINUTE
    t0 = planner.slot(span)
    if t0 is None:
        return "run too short"
    victim = planner.victim()
    disabled = planner.victim()
    if victim is None or disabled is None:
        return "no users available"
    ip = planner.ctx.pop.ips.take(victim.country)
    tries = [
        planner.signin(t0 + i * 3 * MINUTE, disabled, 50057, victim.city, ip) for i in range(3)
    ]
    success = planner.signin(t0 + span, victim, 0, victim.city, ip, mfa=True)
    items = [*tries, success]
    return Scenario(
        "disabled_account_probing",
        ip,
        "ip",
        t0,
        t0 + span,
        planner.ids(items),
        items,
        {"disabled": disabled.upn, "signed_in_as": victim.upn},
    )


def success_after_attack(planner: Planner) -> Scenario | str:
    """The brute-force victim signs in successfully soon after the attack (from an address in the
    victim's own city: a residential proxy), then stays quiet."""
    from .scenarios import Scenario

    brute = [s for s in planner.done if s.kind == "distributed_brute_force"]
    if not brute:
        return "no distributed_brute_force scenario to follow"
    attack = brute[-1]
    user = next(u for u in planner.ctx.pop.members if u.upn == attack.entity)
    # the attack ends at least 10 minutes before the run does (``Planner.slot``)
    t = attack.end + 2 * MINUTE + int(planner.ctx.rng.random() * 6 * MINUTE)
    if t >= planner.end:
        return "run ends too soon after the brute force"
    success = planner.signin(
        t, user, 0, user.city, planner.ctx.pop.ips.take(user.country), mfa=True
    )
    user.blackouts.append((attack.start, attack.end + ATTACK_QUIET_HOURS * HOUR))
    return Scenario(
        "success_after_attack",
        user.upn,
        "user",
        t,
        t,
        planner.ids([success]),
        [success],
        {"user_id": user.user_id, "attack": "distributed_brute_force"},
    )


SESSION_SCENARIOS = {
    "session_from_multiple_countries": session_from_multiple_countries,
    "device_code_signin": device_code_signin,
    "disabled_account_probing": disabled_account_probing,
    "success_after_attack": success_after_attack,
}
