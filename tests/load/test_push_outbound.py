"""plan and push read one relation (models/outbound/): what plan counts is what push sends."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from commands.extract import run_extract
from commands.push import run_push
from commands.transform import run_transform
from extract.streams import STREAMS
from go1sync.settings import Config, load_config
from load.changes import make_plan
from sandbox.go1 import Go1Sandbox, Go1Seed
from sandbox.l360 import L360Sandbox
from sandbox.learners import learner_emails
from tests.helpers import run_cli, sync
from warehouse.connection import connect


@pytest.fixture
def go1() -> Iterator[Go1Sandbox]:
    with Go1Sandbox(Go1Seed(seed=19, learning_objects=70, users=25, enrollments=300)) as sb:
        yield sb


def planned(config: Config) -> tuple[dict[str, set[str]], int]:
    """What the outbound relations say the next push writes, by ledger kind; plan's count."""
    con = connect(config.warehouse_path(), read_only=True)
    try:
        rows = {
            "course_upsert": "SELECT key FROM outbound.course_changes WHERE upsert",
            "course_archive": "SELECT key FROM outbound.course_changes WHERE archive",
            "course_restore": "SELECT key FROM outbound.course_changes "
                              "WHERE operation = 'restore'",
            "attempt": "SELECT key FROM outbound.attempt_changes WHERE planned",
        }
        keys = {kind: {str(k) for (k,) in con.execute(sql).fetchall()}
                for kind, sql in rows.items()}
        return keys, make_plan(con).writes
    finally:
        con.close()


def pushed(config: Config, run_id: int) -> dict[str, set[str]]:
    con = connect(config.warehouse_path(), read_only=True)
    try:
        found: dict[str, set[str]] = {}
        for kind, key in con.execute("SELECT kind, key FROM meta.push_ledger WHERE run_id = ? "
                                     "AND status <> 'rejected'", [run_id]).fetchall():
            found.setdefault(str(kind), set()).add(str(key))
        return found
    finally:
        con.close()


def test_the_plan_and_the_push_send_exactly_the_same_rows(go1: Go1Sandbox,
                                                           tmp_path: Path) -> None:
    emails = learner_emails(go1)
    with L360Sandbox(learner_emails=emails[1:]) as l360:  # one learner without an account
        config = load_config(env={**go1.env(), **l360.env(),
                                  "GO1SYNC_WAREHOUSE": str(tmp_path / "w.duckdb")})
        assert sync(config).failed == 0  # the user list is read: learners are matched
        live = sorted(e for (_, e), c in l360.courses.items() if not c["archived"])
        go1.retire(live[0])  # an archive
        assert sync(config).failed == 0
        go1.publish(live[0])  # a restore
        go1.edit_title(live[1], "A new title")  # a change
        go1.retire(live[2])  # an archive
        started = [e for e, v in go1.enrollments.items() if v["status"] == "in-progress"]
        for enrollment_id in started[:5]:  # closed attempts
            go1.complete_enrollment(enrollment_id)
        assert run_extract(config, list(STREAMS)).ok
        run_transform(config)

        keys, writes = planned(config)
        assert keys["course_upsert"] and keys["course_archive"] and keys["course_restore"]
        assert keys["attempt"]
        report = run_push(config)
        sent = pushed(config, report.run_id)
        assert sent == {kind: k for kind, k in keys.items() if k}
        assert writes == sum(len(k) for k in sent.values())


def test_a_rejects_error_stays_on_its_own_course_across_20_runs(go1: Go1Sandbox,
                                                                tmp_path: Path) -> None:
    published = sorted(lo for lo in go1.library
                       if go1.learning_objects[lo]["lifecycle"]["state"] == "published"
                       and go1.learning_objects[lo]["core"]["type"] == "course")[:4]
    for n, lo_id in enumerate(published):  # no author, no provider: no sources to send
        doc = go1.learning_objects[lo_id]
        doc["relevance"] = {k: v for k, v in doc["relevance"].items() if k != "author"}
        doc["provider"] = {k: v for k, v in doc["provider"].items() if k != "name"}
        go1.edit_title(lo_id, f"Unsendable course {n}")
    with L360Sandbox(learner_emails=learner_emails(go1)) as l360:
        config = load_config(env={**go1.env(), **l360.env(),
                                  "GO1SYNC_WAREHOUSE": str(tmp_path / "w.duckdb")})
        assert run_extract(config, list(STREAMS)).ok
        run_transform(config)
        con = connect(config.warehouse_path(), read_only=True)
        rejects = dict(con.execute("SELECT go1_key, detail FROM marts.rejects "
                                   "WHERE reason = 'invalid_payload'").fetchall())
        con.close()
        assert set(rejects) == set(published)  # the one registry of what is not sent
        for _ in range(20):
            report = run_push(config)
            assert report.pushed is not None
            assert report.pushed.count("course_upsert").rejected == len(published)
            con = connect(config.warehouse_path(), read_only=True)
            errors = dict(con.execute(
                "SELECT key, error FROM meta.push_ledger WHERE run_id = ? AND status = "
                "'rejected'", [report.run_id]).fetchall())
            con.close()
            for n, lo_id in enumerate(published):
                assert f'"Unsendable course {n}"' in errors[lo_id] == rejects[lo_id]
        assert not {e for _, e in l360.courses} & set(published)


# Three groups: the first hosts the integration, the two others receive every course in their
# catalog and their library (4 shares a course).
GROUPS = ("5f0c0ffee0000000000000a1", "5f0c0ffee0000000000000b2", "5f0c0ffee0000000000000c3")


def plan_total(stdout: str) -> tuple[str, int]:
    """The plan's last line, and the total it gives."""
    last = stdout.splitlines()[-1]
    return last, int(last.split()[0].replace(",", ""))


def plan_rows(stdout: str) -> dict[tuple[str, str], int]:
    """plan's table: (kind, operation) -> rows, read by column (the widths follow the
    content)."""
    rows = {}
    for line in stdout.splitlines():
        parts = line.split()
        if len(parts) >= 3 and parts[0] in ("course", "attempt", "share") \
                and parts[2].replace(",", "").isdigit():
            rows[(parts[0], parts[1])] = int(parts[2].replace(",", ""))
    return rows


def push_table(stdout: str) -> dict[str, list[int]]:
    """push's table: kind -> [sent, ok, failed, rejected]."""
    lines = stdout.splitlines()
    start = next(n for n, line in enumerate(lines) if line.split()[:2] == ["kind", "sent"])
    table = {}
    for line in lines[start + 1:]:
        cells = line.split()
        if len(cells) != 5 or not all(c.replace(",", "").isdigit() for c in cells[1:]):
            break
        table[cells[0]] = [int(c.replace(",", "")) for c in cells[1:]]
    return table


def test_the_plan_total_is_what_push_sends_sharing_included(go1: Go1Sandbox,
                                                             tmp_path: Path) -> None:
    with L360Sandbox(learner_emails=learner_emails(go1), group_ids=GROUPS) as l360:
        env = {**go1.env(), **l360.env(), "GO1SYNC_WAREHOUSE": str(tmp_path / "w.duckdb")}
        config = load_config(env=env)
        assert run_extract(config, list(STREAMS)).ok
        run_transform(config)

        # a fresh sync: no share recorded yet, and no course with a 360Learning id
        planned = run_cli("plan", env=env)
        assert planned.returncode == 0, planned.stderr
        lines = planned.stdout.splitlines()
        table_rows = plan_rows(planned.stdout)
        adds, attempts = table_rows[("course", "add")], table_rows[("attempt", "new")]
        assert table_rows[("share", "add")] == 4 * adds
        assert f"{4 * adds:,} of the shares are of courses this push adds: sent once " \
               "360Learning gives their ids" in lines
        last, total = plan_total(planned.stdout)
        assert last == (f"{adds + attempts + 4 * adds:,} row(s) would be sent: "
                        f"{adds + attempts:,} course and attempt row(s), {4 * adds:,} share(s)")
        pushed = run_cli("push", env=env)
        assert pushed.returncode == 0, pushed.stderr
        table = push_table(pushed.stdout)
        assert table["share_catalog"] == table["share_library"] == [2 * adds, 2 * adds, 0, 0]
        assert sum(sent for sent, *_ in table.values()) == total
        for group in GROUPS[1:]:
            assert len(l360.catalog[group]) == len(l360.library[group]) == adds

        # then: a course archived before any push is published (an add, shared too), another
        # retired (an archive), and the third group leaves the settings (its shares removed)
        con = connect(config.warehouse_path(), read_only=True)
        (never_pushed,) = con.execute(
            "SELECT min(c.key) FROM outbound.course_changes AS c JOIN marts.content_360 AS m "
            "ON m.external_id = c.key WHERE c.operation = 'never_pushed' "
            "AND m.archived_reason = 'retired'").fetchone() or (None,)
        con.close()
        assert never_pushed is not None
        go1.publish(never_pushed)
        go1.retire(sorted(e for _, e in l360.courses)[0])
        assert run_extract(config, list(STREAMS)).ok
        run_transform(config)
        two_groups = {**env, "L360_GROUP_IDS": ",".join(GROUPS[:2])}
        planned = run_cli("plan", env=two_groups)
        assert planned.returncode == 0, planned.stderr
        lines = planned.stdout.splitlines()
        # the new course: 2 shares (one group left); the third group's 2 shares of every course
        # 360Learning holds: removed (the archived one stays shared, as it was)
        assert plan_rows(planned.stdout)[("share", "add")] == 2
        assert plan_rows(planned.stdout)[("share", "remove")] == 2 * adds
        _, total = plan_total(planned.stdout)
        pushed = run_cli("push", env=two_groups)
        assert pushed.returncode == 0, pushed.stderr
        table = push_table(pushed.stdout)
        assert table["course_upsert"][0] == 1 and table["course_archive"][0] == 1
        assert sum(sent for sent, *_ in table.values()) == total
        assert not l360.catalog.get(GROUPS[2]) and not l360.library.get(GROUPS[2])
        assert run_cli("plan", env=two_groups).stdout.splitlines()[-1] == "nothing would be sent"
