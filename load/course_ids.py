"""360Learning's id of each pushed course, which sharing and restoring need.

A course upsert's results give a ``resourceId``, documented only as "the unique ID of the
impacted resource". Whether that is the course's ``courseId`` is checked once per platform,
after the first upsert, against ``GET /api/v2/integrations/{id}/courses/{externalId}`` (which
answers the course with its ``courseId``), and the answer is remembered in
``meta.api_readings``. Where it holds, every later resourceId is taken as the course id; where
it does not, each new course's id is read with that same call (50 reads a second).
"""

from __future__ import annotations

import logging
from typing import Any

import duckdb

from apiclient.paths import segment
from load.client import L360Client
from load.errors import LoadError
from warehouse.readings import get_reading, set_reading

log = logging.getLogger("go1sync.load")

READING = "resource_id_is_course_id"
_UNKNOWN_COURSE = {(400, "courseNotBelongToIntegration"), (404, "courseNotFound"),
                   (404, "externalCourseNotFound")}


def external_course(client: L360Client, integration_id: str,
                    external_id: str) -> dict[str, Any] | None:
    """One course of the integration, or None when 360Learning says it has no such course.

    The OpenAPI's only 404 for this call is ``integrationNotFound``: that is an error (a
    deleted integration, a warehouse pushing to the wrong one), not a missing course.
    """
    path = f"/api/v2/integrations/{segment(integration_id)}/courses/{segment(external_id)}"
    try:
        data = client.get(path).data
    except LoadError as exc:
        if (exc.status, exc.code) in _UNKNOWN_COURSE:
            return None
        if exc.status == 404:
            raise LoadError(
                f"360Learning does not know the integration {integration_id} this warehouse "
                f"pushed to ({exc}): it was deleted, or L360_API_URL names another platform",
                status=404, code=exc.code) from None
        raise
    if not isinstance(data, dict):
        raise LoadError(f"360Learning answered GET {path} without a course object")
    return data


def settle_course_ids(con: duckdb.DuckDBPyConnection, client: L360Client,
                      integration_id: str, run_id: int) -> int:
    """Give every pushed course its 360Learning id; return how many were read one by one."""
    api = client.api_url
    reading = get_reading(con, "l360", api, READING)
    if reading is None:
        reading = _confirm(con, client, integration_id, run_id)
        if reading is None:
            return 0  # nothing pushed with a resourceId yet
    if reading == "true":
        con.execute("UPDATE meta.pushed_courses SET course_id = resource_id "
                    "WHERE course_id IS NULL AND resource_id IS NOT NULL")
        return 0
    unresolved = [str(r[0]) for r in con.execute(
        "SELECT external_id FROM meta.pushed_courses WHERE course_id IS NULL "
        "ORDER BY external_id").fetchall()]
    for external_id in unresolved:
        course = external_course(client, integration_id, external_id)
        course_id = course.get("courseId") if course else None
        if course_id:
            con.execute("UPDATE meta.pushed_courses SET course_id = ? WHERE external_id = ?",
                        [str(course_id), external_id])
        else:
            log.warning("360Learning does not list course %s in integration %s: its id stays "
                        "unknown", external_id, integration_id)
    return len(unresolved)


def _confirm(con: duckdb.DuckDBPyConnection, client: L360Client, integration_id: str,
             run_id: int) -> str | None:
    """Compare one course's resourceId with the courseId 360Learning gives it; remember it.

    Course ids taken from resourceIds before this check (a warehouse older than it) are
    dropped when the check fails, to be read again one by one.
    """
    sample = con.execute(
        "SELECT external_id, resource_id FROM meta.pushed_courses WHERE resource_id IS NOT NULL "
        "ORDER BY run_id DESC, external_id LIMIT 1").fetchone()
    if sample is None:
        return None
    external_id, resource_id = str(sample[0]), str(sample[1])
    course = external_course(client, integration_id, external_id)
    if course is None or not course.get("courseId"):
        return None  # the course is gone: ask again with another one next time
    holds = str(course["courseId"]) == resource_id
    value = "true" if holds else "false"
    detail = (f"course {external_id}: resourceId {resource_id} "
              f"{'is' if holds else 'is not'} its courseId {course['courseId']}")
    set_reading(con, "l360", client.api_url, READING, value, detail, run_id)
    if not holds:
        con.execute("UPDATE meta.pushed_courses SET course_id = NULL "
                    "WHERE course_id = resource_id")
    log.info("resourceId of a course upsert: %s", detail)
    return value
