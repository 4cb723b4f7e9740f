"""``L360Sandbox``: a 360Learning platform (API v2) served over HTTP in-process, for tests.

Tests point the load code at :attr:`L360Sandbox.url` (``sb.env()`` gives the settings'
environment variables), then assert on what the platform now holds (:attr:`courses`,
:attr:`catalog`, :attr:`library`, :attr:`attempts`, :attr:`operations`) and on what the client
sent (:attr:`requests`). Gateway faults are :attr:`faults` (shared with the Go1 sandbox);
360Learning's own limits, bulk failures and ``resourceId`` reading are :attr:`faults_360`; the
OAuth scopes the client's token carries are :attr:`scopes`.

The inspection properties return copies taken under the store lock, so a test can hold them
while the bulk worker goes on.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Sequence
from typing import Any

from sandbox.httpserver import ApiServer, ServedApi
from sandbox.l360.app import L360App, error_response
from sandbox.l360.bulk import BulkRunner
from sandbox.l360.knobs import L360Faults
from sandbox.l360.spec import load_spec
from sandbox.l360.store import L360Store, format_time

DEFAULT_LEARNERS = ("ada.lovelace@acme-corp.com", "alan.turing@acme-corp.com",
                    "grace.hopper@acme-corp.com", "edsger.dijkstra@acme-corp.com",
                    "barbara.liskov@acme-corp.com")


class L360Sandbox(ServedApi):
    """A local 360Learning API v2: token, integrations, users, groups, courses, stats, bulk."""

    _app: L360App

    def __init__(self, client_id: str = "sandbox-360-client",
                 client_secret: str = "sandbox-360-secret",
                 admin_email: str = "admin@acme-corp.com",
                 learner_emails: Iterable[str] | None = None,
                 group_ids: Sequence[str] | None = None, seed: int = 7,
                 platform_name: str = "Go1") -> None:
        self.client_id = client_id
        self.client_secret = client_secret
        self.admin_email = admin_email
        self.platform_name = platform_name
        self.seed = seed
        self._store = L360Store(seed)
        if group_ids is None:
            self.group_ids = tuple(self._store.add_group(None, name)
                                   for name in ("Acme Corp", "Acme Sales"))
        else:
            self.group_ids = tuple(self._store.add_group(group_id, f"Group {n}")
                                   for n, group_id in enumerate(group_ids, 1))
        if not self.group_ids:
            raise ValueError("a platform needs at least one group")
        self.admin_id = self._store.add_user(admin_email, admin=True)
        for mail in DEFAULT_LEARNERS if learner_emails is None else learner_emails:
            self._store.add_user(mail)
        self.faults_360 = L360Faults()
        self._runner = BulkRunner(self._store, self.faults_360, lambda: format_time(self.now()))
        self._app = L360App(self._store, self._runner, self.faults_360, load_spec(), self.now,
                            client_id, client_secret, seed)
        self._server = ApiServer(self._app.router, error_response, clock=self.now)

    # serving ----------------------------------------------------------------------------
    def env(self) -> dict[str, str]:
        """The settings' environment variables that point a client at this sandbox."""
        return {"L360_API_URL": self.url, "L360_CLIENT_ID": self.client_id,
                "L360_CLIENT_SECRET": self.client_secret,
                "L360_GROUP_IDS": ",".join(self.group_ids),
                "L360_ADMIN_EMAIL": self.admin_email, "L360_PLATFORM_NAME": self.platform_name}

    # The clock (ServedApi.now) dates tokens, operations and courses; operation delays and
    # rate limits always use real time.

    # knobs ------------------------------------------------------------------------------
    @property
    def page_sizes(self) -> dict[str, int]:
        """Live page sizes: users, integrations, courseStats, bulkOperations, contentIds."""
        return self._app.page_sizes

    @property
    def reserved_platform_names(self) -> set[str]:
        """Live set of names ``POST /integrations`` refuses (case-insensitive)."""
        return self._app.reserved_platform_names

    def reset_rate_limits(self) -> None:
        """Forget the requests counted in the current rate-limit windows."""
        self._app.reset_limits()

    # data -------------------------------------------------------------------------------
    def add_user(self, email: str, first_name: str | None = None,
                 last_name: str | None = None) -> str:
        """A learner with that email (the existing id if the email, in any case, is taken:
        a platform keeps emails unique). Statistics and ``mail[eq]`` then match it only
        exactly as given here."""
        return self._store.add_user(email, first_name, last_name)

    def delete_user(self, email: str) -> None:
        """Soft-delete: the user lists as ``deleted`` and statistics for it fail."""
        with self._store.lock:
            user_id = self._store.user_by_mail[email.strip().lower()]
            self._store.users[user_id]["status"] = "deleted"

    @property
    def users(self) -> dict[str, str]:
        """Email (as created) -> user id."""
        with self._store.lock:
            return {user["mail"]: user_id for user_id, user in self._store.users.items()}

    @property
    def integrations(self) -> list[dict[str, Any]]:
        with self._store.lock:
            return copy.deepcopy(list(self._store.integrations.values()))

    @property
    def courses(self) -> dict[tuple[str, str], dict[str, Any]]:
        """(integrationId, externalId) -> the course: upserted fields, ``courseId``,
        ``archived``, ``authorId``, ``groupId``, ``createdAt``, ``modifiedAt``."""
        with self._store.lock:
            return copy.deepcopy(self._store.courses)

    @property
    def catalog(self) -> dict[str, set[str]]:
        """Group id -> course ids in its catalog."""
        with self._store.lock:
            return {group: set(ids) for group, ids in self._store.catalog.items()}

    @property
    def library(self) -> dict[str, set[str]]:
        """Group id -> course ids in its library."""
        with self._store.lock:
            return {group: set(ids) for group, ids in self._store.library.items()}

    @property
    def attempts(self) -> list[dict[str, Any]]:
        """Every attempt, in creation order: ``_id, courseId, userId, externalCourseId, mail,
        firstActivityAt, lastActivityAt, completedAt, progress, score, timeSpent, result,
        completed, lang, integrationId``."""
        with self._store.lock:
            return copy.deepcopy(self._store.attempts)

    # -- drift: what people change in 360Learning behind the integration's back ---------------
    def _course(self, external_id: str) -> dict[str, Any]:
        for (_, external), course in self._store.courses.items():
            if external == external_id:
                return course
        raise KeyError(f"no course with externalId {external_id}")

    def edit_course(self, external_id: str, **fields: Any) -> None:
        """Change a course's fields in place (someone edited it in 360Learning)."""
        with self._store.lock:
            self._course(external_id).update(fields)

    def archive_course(self, external_id: str, archived: bool = True) -> None:
        with self._store.lock:
            self._course(external_id)["archived"] = archived

    def delete_course(self, external_id: str) -> None:
        """Remove a course altogether (the read-back then answers that it is unknown)."""
        with self._store.lock:
            course = self._course(external_id)
            key = self._store.course_keys.pop(course["courseId"])
            del self._store.courses[key]

    def edit_attempt(self, external_course_id: str, mail: str, **fields: Any) -> None:
        """Change every attempt of a learner on a course (progress, completedAt …)."""
        with self._store.lock:
            for attempt in self._store.attempts:
                if attempt["externalCourseId"] == external_course_id and attempt["mail"] == mail:
                    attempt.update(fields)

    def delete_attempts(self, external_course_id: str, mail: str) -> None:
        with self._store.lock:
            gone = [a for a in self._store.attempts
                    if a["externalCourseId"] == external_course_id and a["mail"] == mail]
            self._store.attempts[:] = [a for a in self._store.attempts if a not in gone]
            for a in gone:  # the per-(course, user) index the attempt rule reads
                pair = self._store.attempts_by_pair.get((a["courseId"], a["userId"]), [])
                if a in pair:
                    pair.remove(a)

    def duplicate_attempt(self, external_course_id: str, mail: str) -> None:
        """A second attempt for the same start (what a forceNew or a replay would make)."""
        with self._store.lock:
            original = next(a for a in self._store.attempts
                            if a["externalCourseId"] == external_course_id and a["mail"] == mail)
            copied = copy.deepcopy(original)
            copied["_id"] = self._store.ids.new("attempt")
            copied["firstActivityAt"] = original["lastActivityAt"]
            self._store.attempts.append(copied)
            self._store.attempts_by_pair.setdefault(
                (copied["courseId"], copied["userId"]), []).append(copied)

    def add_imported_course(self, name: str) -> str:
        """A course outside the integration (a SCORM import, say), listed by GET /courses as an
        ``elearning standard`` course, without ``externalPlatform`` (``CourseDTO``: "only set if
        the course has the external type"). Authored by the admin in the first group:
        ``CourseDTO`` requires both as strings."""
        with self._store.lock:
            integration = "imported"
            self._store.integrations.setdefault(integration, {"externalPlatform": ""})
            course_id = self._store.ids.new("course")
            self._store.courses[(integration, f"scorm-{course_id}")] = {
                "courseId": course_id, "name": name, "defaultLang": "en",
                "type": "elearning standard",
                "authorId": self.admin_id, "groupId": self.group_ids[0],
                "createdAt": format_time(self.now()),
                "modifiedAt": format_time(self.now()),
                "archived": False,
                "integrationId": integration}
            self._store.course_keys[course_id] = (integration, f"scorm-{course_id}")
            return course_id

    @property
    def operations(self) -> dict[str, dict[str, Any]]:
        """Operation id -> ``_id, type, status, input, results, integrationId, createdAt …``
        (``kind`` repeats ``type``; statistics operations also list their ``effects``)."""
        snapshot = self._runner.snapshot()
        for operation in snapshot.values():
            operation["kind"] = operation["type"]
        return snapshot

    def operation_ids_submitted(self) -> list[str]:
        """Every accepted bulk operation id, oldest first (to count duplicate submits)."""
        return self._runner.submitted()

    def release_stalled(self) -> None:
        """Let the operations :meth:`L360Faults.stall_next` stalled finish."""
        self._runner.release_stalled()

    def wait_for_operations(self, timeout: float = 5.0) -> bool:
        """Block until every bulk operation has finished; False if ``timeout`` ran out."""
        return self._runner.wait_idle(timeout)
