"""The Go1 sandbox's data types and the small helpers its generators share.

Split from the generators so that :mod:`sandbox.go1.catalog` (learning objects, users) and
:mod:`sandbox.go1.enrollgen` (enrollments) can both use them without importing each other.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, datetime
from json.encoder import encode_basestring
from typing import Any

from sandbox.go1.timefmt import STYLE_MILLIS, format_us, json_us, style_for, truncate

PORTAL_ID = "11905591"
DAY_US = 86_400 * 1_000_000
_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_PAIRS = [a + b for a in _CROCKFORD for b in _CROCKFORD]  # 10 bits -> two base32 digits
#: ``pass`` as JSON (``Enrollment.passed`` is a bool or ``None``)
_JSON_PASS = {True: "true", False: "false", None: "null"}


@dataclass(frozen=True)
class Go1Seed:
    """What to generate. Sizes are counts of served objects (archived enrollments come extra)."""

    seed: int = 7
    learning_objects: int = 300
    users: int = 80
    enrollments: int = 2000
    start: datetime = datetime(2025, 1, 1, tzinfo=UTC)
    end: datetime = datetime(2026, 11, 1, tzinfo=UTC)
    #: pad every learning object's description to at least this many characters (0: as
    #: generated): a catalog of long descriptions makes 5,000-object scroll pages of tens of MB
    description_bytes: int = 0

    def __post_init__(self) -> None:
        if self.learning_objects < 1 or self.users < 1 or self.enrollments < 0:
            raise ValueError("need at least one learning object and one user")
        if self.description_bytes < 0:
            raise ValueError("description_bytes cannot be negative")
        if self.end <= self.start:
            raise ValueError("end must be after start")


class Enrollment:
    """One enrollment as compact fields; its JSON is rendered on demand by :meth:`render`
    (a dict) or :meth:`render_json` (the served text, what the list route sends).

    Half a million enrollments as ready-made dicts cost seconds to build and about a gigabyte;
    as slotted records they are cheap, and a page of 50 renders in a fifth of a millisecond.
    Every instant is held in µs, already truncated to what the record's style can spell, so the
    served text and the instant used by filters are the same thing.
    """

    __slots__ = ("key", "id", "created_us", "updated_us", "start_us", "end_us", "assign_us",
                 "due_us", "user", "lo", "status", "passed", "result", "kind", "assigner")

    def __init__(self, key: int, created_us: int, updated_us: int, start_us: int | None,
                 end_us: int | None, user: str, lo: str, status: str, passed: bool | None,
                 result: int, kind: str, assigner: str | None = None,
                 assign_us: int | None = None, due_us: int | None = None) -> None:
        self.key, self.id = key, str(key)
        self.created_us, self.updated_us = created_us, updated_us
        self.start_us, self.end_us = start_us, end_us
        self.assign_us, self.due_us = assign_us, due_us
        self.user, self.lo, self.status, self.passed, self.result = user, lo, status, passed, result
        self.kind, self.assigner = kind, assigner

    @property
    def style(self) -> int:
        return style_for(self.key)

    def settle(self) -> None:
        """Truncate every instant to the record's style (after its key, hence style, is known)."""
        step = 1000 if style_for(self.key) == STYLE_MILLIS else 1_000_000
        self.created_us -= self.created_us % step
        self.updated_us -= self.updated_us % step
        if self.start_us is not None:
            self.start_us -= self.start_us % step
        if self.end_us is not None:
            self.end_us -= self.end_us % step
        if self.assign_us is not None:
            self.assign_us -= self.assign_us % step
        if self.due_us is not None:
            self.due_us -= self.due_us % step

    def render(self) -> dict[str, Any]:
        """The JSON object served for this enrollment (the OpenAPI list hit's fields)."""
        style = style_for(self.key)
        return {
            "id": self.id,
            "parent_enrolment_id": "0",
            "enrollment_type": self.kind,
            "user_account_id": self.user,
            "assigner_account_id": self.assigner,
            "assign_date": None if self.assign_us is None else format_us(self.assign_us, style),
            "lo_id": self.lo,
            "created_time": format_us(self.created_us, style),
            "updated_time": format_us(self.updated_us, style),
            "status": self.status,
            "result": self.result,
            "pass": self.passed,
            "start_date": None if self.start_us is None else format_us(self.start_us, style),
            "end_date": None if self.end_us is None else format_us(self.end_us, style),
            "due_date": None if self.due_us is None else format_us(self.due_us, style),
        }

    def render_json(self) -> str:
        """:meth:`render` as JSON text, exactly what ``json.dumps(self.render(),
        ensure_ascii=False, separators=(",", ":"))`` gives, at about half the CPU.

        A benchmark's sandbox shares the client's cores, so its CPU per page adds to every
        round trip; building the dict and walking it again in ``json.dumps`` was most of it.
        Not cached: a benchmark reads each of 500k enrollments once, and memory stays flat.
        String fields go through ``json``'s own escaper (the one ``dumps`` uses with
        ``ensure_ascii=False``), so a test planting quotes or control characters in an id still
        gets valid, identical JSON; timestamps are digits and ``-:.TZ+`` and need none.
        """
        style = style_for(self.key)
        assigner = self.assigner
        return (
            f'{{"id":{encode_basestring(self.id)},"parent_enrolment_id":"0",'
            f'"enrollment_type":{encode_basestring(self.kind)},'
            f'"user_account_id":{encode_basestring(self.user)},'
            f'"assigner_account_id":{"null" if assigner is None else encode_basestring(assigner)},'
            f'"assign_date":{json_us(self.assign_us, style)},'
            f'"lo_id":{encode_basestring(self.lo)},'
            f'"created_time":{json_us(self.created_us, style)},'
            f'"updated_time":{json_us(self.updated_us, style)},'
            f'"status":{encode_basestring(self.status)},"result":{self.result:d},'
            f'"pass":{_JSON_PASS[self.passed]},'
            f'"start_date":{json_us(self.start_us, style)},'
            f'"end_date":{json_us(self.end_us, style)},'
            f'"due_date":{json_us(self.due_us, style)}}}'
        )


@dataclass
class Go1Dataset:
    """Everything a sandbox serves; the store indexes it and applies mutations."""

    learning_objects: dict[str, dict[str, Any]]
    library: set[str]
    user_accounts: dict[str, dict[str, Any]]
    enrollments: list[Enrollment]
    archived: list[Enrollment] = field(default_factory=list)
    deleted_user_ids: list[str] = field(default_factory=list)


def ulid(rng: random.Random, ms: int) -> str:
    """A ULID-shaped id (48-bit time + 80 random bits, Crockford base32), like Go1's ``con_…``."""
    value = ((ms & 0xFFFF_FFFF_FFFF) << 80) | rng.getrandbits(80)
    return "".join([_PAIRS[(value >> shift) & 1023] for shift in range(120, -1, -10)])


def pick_some(rng: random.Random, pool: tuple[Any, ...], count: int) -> list[Any]:
    """``count`` distinct items of a small pool: ``random.sample`` minus its per-call overhead."""
    chosen: list[Any] = []
    while len(chosen) < count:
        item = pool[int(rng.random() * len(pool))]
        if item not in chosen:
            chosen.append(item)
    return chosen


def stamp(us: int, style: int) -> str:
    """Spell an instant in a record's style, after truncating it to what the style can say."""
    return format_us(truncate(us, style), style)


def spots(rng: random.Random, n: int, names: tuple[str, ...]) -> dict[int, str]:
    """Seeded distinct positions for the edge cases, so that small data sets hold them all."""
    order = list(range(n))
    rng.shuffle(order)
    return {order[i % n]: name for i, name in enumerate(names)}


