"""What each bulk operation does to the platform, one input item at a time.

A processor takes the store, the operation and one (already schema-valid) item, changes the
store and returns the ``resourceId`` of its success result, or raises :class:`ItemError` whose
message becomes the item's ``errorMessage``. The worker calls them under the store lock, in
input order, so the items of one operation see each other's effects.

**Statistics: the attempt rule** (OpenAPI, ``POST /bulk/integrations/{id}/stats``). For one
record on (course, user), with ``end(a)`` = an attempt's ``completedAt`` or ``lastActivityAt``,
whichever is later:

1. it *creates* a new attempt when ``forceNew`` is true, or the pair has no attempt yet, or its
   ``firstActivityAt`` is later than ``end(a)`` of every existing attempt;
2. otherwise it *updates* the non-completed attempts ``a`` with ``firstActivityAt <= end(a)``
   (the OpenAPI's "earlier than", taken inclusively so that equal times update rather than fall
   between the two branches): progress, timeSpent, lastActivityAt, and score, result, lang when
   sent; firstActivityAt becomes the earlier of the two;
3. when no attempt qualifies (every candidate is completed) nothing changes and the item is still
   a success whose resourceId is the pair's latest attempt: re-sending a closed attempt is a no-op.

Progress 100 completes (closes) the attempt with ``completedAt = lastActivityAt``; a completed
attempt is never updated again. Hence the ordering hazard the contract warns about: an older
record sent after a newer one is "not later than every attempt", so it merges into the newer
open attempt instead of making its own.

Note: the contract README words rule 2 as "updates the open attempts"; the OpenAPI adds "if
firstActivityAt is earlier than [their] lastActivityAt or completedAt". They differ only for an
open attempt that ended before the record began while another attempt ends after it (reachable
with ``forceNew``); this sandbox follows the OpenAPI and leaves such an attempt alone.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sandbox.l360.spec import parse_time
from sandbox.l360.store import L360Store, format_time, to_ms

#: the OpenAPI's ``type`` of each bulk operation this sandbox serves
IMPORT_COURSES = "importExternalCourses"
ARCHIVE_COURSES = "archiveExternalCourses"
ADD_CATALOG = "addContentsToGroupsCatalog"
REMOVE_CATALOG = "removeContentsFromGroupsCatalog"
ADD_LIBRARY = "addContentsToGroupsLibrary"
REMOVE_LIBRARY = "removeContentsFromGroupsLibrary"
IMPORT_STATISTICS = "importExternalStatistics"

COURSE_META = ("courseId", "integrationId", "groupId", "archived", "createdAt", "modifiedAt")


class ItemError(Exception):
    """One input item failed; its message is the result's ``errorMessage``."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


Processor = Callable[[L360Store, dict[str, Any], dict[str, Any], str], str]


def _integration(store: L360Store, operation: dict[str, Any]) -> dict[str, Any]:
    integration = store.integrations.get(operation.get("integrationId") or "")
    if integration is None:  # deleted while the operation waited
        raise ItemError("Integration not found.")
    return integration


# courses --------------------------------------------------------------------------------
def upsert_course(store: L360Store, operation: dict[str, Any], item: dict[str, Any],
                  now: str) -> str:
    """Create, or replace whole (every field not sent is gone); an archived course stays
    archived.

    The OpenAPI says a match "is replaced with the new data" and documents restoring as its own
    call (``PUT /courses/{courseId}/archive``), so the strictest reading is that an upsert does
    not restore: a client that wants an archived course back must restore it. ``archived`` is
    platform state, not course data; a new course is not archived.
    """
    integration = _integration(store, operation)
    author = item.get("authorId") or integration["authorId"]
    if author not in store.users:
        raise ItemError(f"Author not found: no user has the id {author}.")
    key = (integration["_id"], item["externalId"])
    previous = store.courses.get(key)
    course = {key: value for key, value in item.items() if key not in COURSE_META}
    course.setdefault("contentType", "course")
    course["authorId"] = author
    course.update(integrationId=integration["_id"], groupId=integration["groupId"],
                  archived=bool(previous and previous["archived"]), modifiedAt=now)
    if previous is None:
        course["courseId"] = store.ids.new("course")
        course["createdAt"] = now
        group = integration["groupId"]  # a new course lands in the group's catalog and library
        store.catalog.setdefault(group, set()).add(course["courseId"])
        store.library.setdefault(group, set()).add(course["courseId"])
    else:
        course["courseId"] = previous["courseId"]
        course["createdAt"] = previous["createdAt"]
    store.courses[key] = course
    store.course_keys[course["courseId"]] = key
    return str(course["courseId"])


def archive_course(store: L360Store, operation: dict[str, Any], item: dict[str, Any],
                   now: str) -> str:
    integration = _integration(store, operation)
    course = store.courses.get((integration["_id"], item["externalId"]))
    if course is None:
        raise ItemError(f"External course not found: no course with externalId "
                        f"{item['externalId']} in this integration.")
    course["archived"] = True  # archiving does not change modifiedAt (OpenAPI, CourseDTO)
    return str(course["courseId"])


# sharing --------------------------------------------------------------------------------
def _share(shelf: str, add: bool) -> Processor:
    def process(store: L360Store, operation: dict[str, Any], item: dict[str, Any],
                now: str) -> str:
        group_id, content_id = item["groupId"], item["contentId"]
        if group_id not in store.groups:
            raise ItemError(f"Group not found: no group has the id {group_id}.")
        if item["contentType"] != "course":
            raise ItemError(f"Path session not found: {content_id} (this sandbox has no paths).")
        if store.course_by_id(content_id) is None:
            raise ItemError(f"Course not found: no course has the id {content_id}.")
        shared = getattr(store, shelf).setdefault(group_id, set())
        if add:
            shared.add(content_id)
        else:
            shared.discard(content_id)
        return str(content_id)
    return process


# statistics -----------------------------------------------------------------------------
def _end(attempt: dict[str, Any]) -> Any:
    ends = [parse_time(attempt["lastActivityAt"])]
    if attempt.get("completedAt"):
        ends.append(parse_time(attempt["completedAt"]))
    return max(ends)


def _fill(attempt: dict[str, Any], item: dict[str, Any], last: str) -> None:
    attempt["progress"] = item["progress"]
    attempt["timeSpent"] = item["timeSpent"]
    attempt["lastActivityAt"] = last
    for name in ("score", "result", "lang"):
        if name in item:
            attempt[name] = item[name]
    if item["progress"] >= 100:
        attempt["completed"] = True
        attempt["completedAt"] = last


def import_statistic(store: L360Store, operation: dict[str, Any], item: dict[str, Any],
                     now: str) -> str:
    integration = _integration(store, operation)
    course_ref, user_ref = item["courseIdentifier"], item["userIdentifier"]
    course = store.find_course(integration["_id"], course_ref["type"], course_ref["value"])
    if course is None:
        raise ItemError(f"Unknown course: no course with {course_ref['type']} "
                        f"{course_ref['value']} in this integration.")
    user = store.find_user(user_ref["type"], user_ref["value"])
    if user is None:
        raise ItemError(f"Unknown user: no user with {user_ref['type']} {user_ref['value']}.")
    first = to_ms(parse_time(item["firstActivityAt"]))
    last = format_time(parse_time(item["lastActivityAt"]))
    existing = store.attempts_of(course["courseId"], user["_id"])
    effects = operation.setdefault("effects", [])
    if item.get("forceNew") or not existing or all(first > _end(a) for a in existing):
        attempt: dict[str, Any] = {
            "_id": store.ids.new("attempt"), "courseId": course["courseId"],
            "userId": user["_id"], "integrationId": integration["_id"],
            "externalCourseId": course["externalId"], "mail": user["mail"],
            "lang": course.get("defaultLang", "en"), "firstActivityAt": format_time(first),
            "completed": False, "completedAt": None, "score": None, "result": None,
        }
        _fill(attempt, item, last)
        existing.append(attempt)
        store.attempts.append(attempt)
        effects.append({"action": "created", "attempts": [attempt["_id"]], "input": item})
        return str(attempt["_id"])
    targets = [a for a in existing if not a["completed"] and first <= _end(a)]
    for attempt in targets:
        if first < parse_time(attempt["firstActivityAt"]):
            attempt["firstActivityAt"] = format_time(first)
        _fill(attempt, item, last)
    action = "updated" if targets else "ignored"
    chosen = targets or existing
    effects.append({"action": action, "attempts": [a["_id"] for a in chosen], "input": item})
    return str(chosen[-1]["_id"])


PROCESSORS: dict[str, Processor] = {
    IMPORT_COURSES: upsert_course,
    ARCHIVE_COURSES: archive_course,
    ADD_CATALOG: _share("catalog", add=True),
    REMOVE_CATALOG: _share("catalog", add=False),
    ADD_LIBRARY: _share("library", add=True),
    REMOVE_LIBRARY: _share("library", add=False),
    IMPORT_STATISTICS: import_statistic,
}
