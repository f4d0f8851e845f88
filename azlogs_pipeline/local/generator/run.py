"""One generator run: options, the body stream, and ground truth.

The run walks the requested hours in five-minute event windows, makes that window's background
records (plus any scenario records), and publishes each record in the window of its publication
time (``proc``), which trails the event by minutes, or by hours for late records. A publication
window is complete once the event window with the same index is done, so bodies stream out with
bounded memory.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from .bodies import Body, Packer
from .context import Ctx
from .geo import distance_km
from .malformed import DEFECT_KINDS, VALID_JSON_DEFECTS, make_malformed
from .population import Population
from .quirks import QUIRK_KINDS, Quirks
from .rand import Rng
from .scenarios import (
    BACKGROUND_MAX_SPEED_KMH,
    IMPOSSIBLE_SPEED_KMH,
    RULES,
    Planner,
    Scenario,
)
from .times import HOUR, MINUTE, Clock, to_ticks
from .traffic import CATEGORY_WEIGHTS, NIGHT_HOURS, NIGHT_ONLY_GAPS, Builders, Item, Traffic

WINDOW = 5 * MINUTE
DEVICE_CODE_USERS = 2
GENERATOR_VERSION = 1
MIN_BODY_BYTES = 65_536
MAX_BODY_BYTES = 1_048_576


@dataclass(frozen=True)
class GeneratorOptions:
    """What to generate. ``records`` counts distinct records (re-sent duplicate bodies come on
    top); ``malformed_rate`` is the fraction of all bodies that are malformed."""

    records: int = 10_000
    hours: float = 24
    seed: int = 0
    start: datetime | None = None
    malformed_rate: float = 0.0
    max_body_bytes: int = 1_000_000
    duplicate_rate: float = 0.005
    silent_category: str | None = None
    """A category that stops for the last ``silent_hours`` of the run (a feed going silent: the
    category_went_silent scenario); None: every category keeps arriving."""
    silent_hours: float = 0.0

    def __post_init__(self) -> None:
        if self.records < 1:
            raise ValueError("records must be at least 1")
        if not self.hours > 0:
            raise ValueError("hours must be positive")
        if not 0.0 <= self.malformed_rate < 1.0:
            raise ValueError("malformed_rate must be in [0, 1)")
        if not 0.0 <= self.duplicate_rate < 1.0:
            raise ValueError("duplicate_rate must be in [0, 1)")
        if not MIN_BODY_BYTES <= self.max_body_bytes <= MAX_BODY_BYTES:
            raise ValueError(f"max_body_bytes must be in [{MIN_BODY_BYTES}, {MAX_BODY_BYTES}]")
        if self.silent_category is not None:
            if self.silent_category not in CATEGORY_WEIGHTS:
                raise ValueError(f"silent_category must be one of {sorted(CATEGORY_WEIGHTS)}")
            if not 0 < self.silent_hours < self.hours:
                raise ValueError("silent_hours must be positive and shorter than the run")
        if self.start is not None and self.start.tzinfo is None:
            raise ValueError("start must be timezone-aware (UTC)")

    def resolved_start(self) -> datetime:
        """``start``, or the current hour (floored) minus ``hours``."""
        if self.start is not None:
            return self.start.astimezone(UTC)
        now = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
        return now - timedelta(hours=self.hours)


@dataclass
class Generated:
    bodies: list[bytes]
    records: list[dict[str, Any]]
    ground_truth: dict[str, Any]
    body_records: list[int] = field(default_factory=list)  # records per body (0 if malformed)


def source_id(rec: dict[str, Any]) -> str | None:
    """The identifier a record is known by (sign-in / audit / risk ``id``, else correlation)."""
    props = rec.get("properties")
    if isinstance(props, dict):
        rid = props.get("id") or props.get("requestId")
        if isinstance(rid, str) and rid:
            return rid
    rid = rec.get("Id") or rec.get("correlationId")
    return rid if isinstance(rid, str) else None


def record_category(rec: dict[str, Any]) -> str:
    return str(rec.get("category") or rec.get("Category") or "")


class GeneratorStream:
    """Iterate to get ``Body`` objects; ``ground_truth`` is complete once iteration ends."""

    def __init__(self, opts: GeneratorOptions) -> None:
        self.opts = opts
        start_dt = opts.resolved_start()
        self.start = to_ticks(start_dt)
        self.end = self.start + int(opts.hours * HOUR)
        self.rng = rng = Rng(opts.seed)
        self.clock = Clock()
        n_users = max(30, min(20_000, opts.records // 80))
        pop = Population(rng, n_users)
        self.q = Quirks(rng, self.clock, pop.tenant_id)
        self.ctx = Ctx(rng, self.clock, self.q, pop)
        self.builders = Builders(self.ctx)
        # Material for malformed bodies is built with its own quirk counter (not counted).
        self._scrap = Builders(Ctx(rng, self.clock, Quirks(rng, self.clock, pop.tenant_id), pop))
        planner = Planner(self.ctx, self.builders, self.start, self.end)
        self.scenarios, self.skipped = planner.plan(opts.records)
        self.routine = self._device_code_users(planner)
        self._travellers(planner.used)
        self.traffic = Traffic(self.ctx, self.builders, self.end)
        self.packer = Packer(rng, self.q, opts.max_body_bytes)
        self._ground_truth: dict[str, Any] | None = None
        self._started = False

    def _device_code_users(self, planner: Planner) -> list[Item]:
        """A few admins always sign in with the device-code flow, starting with their first
        sign-in of the run (the look-alike of device-code phishing)."""
        chosen = [u for u in self.ctx.pop.admins if u.index not in planner.used][:DEVICE_CODE_USERS]
        items = []
        first = self.start + 2 * MINUTE
        for user in chosen:
            planner.used.add(user.index)
            user.device_code = True
            user.blackouts.append((self.start, first + MINUTE))
            items.append(
                planner.signin(first, user, 0, user.city, user.ip, mfa=True, protocol="deviceCode")
            )
        return items

    def _travellers(self, used: set[int]) -> None:
        """A few users move to another city of their country once, with a long enough gap."""
        rng = self.rng
        for user in self.ctx.pop.users:
            if user.index in used or len(user.country.cities) < 2 or rng.random() >= 0.03:
                continue
            other = rng.pick([c for c in user.country.cities if c is not user.city])
            gap = int(distance_km(user.city, other) / BACKGROUND_MAX_SPEED_KMH * HOUR) + 10 * MINUTE
            switch = self.start + int(rng.random() * (self.end - self.start))
            user.second_city, user.switch_at = other, switch
            user.blackouts.append((switch - gap // 2 - MINUTE, switch + gap // 2 + MINUTE))

    def _window_counts(self, total: int, windows: int) -> list[int]:
        weights = []
        for w in range(windows):
            ws = self.start + w * WINDOW
            we = min(self.end, ws + WINDOW)
            hour = ((ws + we) / 2 / HOUR) % 24
            weights.append(
                (we - ws) / WINDOW * (1 + 0.5 * math.cos(2 * math.pi * (hour - 15) / 24))
            )
        acc, out, prev = 0.0, [], 0
        s = sum(weights)
        for weight in weights:
            acc += weight
            cur = round(total * acc / s)
            out.append(cur - prev)
            prev = cur
        return out

    def _categories(self, total: int) -> list[str]:
        counts = {c: int(w * total) for c, w in CATEGORY_WEIGHTS.items()}
        if total >= 1000:
            for c in counts:
                counts[c] = max(counts[c], 3)
        biggest = max(counts, key=lambda c: counts[c])
        counts[biggest] += total - sum(counts.values())
        cats = [c for c, n in counts.items() for _ in range(n)]
        self.rng.shuffle(cats)
        return cats

    def __iter__(self) -> Iterator[Body]:
        if self._started:
            raise RuntimeError("a GeneratorStream can be iterated only once; make a new one")
        self._started = True
        opts, rng = self.opts, self.rng
        scenario_items = [it for s in self.scenarios for it in s.items] + self.routine
        background = opts.records - len(scenario_items)
        windows = max(1, math.ceil((self.end - self.start) / WINDOW))
        counts = self._window_counts(background, windows)
        cats = self._categories(background)
        pending: dict[int, list[tuple[int, int, Item]]] = {}
        seq = 0

        def add(item: Item) -> None:
            nonlocal seq
            key = max(0, (item.proc - self.start) // WINDOW)
            pending.setdefault(key, []).append((item.proc, seq, item))
            seq += 1

        for it in scenario_items:
            add(it)
        state = _EmitState(opts, rng, self._malformed)
        late: list[dict[str, Any]] = []
        ci = 0
        for w in range(windows):
            ws = self.start + w * WINDOW
            span = min(self.end, ws + WINDOW) - ws
            n = counts[w]
            evs = sorted(ws + int(rng.random() * span) for _ in range(n))
            produced = 0
            while produced < n:
                made = self.traffic.make(self._arriving(cats[ci], ws), evs[produced], n - produced)
                ci += 1
                for item in made:
                    add(item)
                produced += len(made)
            yield from self._flush(pending.pop(w, []), state, late)
        for key in sorted(pending):
            yield from self._flush(pending.pop(key), state, late)
        yield from state.drain()
        self._ground_truth = self._truth(state, late)

    def _arriving(self, category: str, window_start: int) -> str:
        """The category drawn, unless it is silent in this window: then a sign-in instead."""
        if category == self.opts.silent_category and window_start >= self._silence_start:
            return "NonInteractiveUserSignInLogs"
        if category in NIGHT_ONLY_GAPS and (window_start // HOUR) % 24 in NIGHT_HOURS:
            return "NonInteractiveUserSignInLogs"
        return category

    @property
    def _silence_start(self) -> int:
        return self.end - int(self.opts.silent_hours * HOUR)

    def _flush(
        self, bucket: list[tuple[int, int, Item]], state: _EmitState, late: list[dict[str, Any]]
    ) -> Iterator[Body]:
        if not bucket:
            return
        bucket.sort(key=lambda x: (x[0], x[1]))
        for _, _, item in bucket:
            if item.late:
                late.append(
                    {
                        "id": source_id(item.rec),
                        "category": item.category,
                        "event_time": self.clock.iso_micro(item.ev),
                        "published": self.clock.iso_micro(item.proc),
                        "late_minutes": round((item.proc - item.ev) / MINUTE, 1),
                    }
                )
        for body in self.packer.pack([(it.category, it.rec) for _, _, it in bucket]):
            yield from state.emit(body)

    def _malformed(self, kind: str) -> Body:
        scrap = self._scrap
        users = self.ctx.pop.users

        def material() -> dict[str, Any]:
            user = self.rng.pick(users)
            t = self.start + int(self.rng.random() * (self.end - self.start))
            return scrap.signins.user_signin(
                ev=t,
                proc=t + MINUTE,
                user=user,
                category="SignInLogs",
                code=0,
                city=user.city,
                ip=user.ip,
                app=self.ctx.pop.apps[0],
                client_app="Browser",
                mfa=True,
            )

        return make_malformed(kind, self.rng, material)

    @property
    def ground_truth(self) -> dict[str, Any]:
        if self._ground_truth is None:
            raise RuntimeError("ground truth is complete only after iterating over all bodies")
        return self._ground_truth

    def _truth(self, state: _EmitState, late: list[dict[str, Any]]) -> dict[str, Any]:
        opts, clock = self.opts, self.clock
        quirks = dict(sorted(self.q.seen.items()))
        quirks["exact_duplicate_body"] = len(state.duplicates)
        quirks["late_record"] = len(late)
        absent = [kind for kind in QUIRK_KINDS if not quirks.get(kind)]
        return {
            "generator": {
                "version": GENERATOR_VERSION,
                "seed": opts.seed,
                "records": opts.records,
                "hours": opts.hours,
                "start": clock.iso_micro(self.start),
                "end": clock.iso_micro(self.end),
                "malformed_rate": opts.malformed_rate,
                "duplicate_rate": opts.duplicate_rate,
                "max_body_bytes": opts.max_body_bytes,
                "users": len(self.ctx.pop.users),
            },
            "tenant_id": self.ctx.pop.tenant_id,
            "thresholds": {
                "impossible_travel_kmh": IMPOSSIBLE_SPEED_KMH,
                "background_max_speed_kmh": BACKGROUND_MAX_SPEED_KMH,
                "rules": RULES,
                "background": "no background traffic meets any rule: per-user failures <= 8 per "
                "UTC day (2 for victims), no address fails for two users, "
                "successes only from the home country, legacy clients only "
                "as failures",
            },
            "scenarios": [self._scenario(s) for s in self.scenarios] + self._silence(),
            "skipped_scenarios": self.skipped,
            "audit_highlights": self.builders.audit.highlights,
            "malformed": state.malformed,
            "duplicates": {
                "bodies": state.duplicates,
                "source_ids": [rid for d in state.duplicates for rid in d["source_ids"]],
            },
            "late_records": late,
            "counts": {
                "bodies": state.index,
                "malformed_bodies": len(state.malformed),
                "duplicate_bodies": len(state.duplicates),
                "records_emitted": state.emitted,
                "records_distinct": opts.records,
                "per_category": dict(sorted(state.per_category.items())),
                "body_shapes": dict(sorted(state.shapes.items())),
            },
            "quirks": quirks,
            "quirks_absent": absent,
        }

    def _silence(self) -> list[dict[str, Any]]:
        category = self.opts.silent_category
        if category is None:
            return []
        return [
            {
                "kind": "category_went_silent",
                "entity": category,
                "entity_type": "category",
                "window": {
                    "start": self.clock.iso_micro(self._silence_start),
                    "end": self.clock.iso_micro(self.end),
                },
                "signin_ids": [],
                "context_ids": [],
                "record_ids": [],
                "rule": RULES["category_went_silent"],
                "details": {"silent_hours": self.opts.silent_hours},
            }
        ]

    def _scenario(self, s: Scenario) -> dict[str, Any]:
        return {
            "kind": s.kind,
            "entity": s.entity,
            "entity_type": s.entity_type,
            "window": {"start": self.clock.iso_micro(s.start), "end": self.clock.iso_micro(s.end)},
            "signin_ids": s.signin_ids,
            "context_ids": s.context_ids,
            "record_ids": s.record_ids,
            "rule": RULES[s.kind],
            "details": s.details,
        }


class _EmitState:
    """Body numbering, exact re-sends and malformed bodies mixed into the stream."""

    def __init__(self, opts: GeneratorOptions, rng: Rng, malformed: Callable[[str], Body]) -> None:
        self.rng = rng
        self.make_malformed = malformed
        self.dup_rate = opts.duplicate_rate
        self.mal_step = opts.malformed_rate / (1 - opts.malformed_rate)
        self.dup_due = 0.0
        self.mal_due = 0.5 if opts.malformed_rate > 0 else 0.0
        kinds = list(DEFECT_KINDS)
        rng.shuffle(kinds)
        self.kinds = kinds
        self.index = 0
        self.emitted = 0
        self.per_category: Counter[str] = Counter()
        self.shapes: Counter[str] = Counter()
        self.malformed: list[dict[str, Any]] = []
        self.duplicates: list[dict[str, Any]] = []
        self.resend: list[tuple[int, int, Body]] = []  # (due after body index, original, body)

    def _out(self, body: Body) -> Body:
        self.index += 1
        self.shapes[body.shape] += 1
        for rec in body.records:
            self.per_category[record_category(rec)] += 1
        self.emitted += len(body.records)
        return body

    def emit(self, body: Body) -> Iterator[Body]:
        original = self.index
        yield self._out(body)
        self.dup_due += self.dup_rate
        if self.dup_due >= 1:
            self.dup_due -= 1
            self.resend.append((self.index + 1 + self.rng.randrange(3), original, body))
        yield from self._after()

    def _after(self) -> Iterator[Body]:
        """Malformed bodies due by now, then re-sends due by now."""
        self.mal_due += self.mal_step
        while self.mal_due >= 1:
            self.mal_due -= 1
            kind = self.kinds[len(self.malformed) % len(self.kinds)]
            body = self.make_malformed(kind)
            self.malformed.append(
                {
                    "index": self.index,
                    "kind": kind,
                    "valid_json": kind in VALID_JSON_DEFECTS,
                    "bytes": len(body.data),
                }
            )
            yield self._out(body)
        while self.resend and self.resend[0][0] <= self.index:
            _, original, body = self.resend.pop(0)
            yield from self._resend(original, body)

    def _resend(self, original: int, body: Body) -> Iterator[Body]:
        copy = Body(body.data, body.records, body.categories, body.shape, None, original)
        self.duplicates.append(
            {
                "index": self.index,
                "original_index": original,
                "records": len(body.records),
                "source_ids": [source_id(r) for r in body.records],
            }
        )
        yield self._out(copy)
        yield from self._after()

    def drain(self) -> Iterator[Body]:
        while self.resend:
            _, original, body = self.resend.pop(0)
            yield from self._resend(original, body)
