"""What `run`, `transform`, `plan` and `status` print, line by line: counts in words, rejects
said as rejects, archived content never pushed said as such, and `-v` after the command."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from sandbox.go1 import Go1Sandbox
from tests.helpers import run_cli as cli
from warehouse import open_warehouse


def counted(env: dict[str, str], sql: str) -> list[tuple[Any, ...]]:
    con = open_warehouse(env["GO1SYNC_WAREHOUSE"], read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def section(out: str, heading: str) -> list[str]:
    """The lines of ``run``'s output under one heading, up to the next."""
    lines = out.splitlines()
    start = lines.index(heading) + 1
    end = next((n for n in range(start, len(lines)) if not lines[n].startswith("  ")),
               len(lines))
    return lines[start:end]


def reject_lines(env: dict[str, str], indent: str) -> list[str]:
    rejects = counted(env, "SELECT entity, reason, count(*) FROM marts.rejects GROUP BY ALL "
                           "ORDER BY 3 DESC, 1, 2")
    total = sum(n for *_, n in rejects)
    return [f"{indent}{total:,} record(s) not mapped (marts.rejects), by reason:",
            *(f"{indent}  {n:>9,}  {e:<16} {r}" for e, r, n in rejects)]


def test_run_prints_counts_in_words_and_the_plan_adds_up(sync_env: dict[str, str]) -> None:
    result = cli("run", env=sync_env)
    assert result.returncode == 0, result.stderr
    assert "{" not in result.stdout  # no Python dict, anywhere
    assert "differences" not in result.stdout  # the mapping's rejects are told as rejects
    ((courses, attempts),) = counted(sync_env, "SELECT (SELECT count(*) FROM marts.content_360),"
                                               " (SELECT count(*) FROM marts.attempts_360)")
    assert section(result.stdout, "transform") == [
        f"  {courses:,} courses, {attempts:,} attempts mapped", *reject_lines(sync_env, "  ")]
    pushed = {line.split()[0]: int(line.split()[1].replace(",", ""))
              for line in section(result.stdout, "push")[1:]}
    shares = pushed["share_catalog"] + pushed["share_library"]
    assert section(result.stdout, "plan") == [
        f"  courses: {pushed['course_upsert']:,} to add; attempts: {pushed['attempt']:,} new; "
        f"shares: {shares:,} to share; {sum(pushed.values()):,} row(s) to send"]

    status = cli("status", "--runs", "1", env=sync_env)
    (run_line,) = [line for line in status.stdout.splitlines() if " run  " in line]
    assert run_line.endswith(f"{courses:,} courses, {attempts:,} attempts mapped; "
                             f"pushed {sum(pushed.values()):,} ok")


def test_a_dry_run_records_its_plan_in_words(sync_env: dict[str, str]) -> None:
    result = cli("run", "--dry-run", env=sync_env)
    assert result.returncode == 0, result.stderr
    ((adds, new),) = counted(sync_env, "SELECT (SELECT count(*) FROM outbound.course_changes "
                                       "WHERE operation = 'add'), (SELECT count(*) FROM "
                                       "outbound.attempt_changes WHERE planned)")
    status = cli("status", env=sync_env)
    (run_line,) = [line for line in status.stdout.splitlines() if " run  " in line]
    assert run_line.endswith(f"; planned: courses ({adds:,} to add), attempts ({new:,} new)")


def test_transform_tells_rejects_by_reason_and_names_reconcile_models(
        sync_env: dict[str, str]) -> None:
    assert cli("extract", env=sync_env).returncode == 0
    result = cli("transform", env=sync_env)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    names = [line.split()[0] for line in lines[1:] if line.split()[1:2] in
             (["seed"], ["table"], ["view"])]
    assert "reconcile.differences" in names and "marts.rejects" in names
    assert all("." in name for name in names)
    rejects = reject_lines(sync_env, "")
    at = lines.index(rejects[0])
    assert lines[at:at + len(rejects)] == rejects
    assert lines[-1].endswith("audits passed · run 2 · warehouse " + sync_env["GO1SYNC_WAREHOUSE"])


def test_plan_says_archived_content_never_pushed_is_not_sent(sync_env: dict[str, str]) -> None:
    assert cli("extract", env=sync_env).returncode == 0
    assert cli("transform", env=sync_env).returncode == 0
    ((archived,),) = counted(sync_env, "SELECT count(*) FROM marts.content_360 WHERE archived")
    assert archived > 0
    assert counted(sync_env, "SELECT operation, count(*) FROM outbound.course_changes "
                             "WHERE operation IN ('never_pushed', 'unchanged') GROUP BY 1") \
        == [("never_pushed", archived)]
    result = cli("plan", env=sync_env)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert "unchanged: 0 course(s), 0 attempt(s)" in lines
    assert (f"not sent (never pushed): {archived:,} course(s) archived in Go1 before they were "
            "ever pushed") in lines
    # after the push: the live courses are unchanged, the archived ones still never pushed
    assert cli("push", env=sync_env).returncode == 0
    ((live,),) = counted(sync_env, "SELECT count(*) FROM marts.content_360 WHERE NOT archived")
    after = cli("plan", env=sync_env).stdout.splitlines()
    assert [line for line in after if line.startswith("unchanged: ")][0].startswith(
        f"unchanged: {live:,} course(s), ")
    assert (f"not sent (never pushed): {archived:,} course(s) archived in Go1 before they were "
            "ever pushed") in after
    assert after[-1] == "nothing would be sent"


@pytest.mark.parametrize("where", ["before", "after"])
def test_verbose_works_before_or_after_the_command(where: str, go1: Go1Sandbox,
                                                   go1_env: dict[str, str]) -> None:
    go1.faults.add("429", path="/learning-objects", retry_after=0)
    command = ("extract", "--stream", "learning_objects")
    args = ("-v", *command) if where == "before" else (*command, "-v")
    result = cli(*args, env=go1_env)
    assert result.returncode == 0, result.stderr
    assert len([line for line in result.stderr.splitlines() if "trying again" in line]) == 1


def test_messages_name_the_command_as_the_user_called_it(tmp_path: Path) -> None:
    """Lower layers write `python cli.py X`; someone who installed go1sync types `go1sync X`."""
    installed = Path(sys.executable).with_name("go1sync")
    if not installed.exists():
        pytest.skip("no go1sync script beside this interpreter (not pip-installed)")
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("GO1_", "GO1SYNC_", "L360_"))}
    env["GO1SYNC_WAREHOUSE"] = str(tmp_path / "none.duckdb")
    as_installed = subprocess.run([str(installed), "plan"], env=env, cwd=tmp_path,
                                  capture_output=True, text=True, timeout=60)
    assert as_installed.returncode != 0
    assert "run `go1sync extract` first" in as_installed.stderr, as_installed.stderr
    from_checkout = cli("plan", env={"GO1SYNC_WAREHOUSE": env["GO1SYNC_WAREHOUSE"]})
    assert "run `python cli.py extract` first" in from_checkout.stderr, from_checkout.stderr
