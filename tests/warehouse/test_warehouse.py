"""Warehouse: migrations once, schemas, run records, the run lock and its message."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import duckdb
import pytest

from warehouse import RunLock, WarehouseError, open_warehouse
from warehouse.connection import transaction
from warehouse.migrations import MIGRATIONS_DIR, apply_migrations, available_migrations
from warehouse.session import run_session


def test_run_counts_recorded_before_one_shape_are_keyed_by_their_stage(tmp_path: Path) -> None:
    """Migration 0013: a single-stage command's counts move under its stage's key; a run's
    (already keyed) and a new record's are left as they are."""
    before = tmp_path / "before"
    before.mkdir()
    for migration in MIGRATIONS_DIR.glob("*.sql"):
        if int(migration.name[:4]) < 13:
            shutil.copy(migration, before)
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    apply_migrations(con, before)
    old = {"extract": {"enrollments": {"read": 5}}, "transform": {"content_360": 3},
           "push": {"attempt": {"sent": 2}}, "reconcile": {"attempt_missing": 1},
           "run": {"extract": {}, "push": {}}, "status": None}
    for n, (command, counts) in enumerate(old.items(), start=1):
        con.execute("INSERT INTO meta.runs (run_id, command, started_at, status, counts) "
                    "VALUES (?, ?, now(), 'success', ?)",
                    [n, command, None if counts is None else json.dumps(counts)])
    con.execute("INSERT INTO meta.runs (run_id, command, started_at, status, counts) VALUES "
                "(9, 'push', now(), 'success', '{\"push\": {\"attempt\": {\"sent\": 4}}}')")
    apply_migrations(con)
    found = {command: None if counts is None else json.loads(counts) for command, counts in
             con.execute("SELECT command, counts FROM meta.runs WHERE run_id < 9").fetchall()}
    already = con.execute("SELECT counts FROM meta.runs WHERE run_id = 9").fetchone()
    con.close()
    assert found == {"extract": {"extract": old["extract"]},
                     "transform": {"transform": old["transform"]},
                     "push": {"push": old["push"]}, "reconcile": {"reconcile": old["reconcile"]},
                     "run": old["run"], "status": None}
    assert already is not None and json.loads(already[0]) == {"push": {"attempt": {"sent": 4}}}


def test_opening_applies_migrations_once(tmp_path: Path) -> None:
    path = tmp_path / "w.duckdb"
    open_warehouse(path).close()
    con = open_warehouse(path)
    applied = con.execute("SELECT version, name FROM meta.schema_migrations").fetchall()
    assert applied == [(m.version, m.name) for m in available_migrations()]
    assert applied[0] == (1, "init")
    schemas = {r[0] for r in con.execute(
        "SELECT schema_name FROM information_schema.schemata").fetchall()}
    assert {"raw", "staging", "marts", "meta"} <= schemas
    assert con.execute("SELECT current_setting('TimeZone')").fetchone() == ("UTC",)
    limit = con.execute("SELECT current_setting('memory_limit')").fetchone()
    assert limit is not None and limit[0] in ("244.1 MiB", "256.0 MB")  # 256MB, as DuckDB says it


@pytest.mark.parametrize(("limit", "most"), [("128MB", 1), ("200MiB", 1), ("256MB", 2),
                                             ("1GB", 7), ("1GiB", 8)])
def test_duckdb_gets_a_thread_per_128_mb_of_its_limit(tmp_path: Path, limit: str,
                                                      most: int) -> None:
    """Each thread needs memory that does not spill: with a thread per core, a many-core
    server would split the 256 MB default into slivers and run out where a laptop passes."""
    cores = len(os.sched_getaffinity(0))
    con = open_warehouse(tmp_path / "w.duckdb", memory_limit=limit)
    threads = con.execute("SELECT current_setting('threads')").fetchone()
    assert threads == (min(most, cores),)


def test_a_session_records_its_run(tmp_path: Path) -> None:
    path = tmp_path / "w.duckdb"
    with run_session(path, "extract", {"since": None}) as session:
        session.counts = {"enrollments": 3}
    with pytest.raises(RuntimeError), run_session(path, "extract", {}):
        raise RuntimeError("boom\nsecond line")
    con = open_warehouse(path)
    rows = con.execute(
        "SELECT run_id, command, status, counts, error, finished_at IS NOT NULL "
        "FROM meta.runs ORDER BY run_id").fetchall()
    assert rows[0][:3] == (1, "extract", "success")
    assert json.loads(rows[0][3]) == {"enrollments": 3}
    assert rows[1][2] == "failed" and rows[1][4] == "RuntimeError: boom"
    assert all(r[5] for r in rows)


def test_a_second_writer_is_told_who_holds_the_lock(tmp_path: Path) -> None:
    path = tmp_path / "w.duckdb"
    with RunLock(path, "extract"), pytest.raises(WarehouseError) as info:
        RunLock(path, "push").acquire()
    message = str(info.value)
    assert message.startswith("another run is in progress (started ")
    assert "by pid " in message and "command extract" in message
    RunLock(path, "push").acquire().release()  # free again once released


def test_a_waiting_run_takes_the_lock_once_the_holder_releases_it(tmp_path: Path) -> None:
    path = tmp_path / "w.duckdb"
    holder = RunLock(path, "run").acquire()
    waits: list[float] = []

    def sleep(seconds: float) -> None:  # the holder finishes while the second run waits
        waits.append(seconds)
        if len(waits) == 3:
            holder.release()

    second = RunLock(path, "run", wait=3600, sleep=sleep).acquire()
    assert waits == [1.0, 1.0, 1.0]
    with pytest.raises(WarehouseError, match=r"command run\)$"):
        RunLock(path, "extract").acquire()  # the waiting run holds it now
    second.release()


def test_a_waiting_run_gives_up_at_its_deadline(tmp_path: Path,
                                                caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "w.duckdb"
    now = [0.0]

    def sleep(seconds: float) -> None:
        now[0] += seconds

    with RunLock(path, "run"), pytest.raises(WarehouseError) as info:
        RunLock(path, "run", wait=2.5, clock=lambda: now[0], sleep=sleep).acquire()
    assert str(info.value).startswith("another run is in progress (started ")
    assert str(info.value).endswith("command run); waited 2s for it")
    assert now[0] == 2.5  # slept 1 + 1 + 0.5, then gave up
    [told] = caplog.records  # said once, not once per second
    assert "another run is in progress" in told.message and "waiting up to" in told.message


def test_lock_held_by_another_process(tmp_path: Path) -> None:
    path = tmp_path / "w.duckdb"
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import sys, time; from warehouse import RunLock; "
         f"RunLock({str(path)!r}, 'extract').acquire(); print('held', flush=True); time.sleep(30)"],
        stdout=subprocess.PIPE, text=True, cwd=Path(__file__).parents[2])
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        with pytest.raises(WarehouseError, match=f"by pid {holder.pid}"):
            RunLock(path, "extract").acquire()
    finally:
        holder.kill()
        holder.wait()
    RunLock(path, "extract").acquire().release()  # a dead holder leaves no stale lock


def test_runs_left_running_by_a_crash_are_closed(tmp_path: Path) -> None:
    path = tmp_path / "w.duckdb"
    con = open_warehouse(path)
    con.execute("INSERT INTO meta.runs (run_id, command, started_at, status) "
                "VALUES (nextval('meta.run_ids'), 'extract', now(), 'running')")
    con.close()
    with run_session(path, "extract", {}):
        pass
    con = open_warehouse(path)
    assert con.execute("SELECT status, error FROM meta.runs WHERE run_id = 1").fetchone() == (
        "failed", "interrupted: the process ended before the run finished")


def test_a_rollback_refused_never_replaces_the_error(tmp_path: Path) -> None:
    """After a COMMIT that failed (a full disk), DuckDB has ended the transaction and refuses
    the ROLLBACK ("no transaction is active"): the error that made the ROLLBACK necessary is
    the one that goes on up. Here the block ends the transaction itself, then fails."""
    con = open_warehouse(tmp_path / "w.duckdb")
    with pytest.raises(ValueError, match="^the original error$"), transaction(con):
        con.execute("COMMIT")
        raise ValueError("the original error")
    con.close()


def test_a_duckdb_interrupt_in_a_session_is_ctrl_c_and_rolls_back(tmp_path: Path) -> None:
    """DuckDB stops a query for Ctrl-C with its own error: the session ends the command as the
    KeyboardInterrupt it is (the CLI's exit 130), with the run recorded failed and the open
    transaction rolled back."""
    path = tmp_path / "w.duckdb"
    done = threading.Event()
    with pytest.raises(KeyboardInterrupt), run_session(path, "transform", {}) as session:
        def interrupt() -> None:  # as Ctrl-C does, until the query is stopped
            while not done.is_set():
                session.con.interrupt()
                done.wait(0.01)

        poker = threading.Thread(target=interrupt)
        session.con.execute("BEGIN TRANSACTION")
        session.con.execute("CREATE TABLE staging.half AS SELECT 1 AS x")
        poker.start()
        try:
            session.con.execute("SELECT count(*) FROM range(100000000000) AS t(i) "
                                "WHERE i % 7 = 3").fetchall()
        finally:
            done.set()
            poker.join()
    con = open_warehouse(path)
    status, error = con.execute("SELECT status, error FROM meta.runs").fetchone() or (None, None)
    half = con.execute("SELECT count(*) FROM information_schema.tables "
                       "WHERE table_name = 'half'").fetchone()
    con.close()
    assert status == "failed" and "interrupted" in str(error)
    assert half == (0,)


def test_a_local_fault_in_a_session_is_one_warehouse_error(tmp_path: Path) -> None:
    """Whatever layer met it and wrapped it (a model's error, a refused ROLLBACK), a full disk
    in a session ends as the WarehouseError that says so, naming the warehouse."""
    path = tmp_path / "w.duckdb"
    full = duckdb.IOException('IO Error: Could not write file "/x/w.duckdb.wal": File too large')
    with pytest.raises(WarehouseError) as info, run_session(path, "transform", {}):
        try:
            raise full
        except duckdb.Error:
            raise duckdb.TransactionException(
                "TransactionContext Error: cannot rollback - no transaction is active") from None
    message = str(info.value)
    assert message.startswith(f"the warehouse {path} cannot be written: the disk is full")
    assert "File too large" in message and "rollback" not in message
