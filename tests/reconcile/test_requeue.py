"""``reconcile --requeue``: which rows the next push sends again, as the seed's column says.

No API here: the differences are written by hand, so each category's effect on the pushed
snapshot is pinned, including the ones a push cannot repair.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest

from reconcile.requeue import requeue_differences
from warehouse import open_warehouse
from warehouse.models import load_project
from warehouse.transform import MODELS_DIR

COURSE = {"course_missing", "archived_in_360_published_in_go1", "live_in_360_archived_in_go1",
          "course_fields_differ"}
ATTEMPT = {"attempt_missing", "attempt_values_differ", "open_in_360_completed_in_go1"}


@pytest.fixture
def con(tmp_path: Path) -> duckdb.DuckDBPyConnection:
    """A migrated warehouse with the real seed and a hand-written ``reconcile.differences``."""
    con = open_warehouse(tmp_path / "w.duckdb")
    con.execute("CREATE SCHEMA IF NOT EXISTS seeds")
    con.execute("CREATE SCHEMA IF NOT EXISTS reconcile")
    project = load_project(MODELS_DIR, variables={"portal_url": "https://example.mygo1.com",
                                                  "fallback_language": "en"})
    con.execute(project.model("reconcile_categories").sql)  # the seed, as a run loads it
    con.execute("CREATE TABLE reconcile.differences (category VARCHAR, go1_key VARCHAR)")
    return con


def test_the_seed_says_which_categories_a_push_repairs(con: duckdb.DuckDBPyConnection) -> None:
    found = dict(con.execute(
        "SELECT category, requeue FROM seeds.reconcile_categories").fetchall())
    assert {k for k, v in found.items() if v == "course"} == COURSE
    assert {k for k, v in found.items() if v == "attempt"} == ATTEMPT
    assert set(found.values()) == {"course", "attempt", None}  # no value requeues nothing


def test_requeue_marks_courses_and_drops_attempts_by_category(
        con: duckdb.DuckDBPyConnection) -> None:
    now = datetime.now(UTC)
    courses = {"c1": True, "c2": False, "c3": True, "c4": False, "c5": False, "c6": False,
               "c7": False}  # external_id -> archived in the pushed snapshot
    for external_id, archived in courses.items():
        con.execute("INSERT INTO meta.pushed_courses BY NAME SELECT ? AS external_id, "
                    "'h' AS payload_hash, ? AS archived, 1 AS run_id, ? AS confirmed_at",
                    [external_id, archived, now])
    for enrollment in ("e1", "e2", "e3", "e4", "e5"):
        con.execute("INSERT INTO meta.pushed_attempts BY NAME SELECT ? AS go1_enrollment_id, "
                    "'h' AS payload_hash, 'c1' AS external_course_id, 'a@example.com' AS "
                    "user_email, 'open' AS attempt_state, 1 AS run_id, ? AS confirmed_at",
                    [enrollment, now])
    con.executemany("INSERT INTO reconcile.differences VALUES (?, ?)", [
        ("course_missing", "c1"),
        ("archived_in_360_published_in_go1", "c2"),
        ("live_in_360_archived_in_go1", "c3"),
        ("course_fields_differ", "c4"),
        ("scorm_twin", "c5"),  # not a push's to repair
        ("course_fields_differ", "c7"), ("archived_in_360_published_in_go1", "c7"),
        ("attempt_missing", "e1"),
        ("attempt_values_differ", "e2"),
        ("open_in_360_completed_in_go1", "e3"),
        ("multiple_attempts_per_enrollment", "e4"),  # kept: go1sync never sends forceNew
    ])

    assert requeue_differences(con) == 5 + 3

    after = {k: (h, a) for k, h, a in con.execute(
        "SELECT external_id, payload_hash, archived FROM meta.pushed_courses").fetchall()}
    assert after == {
        "c1": ("requeued", False), "c2": ("requeued", True),  # archived, so the push restores
        "c3": ("requeued", False), "c4": ("requeued", False),
        "c5": ("h", False), "c6": ("h", False), "c7": ("requeued", True),
    }
    kept = {k for (k,) in con.execute(
        "SELECT go1_enrollment_id FROM meta.pushed_attempts").fetchall()}
    assert kept == {"e4", "e5"}
