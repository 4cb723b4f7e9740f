"""The platform's state: users, groups, integrations, external courses, sharing, attempts.

One :class:`L360Store` per sandbox, guarded by one re-entrant lock: HTTP handler threads read it,
the bulk worker (:mod:`sandbox.l360.bulk`) writes it, tests inspect copies of it. Ids are
24-hex ObjectIds (the OpenAPI's ``^[a-fA-F0-9]{24}$``) drawn from seeded generators, one per
kind of object, so the same seed and the same sequence of requests give the same ids.

Times are kept as the API serves them, ``YYYY-MM-DDThh:mm:ss.sssZ`` in UTC (milliseconds, as the
OpenAPI's descriptions say), and compared after parsing.
"""

from __future__ import annotations

import random
import re
import threading
from datetime import UTC, datetime
from typing import Any

OBJECT_ID = re.compile(r"^[a-fA-F0-9]{24}$")
USER_LANG = "en"


def format_time(moment: datetime) -> str:
    """``2025-07-08T22:00:00.000Z``: UTC, milliseconds."""
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def to_ms(moment: datetime) -> datetime:
    """Cut to milliseconds, as the platform stores them."""
    return moment.astimezone(UTC).replace(microsecond=moment.microsecond // 1000 * 1000)


class IdFactory:
    """Seeded ObjectIds, one stream per kind (users, courses, attempts …)."""

    def __init__(self, seed: int) -> None:
        self.seed = seed
        self._streams: dict[str, random.Random] = {}
        self._lock = threading.Lock()

    def new(self, kind: str) -> str:
        with self._lock:
            rng = self._streams.get(kind)
            if rng is None:
                rng = self._streams[kind] = random.Random(f"{self.seed}:{kind}")
            return f"{rng.getrandbits(96):024x}"


class L360Store:
    """Everything the API serves and the bulk operations change (live objects: hold ``lock``)."""

    def __init__(self, seed: int) -> None:
        self.lock = threading.RLock()
        self.ids = IdFactory(seed)
        self.users: dict[str, dict[str, Any]] = {}
        self.user_by_mail: dict[str, str] = {}  # lower-cased mail -> user id
        self.admins: set[str] = set()
        self.groups: dict[str, dict[str, Any]] = {}
        self.integrations: dict[str, dict[str, Any]] = {}
        self.courses: dict[tuple[str, str], dict[str, Any]] = {}
        self.course_keys: dict[str, tuple[str, str]] = {}  # courseId -> (integration, external)
        self.opaque_ids: dict[str, str] = {}  # a resource's id -> its "opaque" resourceId
        self.catalog: dict[str, set[str]] = {}
        self.library: dict[str, set[str]] = {}
        self.attempts: list[dict[str, Any]] = []
        self.attempts_by_pair: dict[tuple[str, str], list[dict[str, Any]]] = {}
        self.operations: dict[str, dict[str, Any]] = {}

    # users and groups -------------------------------------------------------------------
    def add_group(self, group_id: str | None, name: str) -> str:
        with self.lock:
            group_id = group_id or self.ids.new("group")
            if not OBJECT_ID.match(group_id):
                raise ValueError(f"group id {group_id!r} is not a 24-hex ObjectId, which the "
                                 "OpenAPI requires of every groupId")
            self.groups[group_id] = {"_id": group_id, "name": name, "public": False}
            self.catalog.setdefault(group_id, set())
            self.library.setdefault(group_id, set())
            return group_id

    def add_user(self, mail: str, first_name: str | None = None, last_name: str | None = None,
                 admin: bool = False, status: str = "active") -> str:
        """A user with that mail (the existing id when the mail is already taken).

        "Taken" ignores case: a platform keeps emails unique, so it would not hold both
        ``Ada@x.com`` and ``ada@x.com``. Looking a user up is exact (:meth:`find_user`).
        """
        key = mail.strip().lower()
        if not key:
            raise ValueError("a user needs a mail")
        with self.lock:
            existing = self.user_by_mail.get(key)
            if existing is not None:
                return existing
            user_id = self.ids.new("user")
            local = mail.split("@", 1)[0]
            words = [w for w in re.split(r"[._+-]+", local) if w] or [local]
            user: dict[str, Any] = {
                "_id": user_id, "mail": mail.strip(), "status": status, "lang": USER_LANG,
                "firstName": first_name or words[0].capitalize(),
                "lastName": last_name or (words[-1].capitalize() if len(words) > 1 else "User"),
            }
            if self.groups:
                user["primaryGroupId"] = next(iter(self.groups))
            self.users[user_id] = user
            self.user_by_mail[key] = user_id
            if admin:
                self.admins.add(user_id)
            return user_id

    def find_user(self, kind: str, value: str) -> dict[str, Any] | None:
        """By ``mail`` or ``internalId``; deleted users are not found.

        A mail matches only when it is exactly the user's ``mail`` (case and spaces included):
        the OpenAPI does not say 360Learning folds case, so the strictest reading is that it
        does not, and a client must send the mail as the platform holds it.
        """
        with self.lock:
            if kind == "mail":
                user_id = self.user_by_mail.get(value.strip().lower())
                user = self.users.get(user_id or "")
                if user is not None and user["mail"] != value:
                    user = None
            else:
                user = self.users.get(value)
            return None if user is None or user["status"] == "deleted" else user

    # courses ----------------------------------------------------------------------------
    def find_course(self, integration_id: str, kind: str, value: str) -> dict[str, Any] | None:
        """An integration's external course by ``externalId`` or ``internalId`` (its courseId)."""
        with self.lock:
            if kind == "externalId":
                return self.courses.get((integration_id, value))
            key = self.course_keys.get(value)
            if key is None or key[0] != integration_id:
                return None
            return self.courses.get(key)

    def course_by_id(self, course_id: str) -> dict[str, Any] | None:
        with self.lock:
            key = self.course_keys.get(course_id)
            return None if key is None else self.courses.get(key)

    def opaque_id(self, resource: str) -> str:
        """A 24-hex ObjectId that stands for a resource (a course, say) without being its id:
        the same for the same resource every time, drawn from its own seeded stream and checked
        against every courseId when drawn (a later course taking it is a 2**-96 chance)."""
        with self.lock:
            found = self.opaque_ids.get(resource)
            while found is None or found in self.course_keys:
                found = self.opaque_ids[resource] = self.ids.new("resource")
            return found

    def attempts_of(self, course_id: str, user_id: str) -> list[dict[str, Any]]:
        with self.lock:
            return self.attempts_by_pair.setdefault((course_id, user_id), [])
