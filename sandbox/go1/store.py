"""The Go1 sandbox's state: indexes for fast pages, queries, and the changes tests make.

Enrollments are kept in one list sorted by ``(updated_time, id)``; a time window is two bisects
and a page is a slice, so a page of 50 out of 500,000 costs well under a millisecond. Changes
move one record within that list (remove + insort) instead of re-sorting. Learning-object
listings are filtered per request and cached until the next change.

Everything is guarded by one re-entrant lock: the HTTP threads read while a test changes data.
"""

from __future__ import annotations

import bisect
import copy
import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from sandbox.go1.model import PORTAL_ID, Enrollment, Go1Dataset
from sandbox.go1.timefmt import format_us, parse_us, style_for, truncate

#: the top-level keys every learning-object hit carries, whatever ``include[]`` asks for
LO_BASE_KEYS = ("id", "lo_id", "created_time", "updated_time", "updated_media_time",
                "updated_metadata_time")


def _updated_key(record: Enrollment) -> tuple[int, int]:
    return record.updated_us, record.key


def _created_key(record: Enrollment) -> tuple[int, int]:
    return record.created_us, record.key


@dataclass(frozen=True)
class EnrollmentQuery:
    """A validated enrollment list request (``GET /enrollments``, or the app's
    ``enrollments_path``)."""

    limit: int = 20
    offset: int = 0
    sort: str = "created_time"
    descending: bool = True
    update_gte: int | None = None
    update_lte: int | None = None
    statuses: frozenset[str] | None = None
    lo_ids: frozenset[str] | None = None
    user: str | None = None
    assigner: str | None = None
    kind: str | None = None
    end_gte: int | None = None
    end_lte: int | None = None
    assign_gte: int | None = None
    assign_lte: int | None = None
    due_gte: int | None = None
    due_lte: int | None = None
    due_exists: bool | None = None

    @property
    def filtered(self) -> bool:
        """Whether anything beyond the updated_time window narrows the result."""
        return any(value is not None for value in (
            self.statuses, self.lo_ids, self.user, self.assigner, self.kind, self.end_gte,
            self.end_lte, self.assign_gte, self.assign_lte, self.due_gte, self.due_lte,
            self.due_exists))

    def matches(self, e: Enrollment) -> bool:
        if self.statuses is not None and e.status not in self.statuses:
            return False
        if self.lo_ids is not None and e.lo not in self.lo_ids:
            return False
        if (self.user is not None and e.user != self.user) or \
                (self.assigner is not None and e.assigner != self.assigner) or \
                (self.kind is not None and e.kind != self.kind):
            return False
        if self.due_exists is not None and (e.due_us is not None) != self.due_exists:
            return False
        for value, low, high in ((e.end_us, self.end_gte, self.end_lte),
                                 (e.assign_us, self.assign_gte, self.assign_lte),
                                 (e.due_us, self.due_gte, self.due_lte)):
            if (low is not None or high is not None) and value is None:
                return False
            if (low is not None and value is not None and value < low) or \
                    (high is not None and value is not None and value > high):
                return False
        return True


@dataclass(frozen=True)
class LearningObjectQuery:
    """A validated ``GET /learning-objects`` filter (paging is the caller's business)."""

    collection: str | None = None
    types: frozenset[str] | None = None
    states: frozenset[str] = frozenset({"published"})
    ids: frozenset[str] | None = None
    keyword: str | None = None
    sort: str = "title"
    descending: bool = False


class EnrollmentsView(Mapping[str, dict[str, Any]]):
    """Enrollment id -> the JSON object served, rendered on access (see ``model.Enrollment``)."""

    def __init__(self, records: dict[str, Enrollment], lock: threading.RLock) -> None:
        self._records = records
        self._lock = lock

    def __getitem__(self, key: str) -> dict[str, Any]:
        with self._lock:
            return self._records[key].render()

    def __iter__(self) -> Iterator[str]:
        with self._lock:
            return iter(list(self._records))

    def __len__(self) -> int:
        return len(self._records)


class Go1Store:
    """Learning objects, library, users and enrollments, with their indexes."""

    def __init__(self, data: Go1Dataset) -> None:
        self.lock = threading.RLock()
        self.learning_objects = data.learning_objects
        self.library = data.library
        self.user_accounts = data.user_accounts
        self.deleted_user_ids = data.deleted_user_ids
        self._users = list(data.user_accounts.values())
        self._active = {e.id: e for e in data.enrollments}
        self._archived = {e.id: e for e in data.archived}
        self._pairs = {(e.user, e.lo): e.id for e in data.enrollments}
        self._by_updated = sorted(data.enrollments, key=_updated_key)
        self._by_created: list[Enrollment] | None = None
        self._next_key = 1 + max((e.key for e in (*data.enrollments, *data.archived)),
                                 default=71_000_000)
        self._lo_cache: dict[LearningObjectQuery, list[str]] = {}
        self.enrollments = EnrollmentsView(self._active, self.lock)
        self.archived_enrollments = EnrollmentsView(self._archived, self.lock)

    # learning objects -------------------------------------------------------------------
    def project(self, doc: dict[str, Any], includes: tuple[str, ...]) -> dict[str, Any]:
        """The hit for ``includes``: the base keys plus each included section the object has."""
        hit = {key: doc[key] for key in LO_BASE_KEYS if key in doc}
        for section in includes:
            if section in doc:
                hit[section] = doc[section]
        return hit

    def find_learning_object(self, any_id: str) -> dict[str, Any] | None:
        """By ``lo_id`` or by ``con_…`` id (``GET /learning-objects/{id}`` accepts both)."""
        doc = self.learning_objects.get(any_id)
        if doc is not None or not any_id.startswith("con_"):
            return doc
        return next((d for d in self.learning_objects.values() if d["id"] == any_id), None)

    def learning_object_ids(self, query: LearningObjectQuery) -> list[str]:
        """The ``lo_id``s matching a query, in the listing's order (cached until a change)."""
        with self.lock:
            cached = self._lo_cache.get(query)
            if cached is not None:
                return cached
            found = [lo for lo, doc in self.learning_objects.items() if self._lo_matches(
                query, lo, doc)]
            found.sort(key=lambda lo: self._lo_sort_key(query.sort, lo), reverse=query.descending)
            if len(self._lo_cache) > 64:
                self._lo_cache.clear()
            self._lo_cache[query] = found
            return found

    def _lo_matches(self, query: LearningObjectQuery, lo: str, doc: dict[str, Any]) -> bool:
        if query.collection == "library" and lo not in self.library:
            return False
        if query.collection == "not_added_to_library" and lo in self.library:
            return False
        if query.types is not None and doc["core"]["type"] not in query.types:
            return False
        if doc["lifecycle"]["state"] not in query.states:
            return False
        if query.ids is not None and lo not in query.ids and doc["id"] not in query.ids:
            return False
        return query.keyword is None or query.keyword.casefold() in doc["core"]["title"].casefold()

    def _lo_sort_key(self, sort: str, lo: str) -> tuple[Any, int]:
        doc = self.learning_objects[lo]
        if sort == "created":
            return parse_us(doc["created_time"]), int(lo)
        if sort == "updated_time":
            return parse_us(doc["updated_time"]), int(lo)
        return doc["core"]["title"].strip().casefold(), int(lo)

    def touch_learning_object(self, lo_id: str, now_us: int, metadata: bool = False) -> None:
        """Set ``updated_time`` (and ``updated_metadata_time``) to now, in the object's style."""
        doc = self.learning_objects[lo_id]
        style = style_for(int(lo_id))
        stamp = format_us(truncate(now_us, style), style)
        doc["updated_time"] = stamp
        if metadata:
            doc["updated_metadata_time"] = stamp
        self._lo_cache.clear()

    # enrollments ----------------------------------------------------------------------
    def list_enrollments(self, q: EnrollmentQuery) -> tuple[int, list[dict[str, Any]]]:
        """``(total, hits)``: total counts every match, hits are the requested page as dicts.

        The route serves :meth:`enrollment_page_json` instead; this form is for Python callers.
        """
        with self.lock:
            total, page = self._enrollment_page(q)
            return total, [e.render() for e in page]

    def enrollment_page_json(self, q: EnrollmentQuery, raw: Mapping[str, str] | None = None,
                             drop: Callable[[int], int] | None = None) -> str:
        """The list route's whole body, ``{"total":…,"hits":[…]}``, as JSON text.

        The same bytes ``json.dumps`` of :meth:`list_enrollments` gives (compact separators,
        ``ensure_ascii=False``), at about half its CPU: each record writes its own text. Records
        render under the lock so that a change made meanwhile is never half seen. ``raw`` (id ->
        text) replaces those records' text, and ``drop``, told how many hits the page holds,
        says how many of its last hits to leave out, the total unchanged (the app's knobs).
        """
        with self.lock:
            total, page = self._enrollment_page(q)
            dropped = drop(len(page)) if drop is not None else 0
            if dropped > 0:
                page = page[:-dropped]
            if raw:
                hits = ",".join([raw.get(e.id) or e.render_json() for e in page])
            else:
                hits = ",".join([e.render_json() for e in page])
        return f'{{"total":{total},"hits":[{hits}]}}'

    def _enrollment_page(self, q: EnrollmentQuery) -> tuple[int, list[Enrollment]]:
        """``(total, records of the requested page)``; the caller holds the lock."""
        rows = self._by_updated
        low = 0 if q.update_gte is None else bisect.bisect_left(
            rows, q.update_gte, key=lambda e: e.updated_us)
        high = len(rows) if q.update_lte is None else bisect.bisect_right(
            rows, q.update_lte, key=lambda e: e.updated_us)
        high = max(low, high)
        windowed = q.update_gte is not None or q.update_lte is not None
        if q.sort == "updated_time" and not q.filtered:
            total = high - low
            if q.descending:
                first = high - q.offset
                page = rows[max(low, first - q.limit):max(low, first)][::-1]
            else:
                page = rows[low + q.offset:min(high, low + q.offset + q.limit)]
        elif q.sort == "created_time" and not q.filtered and not windowed:
            ordered = self._created_order()
            total = len(ordered)
            if q.descending:
                first = total - q.offset
                page = ordered[max(0, first - q.limit):max(0, first)][::-1]
            else:
                page = ordered[q.offset:q.offset + q.limit]
        else:
            matched = [e for e in rows[low:high] if q.matches(e)]
            if q.sort != "updated_time":
                matched.sort(key=self._sort_key(q.sort))
            if q.descending:
                matched.reverse()
            total = len(matched)
            page = matched[q.offset:q.offset + q.limit]
        return total, page

    def _created_order(self) -> list[Enrollment]:
        if self._by_created is None:
            self._by_created = sorted(self._active.values(), key=_created_key)
        return self._by_created

    @staticmethod
    def _sort_key(sort: str) -> Any:
        if sort == "created_time":
            return _created_key
        field = "due_us" if sort == "due_date" else "assign_us"
        # records without the date come last in ascending order, as a search engine does
        return lambda e: (getattr(e, field) is None, getattr(e, field) or 0, e.key)

    def enrollment(self, enrollment_id: str) -> dict[str, Any] | None:
        with self.lock:
            record = self._active.get(enrollment_id)
            return None if record is None else record.render()

    def _record(self, enrollment_id: str) -> Enrollment:
        record = self._active.get(enrollment_id)
        if record is None:
            raise KeyError(f"no listed enrollment {enrollment_id!r}")
        return record

    def _unindex(self, record: Enrollment) -> None:
        """Take a record out of the (updated_time, id) order: one bisect, one delete."""
        rows = self._by_updated
        at = bisect.bisect_left(rows, _updated_key(record), key=_updated_key)
        if at < len(rows) and rows[at] is record:
            del rows[at]

    def _set_updated(self, record: Enrollment, now_us: int) -> None:
        """Move a record to its new place in the (updated_time, id) order."""
        self._unindex(record)
        record.updated_us = truncate(now_us, record.style)
        bisect.insort(self._by_updated, record, key=_updated_key)

    def spread_updates(self, start_us: int, end_us: int) -> None:
        """Every listed enrollment updated at an instant spread evenly over ``[start, end)``,
        in id order: a bulk assignment touching them all in one day."""
        with self.lock:
            records = sorted(self._active.values(), key=lambda r: r.key)
            step = (end_us - start_us) / max(1, len(records))
            for i, record in enumerate(records):
                record.updated_us = truncate(start_us + int(i * step), record.style)
            self._by_updated = sorted(self._by_updated, key=_updated_key)

    def complete(self, enrollment_id: str, passed: bool | None, now_us: int) -> None:
        with self.lock:
            record = self._record(enrollment_id)
            now = truncate(now_us, record.style)
            record.status, record.passed = "completed", passed
            record.result = 100 if passed else 40 if passed is False else record.result
            record.start_us = now if record.start_us is None else record.start_us
            record.end_us = now
            self._set_updated(record, now_us)

    def start(self, lo_id: str, user_id: str, now_us: int, status: str = "in-progress") -> str:
        """A new self-directed enrollment; refuses a second listed one for the same pair."""
        with self.lock:
            if lo_id not in self.learning_objects:
                raise KeyError(f"no learning object {lo_id!r}")
            if user_id not in self.user_accounts:
                raise KeyError(f"no user account {user_id!r}")
            if (user_id, lo_id) in self._pairs:
                raise ValueError(f"user {user_id} already has enrollment "
                                 f"{self._pairs[(user_id, lo_id)]} for {lo_id}: use reenroll()")
            key, self._next_key = self._next_key, self._next_key + 1
            record = Enrollment(key, now_us, now_us, None, None, user_id, lo_id, status, None, 0,
                                "self-directed")
            if status in ("in-progress", "completed"):
                record.start_us = now_us
            record.settle()
            self._active[record.id] = record
            self._pairs[(user_id, lo_id)] = record.id
            bisect.insort(self._by_updated, record, key=_updated_key)
            self._by_created = None
            return record.id

    def reenroll(self, enrollment_id: str, now_us: int, status: str = "in-progress") -> str:
        """Archive an enrollment (it is no longer listed) and start a new one with a new id."""
        with self.lock:
            old = self._record(enrollment_id)
            self._unindex(old)
            del self._active[old.id]
            del self._pairs[(old.user, old.lo)]
            self._archived[old.id] = old
            self._by_created = None
            return self.start(old.lo, old.user, now_us, status)

    # users ----------------------------------------------------------------------------
    def user_page(self, limit: int, offset: int,
                  short: bool = True) -> tuple[int, list[dict[str, Any]]]:
        """``(total, hits)`` of ``GET /user-accounts``, in id order.

        Short hits are ``{"id", "status"}``, as public client fixtures show the list (no email:
        a client must read ``GET /user-accounts/{id}`` for that); long ones are the full account
        objects (copies). Built under the lock, so a concurrent email edit is never half seen.
        """
        with self.lock:
            page = self._users[offset:offset + limit]
            if not short:
                return len(self._users), copy.deepcopy(page)
            return len(self._users), [{"id": a["id"], "status": a["status"]} for a in page]

    def add_user(self, user_id: str, email: str | None, created: str) -> None:
        """A new active learner account (``email`` None: the account has none)."""
        person: dict[str, Any] = {"given_name": "New", "family_name": "Learner"}
        if email is not None:
            person["email"] = email
        account = {"id": user_id, "portal_id": PORTAL_ID, "status": "active",
                   "roles": ["Learner"], "created_time": created, "updated_time": created,
                   "user": person}
        with self.lock:
            if user_id in self.user_accounts:
                raise ValueError(f"user account {user_id!r} exists already")
            self.user_accounts[user_id] = account
            self._users.append(account)

    def user_account(self, user_id: str) -> dict[str, Any] | None:
        """A copy of the account ``GET /user-accounts/{id}`` serves, taken under the lock."""
        with self.lock:
            account = self.user_accounts.get(user_id)
            return None if account is None else copy.deepcopy(account)
