"""``reconcile --requeue``: make the next push send the differing rows again.

Which categories a push can repair is data, the ``requeue`` column of the seed
``models/seeds/reconcile_categories.csv``: ``course`` (the course's row in the pushed snapshot
is marked changed), ``attempt`` (the attempt leaves the snapshot, so it is sent again) or empty
(nothing a push can do: a missing user, a rejected row, a SCORM twin). The push's own diff then
does the rest; nothing is sent from here.
"""

from __future__ import annotations

import duckdb

#: The one course category repaired by archiving in the snapshot rather than by an upsert: the
#: course is live in Go1, so a snapshot that says "archived" makes the push restore it.
RESTORE_CATEGORY = "archived_in_360_published_in_go1"


def requeue_differences(con: duckdb.DuckDBPyConnection) -> int:
    """Mark the differing courses and attempts for the next push; return how many rows."""
    # A course archived in 360Learning but published in Go1 is marked archived, so the push
    # restores it (an upsert alone does not); the others are marked live, so a course live
    # there but archived in Go1 is archived again and the rest are upserted.
    courses = con.execute(
        "UPDATE meta.pushed_courses AS p SET payload_hash = 'requeued', "
        "archived = d.restore "
        "FROM (SELECT go1_key, bool_or(category = $restore) AS restore "
        "      FROM reconcile.differences "
        "      WHERE category IN (SELECT category FROM seeds.reconcile_categories "
        "                         WHERE requeue = 'course') GROUP BY go1_key) AS d "
        "WHERE p.external_id = d.go1_key RETURNING 1",
        {"restore": RESTORE_CATEGORY}).fetchall()
    attempts = con.execute(
        "DELETE FROM meta.pushed_attempts WHERE go1_enrollment_id IN "
        "(SELECT go1_key FROM reconcile.differences WHERE category IN "
        " (SELECT category FROM seeds.reconcile_categories WHERE requeue = 'attempt')) "
        "RETURNING 1").fetchall()
    return len(courses) + len(attempts)
