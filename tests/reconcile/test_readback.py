"""Reading 360Learning back: what lands in raw.l360_* after a push."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from go1sync.settings import load_config
from load.client import L360Client
from load.errors import LoadError
from reconcile.readback import read_back
from sandbox.l360 import L360Sandbox
from tests.helpers import sync
from warehouse import open_warehouse


def test_read_back_lands_courses_attempts_and_users(sync_env: dict[str, str],
                                                    l360: L360Sandbox) -> None:
    config = load_config(env=sync_env)
    assert sync(config).failed == 0

    con = open_warehouse(config.warehouse_path())
    row = con.execute("SELECT integration_id FROM meta.push_target").fetchone()
    assert row is not None
    # a course the snapshot believes in but 360Learning does not know
    con.execute("INSERT INTO meta.pushed_courses BY NAME SELECT '999999' AS external_id, "
                "'x' AS payload_hash, false AS archived, 1 AS run_id, ? AS confirmed_at",
                [datetime.now(UTC)])
    with L360Client(config.l360()) as client:
        result = read_back(con, client, str(row[0]), run_id=99)

    found = dict(con.execute("SELECT found, count(*) FROM raw.l360_integration_courses "
                             "GROUP BY 1").fetchall())
    assert found == {True: len(l360.courses), False: 1}
    assert con.execute("SELECT count(*) FROM raw.l360_course_stats").fetchone() == (
        len(l360.attempts),)
    assert result.counts["users"] == len(l360.users)
    assert con.execute("SELECT count(*) FROM raw.l360_courses").fetchone() == (
        len(l360.courses),)
    mails = {m for (m,) in con.execute("SELECT mail FROM raw.l360_users").fetchall()}
    assert set(l360.users) <= mails


def test_an_unknown_integration_is_an_error_not_missing_courses(
        sync_env: dict[str, str], l360: L360Sandbox) -> None:
    """The read-back's only documented 404 is integrationNotFound: every course "missing"
    would be a false report."""
    config = load_config(env=sync_env)
    assert sync(config).failed == 0
    con = open_warehouse(config.warehouse_path())
    with L360Client(config.l360()) as client, pytest.raises(LoadError) as raised:
        read_back(con, client, "aaaaaaaaaaaaaaaaaaaaaaaa", run_id=99)
    assert "does not know the integration aaaaaaaaaaaaaaaaaaaaaaaa" in str(raised.value)
    assert "integrationNotFound" in str(raised.value)
    assert con.execute("SELECT count(*) FROM raw.l360_integration_courses").fetchone() == (0,)


def test_an_external_id_with_path_characters_is_read_as_one_segment(
        sync_env: dict[str, str], l360: L360Sandbox) -> None:
    """An id pasted raw once sent authenticated GETs to /api/v2/users?mail[eq]=… and stored
    the answers as courses."""
    config = load_config(env=sync_env)
    assert sync(config).failed == 0
    con = open_warehouse(config.warehouse_path())
    row = con.execute("SELECT integration_id FROM meta.push_target").fetchone()
    assert row is not None
    tricky = "../../users?mail[eq]=a@b.c#x"
    con.execute("INSERT INTO meta.pushed_courses BY NAME SELECT ? AS external_id, "
                "'x' AS payload_hash, false AS archived, 1 AS run_id, ? AS confirmed_at",
                [tricky, datetime.now(UTC)])
    l360.clear_requests()
    with L360Client(config.l360()) as client:
        read_back(con, client, str(row[0]), run_id=99)
    asked = [r.path for r in l360.requests if r.method == "GET"]
    assert f"/api/v2/integrations/{row[0]}/courses/{tricky}" in asked  # one segment, decoded
    assert not [r for r in l360.requests if r.path == "/api/v2/users" and r.query]
    assert con.execute("SELECT found FROM raw.l360_integration_courses WHERE external_id = ?",
                       [tricky]).fetchall() == [(False,)]
