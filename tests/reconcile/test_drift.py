"""``reconcile`` against both sandboxes as cron and a person see it: the exit code says whether
something needs action, the first lines lead with it, JSON on stdout is one document, changes
since the previous reconcile are marked, and attempt rows name their course and learner."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from commands.extract import run_extract
from commands.transform import run_transform
from extract.streams import STREAMS
from go1sync.settings import load_config
from sandbox.l360 import L360Sandbox
from tests.helpers import run_cli, sync
from warehouse import open_warehouse

EXIT_DRIFT = 3  # what cron alerts on (go1sync.errors.EXIT_DRIFT), pinned here as documented


def synced(sync_env: dict[str, str]) -> None:
    assert sync(load_config(env=sync_env)).failed == 0


def live_courses(l360: L360Sandbox) -> list[str]:
    return sorted({e for (_, e), c in l360.courses.items() if not c["archived"]})


def course_name(l360: L360Sandbox, external_id: str) -> str:
    return str(next(c["name"] for (_, e), c in l360.courses.items() if e == external_id))


def test_exit_0_when_nothing_needs_action_and_3_on_drift(sync_env: dict[str, str],
                                                         l360: L360Sandbox) -> None:
    synced(sync_env)
    clean = run_cli("reconcile", env=sync_env)
    assert clean.returncode == 0, clean.stderr
    first = clean.stdout.splitlines()
    # the seeded Go1 data has content that is not synced and rejects: excluded, not drift
    assert first[0].startswith("reconciliation, run ")
    assert first[0].split(": ", 1)[1].startswith("nothing needs action; ")
    assert first[0].endswith(" excluded by design") and not first[0].endswith(": 0 excluded")
    assert first[1].startswith("profile: none · platform: http://127.0.0.1:")
    assert " · Go1 extracted: 20" in first[1] and " · 360Learning read back: 20" in first[1]
    assert first[3] == "needs action: 0"

    live = live_courses(l360)
    l360.archive_course(live[0])
    l360.edit_course(live[1], name="Renamed in 360Learning")
    drifted = run_cli("reconcile", env=sync_env)
    assert drifted.returncode == EXIT_DRIFT, drifted.stderr
    lines = drifted.stdout.splitlines()
    assert lines[0].split(": ", 1)[1].startswith("2 difference(s) need action; ")
    run_ids = [int(t.split(",")[1].split()[1].rstrip(":")) for t in (first[0], lines[0])]
    assert lines[3] == f"needs action: 2; since run {run_ids[0]}: 2 new, 0 resolved"
    assert lines[4] == "      1  Archived in 360Learning but published in Go1  [new]"
    assert lines[6] == "      1  Course fields differ  [new]"
    excluded = lines.index(next(line for line in lines if line.startswith("excluded by design")))
    assert excluded > 6  # after every needs-action line
    assert lines[excluded].endswith("; not drift: go1sync leaves these out on purpose")

    helped = run_cli("reconcile", "--help", env=sync_env)
    assert "Exit status: 0 when nothing needs action, 3 when something does" in " ".join(
        helped.stdout.split())


def test_json_without_out_is_one_document_on_stdout(sync_env: dict[str, str],
                                                   l360: L360Sandbox) -> None:
    synced(sync_env)
    l360.archive_course(live_courses(l360)[0])
    done = run_cli("reconcile", "--format", "json", env=sync_env)
    assert done.returncode == EXIT_DRIFT, done.stderr
    document = json.loads(done.stdout)  # all of stdout: nothing before or after it
    assert document["needs_action"]["total"] == 1
    assert document["needs_action"]["categories"] == ["archived_in_360_published_in_go1"]
    assert document["excluded"]["total"] > 0
    kinds = [c["kind"] for c in document["categories"]]
    assert kinds == sorted(kinds, key=lambda k: k != "needs_action")  # needs action first
    by_key = {c["category"]: c for c in document["categories"]}
    assert by_key["enrollment_of_unsynced_content"]["kind"] == "excluded"
    assert by_key["archived_in_360_published_in_go1"]["count"] == 1
    assert document["context"]["platform_url"] == sync_env["L360_API_URL"]
    assert document["previous_run_id"] is None  # the first reconcile of this warehouse


def test_new_and_resolved_since_the_previous_reconcile(sync_env: dict[str, str],
                                                      l360: L360Sandbox) -> None:
    synced(sync_env)
    live = live_courses(l360)
    kept, edited = live[0], live[1]
    name = course_name(l360, edited)
    l360.archive_course(kept)
    l360.edit_course(edited, name="Renamed in 360Learning")
    assert run_cli("reconcile", env=sync_env).returncode == EXIT_DRIFT

    l360.edit_course(edited, name=name)  # put back: resolved
    pair = sorted({(a["externalCourseId"], a["mail"]) for a in l360.attempts})[0]
    l360.delete_attempts(*pair)  # new
    second = run_cli("reconcile", "--format", "json", env=sync_env)
    assert second.returncode == EXIT_DRIFT, second.stderr
    by_key = {c["category"]: c for c in json.loads(second.stdout)["categories"]}
    assert (by_key["archived_in_360_published_in_go1"]["change"],
            by_key["course_fields_differ"]["change"],
            by_key["attempt_missing"]["change"]) == ("unchanged", "resolved (was 1)", "new")
    assert by_key["course_fields_differ"]["resolved_keys"] == [f"{edited} name"]
    assert [r["new"] for r in by_key["archived_in_360_published_in_go1"]["rows"]] == [False]
    assert all(r["new"] for r in by_key["attempt_missing"]["rows"])

    third = run_cli("reconcile", env=sync_env)  # nothing changed since: every line says so
    assert "      1  Archived in 360Learning but published in Go1  [unchanged]" in (
        third.stdout.splitlines())
    assert any(line.endswith("Attempt missing in 360Learning  [unchanged]")
               for line in third.stdout.splitlines())


def test_attempt_rows_name_the_course_and_the_learner_in_csv(
        sync_env: dict[str, str], l360: L360Sandbox, tmp_path: Path) -> None:
    synced(sync_env)
    pairs = sorted({(a["externalCourseId"], a["mail"]) for a in l360.attempts
                    if not a["completed"]})
    l360.edit_attempt(*pairs[0], progress=70)
    l360.delete_attempts(*pairs[1])
    out = tmp_path / "csv"
    done = run_cli("reconcile", "--format", "csv", "--out", str(out), env=sync_env)
    assert done.returncode == EXIT_DRIFT, done.stderr
    assert done.stdout.splitlines()[-1] == f"wrote 13 CSV file(s) and summary.csv in {out}"
    con = open_warehouse(sync_env["GO1SYNC_WAREHOUSE"])
    titles = dict(con.execute("SELECT external_id, name FROM marts.content_360").fetchall())
    con.close()
    for category, (course, email) in (("attempt_values_differ", pairs[0]),
                                      ("attempt_missing", pairs[1])):
        with (out / f"{category}.csv").open(newline="", encoding="utf-8") as file:
            rows = list(csv.DictReader(file))
        assert [(r["course_title"], r["user_email"]) for r in rows] == [
            (titles[course], email.strip().lower())], category
        assert "new" not in rows[0]  # a first reconcile: nothing to be new against
    with (out / "summary.csv").open(newline="", encoding="utf-8") as file:
        summary = list(csv.DictReader(file))
    kinds = [r["kind"] for r in summary]
    assert kinds == ["needs_action"] * 10 + ["excluded"] * 3
    assert [int(r["severity"]) for r in summary] == sorted(int(r["severity"]) for r in summary)


def test_a_row_360learning_refused_needs_action(sync_env: dict[str, str],
                                                l360: L360Sandbox) -> None:
    config = load_config(env=sync_env)
    assert run_extract(config, list(STREAMS)).ok
    run_transform(config)
    con = open_warehouse(sync_env["GO1SYNC_WAREHOUSE"])
    row = con.execute("SELECT min(external_id) FROM marts.content_360 WHERE NOT archived"
                      ).fetchone()
    con.close()
    assert row is not None
    refused = str(row[0])
    l360.faults_360.item_error(refused, "Invalid course: refused by the sandbox.")
    assert run_cli("push", env=sync_env).returncode == 1
    done = run_cli("reconcile", "--format", "json", env=sync_env)
    assert done.returncode == EXIT_DRIFT, done.stderr
    by_key = {c["category"]: c for c in json.loads(done.stdout)["categories"]}
    [found] = by_key["refused_by_360learning"]["rows"]
    assert found["go1_key"] == refused and found["course_title"]
    assert "refused by the sandbox" in found["detail"]
    assert by_key["refused_by_360learning"]["kind"] == "needs_action"
