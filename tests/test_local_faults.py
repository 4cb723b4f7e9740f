"""Local faults end as one true line and an exit code: a folder that cannot hold the warehouse
(read-only, under a file, refused), a full disk, a corrupt or truncated warehouse, a folder or
``~/...`` given as the warehouse, DuckDB's own lock, and Ctrl-C during a DuckDB query; and the
reconcile CSV files cannot carry a formula into a spreadsheet.

Each test runs the CLI as a user does (``python cli.py ...`` in a subprocess) and asserts the
exit code and the one line, never a traceback.
"""

from __future__ import annotations

import csv
import os
import resource
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest

from reconcile.files import write_files
from reconcile.report import Category, Report
from tests.helpers import ROOT, run_cli, sigint_as_at_a_terminal
from tests.test_cli_errors import one_line_error
from warehouse import open_warehouse

#: What ``transform`` needs besides a warehouse: it contacts no API.
TRANSFORM_ENV = {"GO1_PORTAL_URL": "https://example.mygo1.com"}
RESTORE_HINT = "python cli.py rebuild-snapshot"


def transform_env(warehouse: Path | str, **extra: str) -> dict[str, str]:
    return {**TRANSFORM_ENV, "GO1SYNC_WAREHOUSE": str(warehouse), **extra}


def make_warehouse(path: Path, enrollments: int = 100) -> Path:
    """A migrated warehouse holding ``enrollments`` landed Go1 enrollments (synthetic, as the
    extract lands them: one JSON record a row), closed, so its file is complete on disk."""
    con = open_warehouse(path)
    con.execute(
        "INSERT INTO raw.go1_enrollments SELECT 1, now(), md5(i::VARCHAR), i::VARCHAR, "
        "json_object('lo_id', (i % 50)::VARCHAR, 'user_account_id', (i % 90)::VARCHAR, "
        "'status', 'in_progress', 'pass', false, 'created_time', '2026-01-01T00:00:00Z', "
        "'updated_time', '2026-01-02T00:00:00Z') FROM range(?) AS r(i)", [enrollments])
    con.close()
    return path


# --- folders that cannot hold the warehouse ---------------------------------------------------


def _userns_works() -> bool:
    """Whether this machine lets a process mount a read-only tmpfs in a user namespace of its
    own (``unshare -rm``): root or not, that gives a real EROFS, which chmod cannot (root
    ignores permission bits)."""
    if shutil.which("unshare") is None:
        return False
    probe = subprocess.run(["unshare", "-rm", "sh", "-c", "mount -t tmpfs -o ro tmpfs /mnt"],
                           capture_output=True)
    return probe.returncode == 0


NO_USERNS = "needs `unshare -rm` (user and mount namespaces) to mount a read-only file system"


def run_on_read_only(folder: Path, *args: str, env: dict[str, str],
                     bind: bool = False) -> subprocess.CompletedProcess[str]:
    """``python cli.py ARGS`` with ``folder`` read-only: a fresh empty read-only tmpfs on it,
    or (``bind``) the folder itself, with what it holds, remounted read-only."""
    mount = (f'mount --bind "{folder}" "{folder}" && mount -o remount,bind,ro "{folder}"'
             if bind else f'mount -t tmpfs -o ro tmpfs "{folder}"')
    clean = {k: v for k, v in os.environ.items()
             if not k.startswith(("GO1_", "GO1SYNC_", "L360_"))}
    return subprocess.run(["unshare", "-rm", "sh", "-c", f'{mount} && exec "$0" "$@"',
                           sys.executable, "cli.py", *args], cwd=ROOT, env={**clean, **env},
                          capture_output=True, text=True, timeout=180)


@pytest.mark.skipif(not _userns_works(), reason=NO_USERNS)
def test_a_new_warehouse_on_a_read_only_file_system_is_one_line(tmp_path: Path) -> None:
    folder = tmp_path / "ro"
    folder.mkdir()
    warehouse = folder / "w.duckdb"
    result = run_on_read_only(folder, "transform", env=transform_env(warehouse))
    assert result.returncode == 1
    line = one_line_error(result)
    assert f"the warehouse {warehouse}" in line
    assert "read-only file system" in line and "GO1SYNC_WAREHOUSE" in line


@pytest.mark.skipif(not _userns_works(), reason=NO_USERNS)
def test_an_existing_warehouse_on_a_read_only_file_system_is_one_line(tmp_path: Path) -> None:
    folder = tmp_path / "ro"
    folder.mkdir()
    warehouse = make_warehouse(folder / "w.duckdb")
    result = run_on_read_only(folder, "transform", env=transform_env(warehouse), bind=True)
    assert result.returncode == 1
    line = one_line_error(result)
    assert f"the warehouse {warehouse}" in line and "read-only file system" in line
    # reading needs no write: status still works there
    status = run_on_read_only(folder, "status", env=transform_env(warehouse), bind=True)
    assert status.returncode == 0, status.stderr


def test_a_warehouse_under_a_file_says_the_file_is_not_a_folder(tmp_path: Path) -> None:
    """GO1SYNC_WAREHOUSE=/etc/passwd/x.duckdb: the lock file cannot be made, and the reason is
    the file in the way (not "File exists", nor "No such file")."""
    blocker = tmp_path / "passwd"
    blocker.write_text("root:x:0:0\n")
    for warehouse in (blocker / "x.duckdb", blocker / "deeper" / "x.duckdb"):
        result = run_cli("transform", env=transform_env(warehouse))
        assert result.returncode == 1
        line = one_line_error(result)
        assert f"the warehouse {warehouse}" in line
        assert f"{blocker} is a file, not a folder" in line
    status = run_cli("status", env=transform_env(blocker / "x.duckdb"))
    assert status.returncode == 1
    assert f"{blocker} is a file, not a folder" in one_line_error(status)


@pytest.mark.skipif(not Path("/proc/self").is_dir(), reason="needs /proc")
def test_a_warehouse_in_a_folder_that_takes_no_files_says_so() -> None:
    """/proc exists but refuses new files (ENOENT): "No such file or directory" would be
    false; the file system is named."""
    result = run_cli("transform", env=transform_env("/proc/go1sync-test.duckdb"))
    assert result.returncode == 1
    line = one_line_error(result)
    assert "the warehouse /proc/go1sync-test.duckdb" in line
    assert "the file system of /proc does not take new files" in line


def _without_permission_override() -> list[str] | None:
    """The command prefix under which permission bits hold: none for a user; for root (whom
    they do not stop), ``setpriv`` without the capabilities that override them; ``None`` when
    neither is possible."""
    if os.geteuid() != 0:
        return []
    prefix = ["setpriv", "--bounding-set=-dac_override,-dac_read_search,-fowner"]
    if shutil.which("setpriv") is None or subprocess.run([*prefix, "true"]).returncode != 0:
        return None
    return prefix


@pytest.mark.skipif(_without_permission_override() is None,
                    reason="root ignores permission bits and setpriv cannot drop that here; "
                           "the read-only file system tests cover the case")
def test_a_warehouse_in_a_folder_without_write_permission_is_one_line(tmp_path: Path) -> None:
    prefix = _without_permission_override() or []
    folder = tmp_path / "locked"
    folder.mkdir()
    warehouse = make_warehouse(folder / "w.duckdb")
    clean = {k: v for k, v in os.environ.items()
             if not k.startswith(("GO1_", "GO1SYNC_", "L360_"))}

    def transform(path: Path) -> subprocess.CompletedProcess[str]:
        return subprocess.run([*prefix, sys.executable, "cli.py", "transform"], cwd=ROOT,
                              env={**clean, **transform_env(path)}, capture_output=True,
                              text=True, timeout=180)

    folder.chmod(0o500)
    try:
        new = transform(folder / "new.duckdb")  # the lock file cannot be created
        deeper = transform(folder / "sub" / "w.duckdb")  # nor its folder
        Path(f"{warehouse}.lock").touch()
        Path(f"{warehouse}.lock").chmod(0o400)
        existing = transform(warehouse)  # nor the lock file of an existing warehouse opened
    finally:
        folder.chmod(0o700)
    for result, path in ((new, folder / "new.duckdb"), (deeper, folder / "sub" / "w.duckdb"),
                         (existing, warehouse)):
        assert result.returncode == 1
        line = one_line_error(result)
        assert f"the warehouse {path}" in line and "permission denied on " in line


def test_a_folder_given_as_the_warehouse_says_it_is_a_folder(tmp_path: Path) -> None:
    """Not "open in another process", which DuckDB's read error used to be reported as."""
    for command in ("transform", "status"):
        result = run_cli(command, env=transform_env(tmp_path))
        assert result.returncode == 1
        line = one_line_error(result)
        assert f"the warehouse path {tmp_path} is a folder, not a DuckDB file" in line
        assert "another process" not in line
    assert not Path(f"{tmp_path}.lock").exists()


def test_a_warehouse_named_like_one_of_its_schemas_is_refused_in_one_line(
        tmp_path: Path) -> None:
    """raw.duckdb: DuckDB would open it, then fail every query on "raw.…" with an ambiguous
    reference between the file's catalog and the schema."""
    for name in ("raw.duckdb", "Marts.duckdb", "outbound.db"):
        path = tmp_path / name
        result = run_cli("transform", env=transform_env(path))
        assert result.returncode == 1
        line = one_line_error(result)
        assert line == (f"Error: the warehouse file {path} is named like one of its schemas "
                         f"({path.stem}), which DuckDB cannot tell apart: name it otherwise, "
                         f"such as {tmp_path / 'go1sync.duckdb'}")
        assert not path.exists()
    assert run_cli("transform", env=transform_env(tmp_path / "rawdata.duckdb")).returncode == 0


def test_a_warehouse_under_the_home_folder_is_there_with_its_lock(tmp_path: Path) -> None:
    """``~/w.duckdb``: DuckDB expands ``~`` itself, so go1sync does too: the lock file sits
    beside the very file DuckDB opens, and no folder named ``~`` appears where go1sync runs."""
    stray = ROOT / "~"
    existed = stray.exists()
    try:
        result = run_cli("transform", env=transform_env("~/w.duckdb", HOME=str(tmp_path)))
        made_stray = stray.exists() and not existed
    finally:
        if stray.exists() and not existed:
            shutil.rmtree(stray)
    assert result.returncode in (0, 1), result.stderr  # a blocking audit may fail: no data
    assert "Traceback" not in result.stderr
    assert (tmp_path / "w.duckdb").is_file() and (tmp_path / "w.duckdb.lock").is_file()
    assert not made_stray


def test_a_home_folder_that_cannot_be_expanded_is_a_usage_error() -> None:
    result = run_cli("transform", env=transform_env("~no-such-user-go1sync/w.duckdb"))
    assert result.returncode == 2
    line = one_line_error(result)
    assert "GO1SYNC_WAREHOUSE" in line and "~no-such-user-go1sync is no known home folder" in line


# --- DuckDB's lock, and the other I/O errors ----------------------------------------------------


@pytest.fixture
def held_warehouse(tmp_path: Path) -> Iterator[tuple[Path, int]]:
    """A warehouse another process (a DuckDB shell, say) holds open for writing."""
    path = make_warehouse(tmp_path / "w.duckdb")
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys, time, duckdb; con = duckdb.connect(sys.argv[1]); "
         "print('held', flush=True); time.sleep(60)", str(path)],
        stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        yield path, holder.pid
    finally:
        holder.kill()
        holder.wait()


def test_only_a_real_lock_conflict_is_open_in_another_process(
        held_warehouse: tuple[Path, int]) -> None:
    path, pid = held_warehouse
    for command in ("status", "transform"):
        result = run_cli(command, env=transform_env(path))
        assert result.returncode == 1
        line = one_line_error(result)
        assert f"the warehouse {path} is open in another process (pid {pid})" in line


def test_another_io_error_is_not_reported_as_a_lock(tmp_path: Path) -> None:
    path = tmp_path / "w.duckdb"
    path.write_bytes(b"not a database\n" * 1000)
    result = run_cli("status", env=transform_env(path))
    assert result.returncode == 1
    line = one_line_error(result)
    assert str(path) in line and "another process" not in line


# --- a corrupt or truncated warehouse -----------------------------------------------------------


def corrupted(good: Path, how: str) -> Path:
    """A copy of ``good`` truncated to half its size, replaced by garbage, or with one block
    in the middle overwritten (DuckDB then opens it and fails at the first read of it)."""
    data = good.read_bytes()
    if how == "truncated":
        data = data[: len(data) // 2]
    elif how == "garbage":
        data = os.urandom(len(data))
    else:
        middle = len(data) // 2
        data = data[:middle] + os.urandom(8192) + data[middle + 8192:]
    path = good.with_name(f"{how}.duckdb")
    path.write_bytes(data)
    return path


@pytest.fixture(scope="module")
def good_warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_warehouse(tmp_path_factory.mktemp("good") / "good.duckdb", enrollments=100_000)


@pytest.mark.parametrize("how", ["truncated", "garbage", "block"])
def test_a_corrupt_warehouse_is_one_line_saying_how_to_restore(good_warehouse: Path,
                                                                tmp_path: Path,
                                                                how: str) -> None:
    path = corrupted(Path(shutil.copy(good_warehouse, tmp_path / "good.duckdb")), how)
    result = run_cli("transform", env=transform_env(path))
    assert result.returncode == 1
    line = one_line_error(result)
    assert f"the warehouse {path} is unreadable: the file is corrupt or truncated" in line
    assert "backup" in line and RESTORE_HINT in line
    assert "another process" not in line


def test_status_of_a_garbage_warehouse_is_one_line(good_warehouse: Path, tmp_path: Path) -> None:
    path = corrupted(Path(shutil.copy(good_warehouse, tmp_path / "good.duckdb")), "garbage")
    result = run_cli("status", env=transform_env(path))
    assert result.returncode == 1
    line = one_line_error(result)
    assert f"the warehouse {path} is unreadable" in line and RESTORE_HINT in line


def test_a_duckdb_file_that_is_no_warehouse_is_told_so(tmp_path: Path) -> None:
    path = tmp_path / "other.duckdb"
    duckdb.connect(str(path)).close()
    result = run_cli("status", env=transform_env(path))
    assert result.returncode == 1
    assert f"{path} is a DuckDB file but no go1sync warehouse" in one_line_error(result)


# --- a full disk --------------------------------------------------------------------------------


def _fill_at(limit: int) -> None:
    """In the child: files cannot grow past ``limit`` bytes; a write past it fails with EFBIG
    (File too large) instead of killing the process, as a full disk fails it with ENOSPC."""
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))


@pytest.mark.parametrize("limit", [300_000, 1_200_000])
def test_a_full_disk_on_a_first_run_is_one_line_naming_the_warehouse(
        sync_env: dict[str, str], tmp_path: Path, limit: int) -> None:
    """A first ``run`` on a disk that fills up: whichever COMMIT the disk refuses (a stream's,
    the models', the push ledger's), the line says the disk is full, naming the warehouse; the
    ROLLBACK DuckDB then refuses ("no transaction is active") never takes its place."""
    clean = {k: v for k, v in os.environ.items()
             if not k.startswith(("GO1_", "GO1SYNC_", "L360_"))}
    result = subprocess.run([sys.executable, "cli.py", "run"], cwd=ROOT,
                            env={**clean, **sync_env}, capture_output=True, text=True,
                            timeout=180, preexec_fn=lambda: _fill_at(limit))
    warehouse = sync_env["GO1SYNC_WAREHOUSE"]
    assert result.returncode == 1, result.stderr
    line = one_line_error(result)
    assert f"the warehouse {warehouse} cannot be written: the disk is full" in line
    assert "File too large" in line and "free some space" in line
    # what was committed before the disk filled up is readable
    con = duckdb.connect(warehouse, read_only=True)
    try:
        runs = con.execute("SELECT command, status FROM meta.runs").fetchall()
    finally:
        con.close()
    assert runs and runs[0][0] == "run" and runs[0][1] != "success"


# --- Ctrl-C during a DuckDB query ---------------------------------------------------------------


def test_ctrl_c_during_a_transform_query_exits_130_with_one_line(tmp_path: Path) -> None:
    """DuckDB's Python client turns a Ctrl-C that comes while it waits for a query into
    ``RuntimeError('Query interrupted')``: it ends as any interrupt, with nothing half-written.

    The transform is made long (every landed enrollment seen 3,000 times), so it is still in
    its queries when the signal comes: the signal is sent once its run record is committed
    (the WAL file appears), when what is left is the models' queries."""
    path = make_warehouse(tmp_path / "w.duckdb")
    con = duckdb.connect(str(path))
    con.execute("CREATE OR REPLACE VIEW raw.go1_enrollments_latest AS "
                "SELECT e.* FROM raw.go1_enrollments AS e, range(3000)")
    con.close()
    clean = {k: v for k, v in os.environ.items()
             if not k.startswith(("GO1_", "GO1SYNC_", "L360_"))}
    process = subprocess.Popen([sys.executable, "cli.py", "transform"], cwd=ROOT,
                               env={**clean, **transform_env(path)}, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True,
                               preexec_fn=sigint_as_at_a_terminal)
    wal = Path(f"{path}.wal")
    try:
        while not wal.exists():
            assert process.poll() is None, process.communicate()
            time.sleep(0.01)
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=120)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 130, err
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("interrupted: what was committed is kept")
    con = duckdb.connect(str(path), read_only=True)
    try:
        status = con.execute("SELECT status FROM meta.runs WHERE command = 'transform'").fetchone()
        built = con.execute("SELECT count(*) FROM information_schema.tables "
                            "WHERE table_schema IN ('staging', 'marts')").fetchone()
    finally:
        con.close()
    assert status is not None and status[0] != "success"
    assert built == (0,)  # the models' transaction was rolled back: no half-built marts


# --- the reconcile CSV files --------------------------------------------------------------------


def test_a_reconcile_csv_cell_cannot_start_a_formula(tmp_path: Path) -> None:
    """A Go1 title such as ``=HYPERLINK(...)`` would run as a formula in the spreadsheet that
    opens the file: text starting with = + - @ tab or CR gets a ``'`` before it. Numbers stay
    numbers (-3 is written -3), and the JSON files keep every value as it is."""
    link = '=HYPERLINK("http://evil.example","x")'
    hostile = {link: f"'{link}", "+1+2": "'+1+2", "-2+3": "'-2+3", "@SUM(A1)": "'@SUM(A1)",
               "\tTab": "'\tTab", "\rCR": "'\rCR", "Plain title": "Plain title", "a=b": "a=b"}
    rows = [{"go1_key": "lo-1", "title": value, "delta": -3} for value in hostile]
    report = Report(1, datetime(2026, 1, 1, tzinfo=UTC),
                    [Category("title_differs", "Title differs", "push again",
                              ["go1_key", "title", "delta"], rows)])
    [written] = write_files(report, tmp_path, "csv")
    with written.open(newline="", encoding="utf-8") as file:
        cells = list(csv.DictReader(file))
    assert [c["title"] for c in cells] == list(hostile.values())
    assert {c["delta"] for c in cells} == {"-3"}
    [as_json] = write_files(report, tmp_path / "json", "json")
    assert "\"title\": \"=HYPERLINK(" in as_json.read_text(encoding="utf-8")


# --- DuckDB out of its memory limit -----------------------------------------------------------


def test_a_memory_limit_too_small_is_one_line_naming_the_setting(
        sync_env: dict[str, str]) -> None:
    """DuckDB refusing an allocation past GO1SYNC_DUCKDB_MEMORY_LIMIT (a sort it cannot spill,
    met at 500,000 enrollments with 160MB) is a setting to raise, not a traceback."""
    result = run_cli("run", env={**sync_env, "GO1SYNC_DUCKDB_MEMORY_LIMIT": "6MB"})
    assert result.returncode == 1, result.stderr
    line = one_line_error(result)
    assert "DuckDB needed more memory than its limit allows in the warehouse " in line
    assert "raise GO1SYNC_DUCKDB_MEMORY_LIMIT" in line and "Traceback" not in result.stderr
