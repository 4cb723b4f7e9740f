"""Seeded enrollments: the parent enrollments the enrollment list (``GET /enrollments``) serves.

Fields are those of the list hit in ``sandbox/contracts/go1-openapi.yml``. Times are spread over
``[seed.start, seed.end]`` (never before the learning object's creation), with
``created_time <= start_date <= end_date <= updated_time``; the id grows with ``created_time``.

Planted at seeded positions (so small seeds hold them): every status including the undocumented
``assigned`` and an unknown ``pending``; ``pass`` true while in progress, false when completed, and
``null`` (the schema says boolean: a defensive client copes); enrollments of playlists, awards,
retired content and content outside the library; users without an email; one enrollment whose
user account no longer exists (``GET /user-accounts/{id}`` answers 404); re-enrolments, whose
older enrollment is archived (kept aside, never listed); and bursts of enrollments updated at the
very same second, the case that breaks a cursor which assumes updated_time is unique.

Built for size: 500,000 rows in a few seconds, so the loop avoids datetime and strftime.
"""

from __future__ import annotations

import bisect
import random
from typing import Any

from sandbox.go1.model import DAY_US, Enrollment, Go1Seed, spots
from sandbox.go1.timefmt import US_PER_SECOND, parse_us, to_us

HOUR_US = 3600 * 1_000_000
_QUIRKS = (
    "not-started", "in_progress_pass", "completed_fail", "completed_null", "assigned", "pending",
    "playlist", "award", "outside_library", "retired", "deleted_user", "no_email", "empty_email",
    "reenrolled", "reenrolled", "burst", "burst", "burst",
)


class _Picker:
    """Chooses (user, learning object) pairs: popular content, busy learners, no duplicates."""

    def __init__(self, rng: random.Random, seed: Go1Seed, objects: dict[str, dict[str, Any]],
                 library: set[str], users: dict[str, dict[str, Any]]) -> None:
        self.rng = rng
        self.start_us = to_us(seed.start)
        self.lo_ids = list(objects)
        self.floor = {lo: max(self.start_us, parse_us(doc["created_time"]))
                      for lo, doc in objects.items()}
        self.popular = self.lo_ids[:]
        rng.shuffle(self.popular)
        self.user_ids = list(users)
        self.pools: dict[str, list[str]] = {
            "playlist": [k for k, d in objects.items() if d["core"]["type"] == "playlist"],
            "award": [k for k, d in objects.items() if d["core"]["type"] == "award"],
            "outside_library": [k for k in objects if k not in library],
            "retired": [k for k, d in objects.items() if d["lifecycle"]["state"] == "retired"],
            "no_email": [k for k, u in users.items() if "email" not in u["user"]],
            "empty_email": [k for k, u in users.items() if u["user"].get("email") == ""],
        }
        low = int(self.user_ids[0]) - 1000
        self.deleted = [str(low + k) for k in range(1 + seed.enrollments // 100_000)]
        self.pairs: set[tuple[str, str]] = set()

    def pick(self, quirk: str, latest: int | None = None) -> tuple[str, str]:
        rng = self.rng
        if not quirk and latest is None:  # the fast path, taken half a million times
            random_, users, popular, pairs = rng.random, self.user_ids, self.popular, self.pairs
            for _ in range(200):
                if random_() < 0.0001:
                    user = rng.choice(self.deleted)
                else:
                    user = users[int(len(users) * random_() ** 1.6)]
                pair = (user, popular[int(len(popular) * random_() ** 2)])
                if pair not in pairs:
                    pairs.add(pair)
                    return pair
        for attempt in range(200):
            forced = attempt < 20
            if (forced and quirk == "deleted_user") or rng.random() < 0.0001:
                user = rng.choice(self.deleted)
            elif forced and self.pools.get(quirk) and quirk in ("no_email", "empty_email"):
                user = rng.choice(self.pools[quirk])
            else:
                user = self.user_ids[int(len(self.user_ids) * rng.random() ** 1.6)]
            if forced and self.pools.get(quirk) and quirk not in ("no_email", "empty_email"):
                lo = rng.choice(self.pools[quirk])
            else:
                lo = self.popular[int(len(self.popular) * rng.random() ** 2)]
            if (user, lo) in self.pairs or (latest is not None and self.floor[lo] > latest):
                continue
            self.pairs.add((user, lo))
            return user, lo
        raise ValueError("too many enrollments for so few users and learning objects")


def _between(rng: random.Random, low: int, high: int) -> int:
    """``randint`` without its overhead (it is called half a million times)."""
    return low + int(rng.random() * (high - low + 1))


def _outcome(rng: random.Random, status: str, quirk: str) -> tuple[bool | None, int]:
    """``pass`` and ``result`` for a status, with the contradictions real data holds."""
    roll = rng.random()
    if quirk == "in_progress_pass":
        return True, 80
    if quirk == "completed_fail":
        return False, _between(rng, 0, 69)
    if quirk == "completed_null":
        return None, 0
    if status == "completed":
        if roll < 0.8:
            return True, _between(rng, 70, 100)
        return (False, _between(rng, 0, 69)) if roll < 0.95 else (None, 0)
    if status == "in-progress":
        if roll < 0.7:
            return None, 0
        return (False, _between(rng, 0, 60)) if roll < 0.93 else (True, _between(rng, 70, 100))
    if status in ("not-started", "assigned"):
        return (None, 0) if roll < 0.6 else (False, 0)
    return None, 0


def _status(rng: random.Random, quirk: str) -> str:
    if quirk in ("not-started", "assigned", "pending"):
        return quirk
    if quirk == "in_progress_pass":
        return "in-progress"
    if quirk in ("completed_fail", "completed_null"):
        return "completed"
    if quirk == "burst":
        return "assigned"
    roll = rng.random()
    return ("completed" if roll < 0.45 else "in-progress" if roll < 0.70 else
            "not-started" if roll < 0.85 else "assigned" if roll < 0.97 else "pending")


def _after(base: int, offset: int, cap: int) -> int:
    """``base + offset``, folded back into ``[base, cap]`` when it would pass ``cap``.

    Clamping to ``cap`` instead piled every overflowing record onto the seed's last
    microsecond: 16,071 updates in one second at 2,000,000 enrollments, which no portal holds
    (the cap is "now") and which offset paging cannot read. Folding keeps the order of the
    times and spends no random draw, so the rest of the seed stays as it was."""
    if base >= cap:
        return cap
    return base + offset % (cap - base + 1)


def _times(rng: random.Random, status: str, created: int, cap: int
           ) -> tuple[int, int | None, int | None]:
    """(updated, start_date, end_date) after ``created``, none of them beyond ``cap``."""
    start = end = None
    if status == "completed":
        start = _after(created, int(rng.expovariate(1.0) * 2 * DAY_US), cap)
        end = _after(start, int(rng.expovariate(1.0) * 3 * DAY_US), cap)
        updated = end if rng.random() < 0.7 else _after(end, int(rng.random() * HOUR_US), cap)
    elif status == "in-progress":
        start = _after(created, int(rng.expovariate(1.0) * DAY_US), cap)
        updated = _after(start, int(rng.expovariate(1.0) * 5 * DAY_US), cap)
    elif status == "pending" or rng.random() < 0.5:
        updated = created
    else:
        updated = _after(created, int(rng.expovariate(1.0) * 2 * DAY_US), cap)
    return updated, start, end


def generate_enrollments(
    rng: random.Random, seed: Go1Seed, objects: dict[str, dict[str, Any]], library: set[str],
    users: dict[str, dict[str, Any]],
) -> tuple[list[Enrollment], list[Enrollment], list[str]]:
    """(listed enrollments in id order, archived predecessors, ids of deleted user accounts)."""
    picker = _Picker(rng, seed, objects, library, users)
    start_us, end_us = to_us(seed.start), to_us(seed.end)
    middle = start_us + (end_us - start_us) // 2
    bursts = sorted(middle - middle % DAY_US + k * 37 * DAY_US + 2 * HOUR_US for k in range(-4, 5))
    bursts = [b for b in bursts if start_us <= b <= end_us] or [start_us]
    quirks = spots(rng, seed.enrollments, _QUIRKS) if seed.enrollments else {}
    admin = next(iter(users))
    made: list[tuple[int, int, Enrollment]] = []  # (created, generation order, record)
    archived_ids: set[int] = set()
    random_ = rng.random
    for index in range(seed.enrollments):
        quirk = quirks.get(index, "")
        status = _status(rng, quirk)
        burst = bursts[len(bursts) // 2] if quirk == "burst" else None
        user, lo = picker.pick(quirk, burst)
        floor = picker.floor[lo]
        if burst is not None:
            created = floor + int(random_() * (burst - floor))
            updated, start, end = burst, None, None
        else:
            created = floor + int(random_() * (end_us - floor))
            updated, start, end = _times(rng, status, created, end_us)
            if status in ("not-started", "assigned") and random_() < 0.02:
                at = bisect.bisect_left(bursts, created)
                updated = bursts[at] if at < len(bursts) else updated
        passed, result = _outcome(rng, status, quirk)
        if status == "assigned" or random_() < 0.3:
            due = created + (14 + int(random_() * 47)) * DAY_US if random_() < 0.5 else None
            record = Enrollment(0, created, updated, start, end, user, lo, status, passed, result,
                                "assigned", admin, created, due)
        else:
            record = Enrollment(0, created, updated, start, end, user, lo, status, passed, result,
                                "self-directed")
        if quirk == "reenrolled" or random_() < 0.02:
            # archived a second or more before the new one starts, whatever the truncation
            cap = max(floor, created - US_PER_SECOND)
            old_created = floor + int(random_() * (cap - floor))
            old_status = "completed" if random_() < 0.6 else "in-progress"
            old_updated, old_start, old_end = _times(rng, old_status, old_created, cap)
            old_pass, old_result = _outcome(rng, old_status, "")
            old = Enrollment(0, old_created, old_updated, old_start, old_end, user, lo,
                             old_status, old_pass, old_result, "self-directed")
            archived_ids.add(id(old))
            made.append((old_created, len(made), old))
        made.append((created, len(made), record))
    made.sort()
    active: list[Enrollment] = []
    archived: list[Enrollment] = []
    key = 71_000_000
    for _, _, record in made:
        key += 1 if random_() < 0.9 else 2 + int(random_() * 29)
        record.key, record.id = key, str(key)
        record.settle()
        (archived if id(record) in archived_ids else active).append(record)
    return active, archived, picker.deleted
