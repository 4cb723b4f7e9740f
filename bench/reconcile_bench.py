"""Reconcile benchmark: ``python cli.py reconcile`` on a pushed world against its read floor.

Issue 15, point 1: reconcile of 50,000 courses, 500,000 attempts and 20,000 users within 1.2x
the read floor (the reads it needs at the documented maxima, divided by 360Learning's
documented 50 reads a second), with progress shown.

In one fresh warehouse, the Go1 sandbox and the 360Learning sandbox each served in its own
process by ``bench/served.py`` (360Learning's rate limits on, as ``sandbox.l360.knobs`` has
them: 50 GET and 10 writes in any rolling second, 3 bulk operations at once; the token call
not counted):

1. one whole ``python cli.py run`` (extract, transform, plan, push: the setup, timed only);
2. with ``--drift N``, N of the integration's courses renamed in the 360Learning sandbox, as
   someone editing them there would (``served.py``'s ``drift``): their listed name differs, so
   the read-back must read each of them one by one, beyond the sample;
3. ``python cli.py reconcile --format json --out DIR`` as a child process with its stderr on a
   pseudo-terminal (so its progress bars draw as they would for a person): wall time from
   spawn to exit, peak memory (``VmHWM`` of the child at exit), the 360Learning and Go1 calls
   it made by route (counted by the sandboxes), and inside the child the seconds of each part
   (each paged list, the one-by-one course reads, the comparison models, the report);
4. the read floor, from the world's sizes as the 360Learning sandbox reports them: a page of
   500 per list (external courses, SCORM imports, course statistics, users: the lists the
   read-back lands) and one GET per course it must read (``readback.SAMPLE`` plus the drifted
   ones), divided by 50 a second.

    python bench/reconcile_bench.py                           # 50k courses, 500k attempts
    python bench/reconcile_bench.py --learning-objects 2000 --enrollments 20000 --users 800
    python bench/reconcile_bench.py --learning-objects 2000 --enrollments 20000 --drift 300

The sizes are those wanted in 360Learning: ``--learning-objects`` courses (one per Go1 learning
object the sync maps), ``--enrollments`` attempts (one per mapped enrollment), ``--users``
learners. Not every learning object becomes a course, nor every enrollment an attempt, so the
Go1 seed is scaled up by the shares this seed gives (:data:`COURSES_PER_LO`,
:data:`ATTEMPTS_PER_ENROLLMENT`, measured); the sizes reached are printed.
"""

from __future__ import annotations

import argparse
import atexit
import fcntl
import json
import math
import os
import pty
import re
import struct
import subprocess
import sys
import tempfile
import termios
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.memory import peak_rss_mb  # noqa: E402
from bench.scale_bench import Served, is_read, is_write, met, total  # noqa: E402

READS_PER_SECOND = 50  # 360Learning's documented read rate (sandbox.l360.knobs, README "Push")
L360_PAGE = 500  # courses, course statistics and users: 500 a page (sandbox.l360.app)
TARGET_RATIO = 1.2
# The seed's shares, measured with --seed 7 (see the module docstring): the courses in
# marts.content_360 per Go1 learning object, the attempts pushed per Go1 enrollment.
COURSES_PER_LO = 0.655  # 1,746 pushed of 2,667 learning objects
ATTEMPTS_PER_ENROLLMENT = 0.451  # 9,500 pushed of 21,053 enrollments
PROGRESS_LABEL = "360Learning"  # the read-back names each list bar so (reconcile.readback._LISTS)


# --- the reconcile child --------------------------------------------------------------------

def child_reconcile(figures_file: str, argv: list[str]) -> None:
    """``python cli.py reconcile`` in this process, its parts timed, its peak read at exit."""
    import commands.reconcile as command
    import reconcile.readback as readback

    parts: dict[str, float] = {}
    calls: dict[str, int] = {}

    def timed(name: str, function: Callable[..., Any],
              label: Callable[..., str] | None = None) -> Callable[..., Any]:
        def run(*args: Any, **kwargs: Any) -> Any:
            key = label(*args, **kwargs) if label else name
            began = time.monotonic()
            try:
                return function(*args, **kwargs)
            finally:
                parts[key] = parts.get(key, 0.0) + time.monotonic() - began
                calls[key] = calls.get(key, 0) + 1
        return run

    from load.client import L360Client

    get_all = L360Client.get_all

    def timed_list(client: Any, path: str, params: Any = (), **kwargs: Any) -> Any:
        """A list from its first request to its last page, in the reader thread that reads it
        (the lists run side by side: their times overlap)."""
        query = "&".join(f"{k}={v}" for k, v in params)
        key = f"list {path}" + (f"?{query}" if query else "")
        began = time.monotonic()
        try:
            yield from get_all(client, path, params, **kwargs)
        finally:
            parts[key] = parts.get(key, 0.0) + time.monotonic() - began
            calls[key] = calls.get(key, 0) + 1

    L360Client.get_all = timed_list  # type: ignore[method-assign,assignment]
    readback.land_lists = timed(  # type: ignore[assignment]
        "the lists side by side", readback.land_lists)
    readback.external_course = timed(  # type: ignore[assignment]
        "one-by-one course GETs", readback.external_course)
    command.read_back = timed("read-back (all of it)", command.read_back)  # type: ignore[assignment]
    command.run_project = timed("comparison models", command.run_project)  # type: ignore[assignment]
    command.build_report = timed("report", command.build_report)  # type: ignore[assignment]

    def write() -> None:
        Path(figures_file).write_text(json.dumps({"parts": parts, "calls": calls,
                                                  "peak_rss_mb": peak_rss_mb()}))

    atexit.register(write)
    sys.argv = ["cli.py", *argv]
    from go1sync.cli import main

    main()


# --- the sandboxes and the children ---------------------------------------------------------

def ask(served: Served, command: str, prefix: str) -> Any:
    """One ``served.py`` stdin command and its one-line JSON answer."""
    assert served.proc.stdin is not None
    served.proc.stdin.write(command + "\n")
    served.proc.stdin.flush()
    for line in served.stdout:
        if line.startswith(prefix + " "):
            return json.loads(line.removeprefix(prefix + " "))
    raise SystemExit(f"sandbox stopped answering {command!r}")


@dataclass
class Child:
    code: int
    wall_s: float
    tty: list[tuple[float, str]] = field(default_factory=list)  # (seconds in, text) on stderr


def run_child(argv: list[str], env: dict[str, str], log: Path, on_tty: bool) -> Child:
    """Run ``argv``; stdout and (unless ``on_tty``) stderr to ``log``. With ``on_tty`` stderr
    is a 120-column pseudo-terminal, read as it comes, each chunk stamped."""
    began = time.monotonic()
    with log.open("w") as out:
        if not on_tty:
            code = subprocess.run(argv, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
                                  stdin=subprocess.DEVNULL, check=False).returncode
            return Child(code, time.monotonic() - began)
        master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
        proc = subprocess.Popen(argv, cwd=ROOT, env={**env, "TERM": "xterm-256color"},
                                stdout=out, stderr=slave, stdin=subprocess.DEVNULL)
        os.close(slave)
        chunks: list[tuple[float, str]] = []

        def read() -> None:
            while True:
                try:
                    data = os.read(master, 65536)
                except OSError:  # EIO: the child closed the terminal
                    return
                if not data:
                    return
                chunks.append((time.monotonic() - began, data.decode("utf-8", "replace")))

        reader = threading.Thread(target=read, daemon=True)
        reader.start()
        code = proc.wait()
        wall = time.monotonic() - began
        reader.join(timeout=5)
        os.close(master)
    return Child(code, wall, chunks)


ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b\][^\x07]*\x07")


def progress_seen(chunks: list[tuple[float, str]], wall_s: float) -> str:
    """What the terminal showed of the reconcile's progress, and when."""
    shown = [(at, ANSI.sub("", text).replace("\r", "\n")) for at, text in chunks]
    hits = [(at, line.strip()) for at, text in shown for line in text.splitlines()
            if PROGRESS_LABEL in line]
    other = [line.strip() for _, text in shown for line in text.splitlines()
             if line.strip() and PROGRESS_LABEL not in line]
    if not hits:
        return (f"no '{PROGRESS_LABEL}' bar on the terminal in {wall_s:.1f} s"
                + (f"; other stderr lines: {other[:3]}" if other else "; stderr stayed empty"))
    first, last = hits[0], hits[-1]
    return (f"'{PROGRESS_LABEL}' bar first drawn at {first[0]:.1f} s of {wall_s:.1f} s "
            f"({len(hits)} redraws, last at {last[0]:.1f} s: `{' '.join(last[1].split())}`)"
            + (f"; other stderr lines: {other[:3]}" if other else ""))


# --- the world and the floor ----------------------------------------------------------------

def read_world(warehouse: Path) -> dict[str, Any]:
    """The pushed world and the reconcile's record, from the warehouse."""
    import duckdb

    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        def one(sql: str) -> Any:
            row = con.execute(sql).fetchone()
            return row[0] if row else None

        run = con.execute("SELECT run_id, status, counts FROM meta.runs "
                          "WHERE command = 'reconcile' ORDER BY run_id DESC LIMIT 1").fetchone()
        world = {
            "go1_learning_objects": one("SELECT count(DISTINCT record ->> '$.id') "
                                        "FROM raw.go1_learning_objects"),
            "go1_enrollments": one("SELECT count(DISTINCT record ->> '$.id') "
                                   "FROM raw.go1_enrollments_latest"),
            "marts_courses": one("SELECT count(*) FROM marts.content_360"),
            "marts_attempts": one("SELECT count(*) FROM marts.attempts_360"),
            "pushed_courses": one("SELECT count(*) FROM meta.pushed_courses"),
            "pushed_attempts": one("SELECT count(*) FROM meta.pushed_attempts"),
            "reconcile_status": run[1] if run else None,
            "reconcile_counts": json.loads(run[2] or "{}") if run else {},
        }
        if run is not None:
            found = con.execute("SELECT count(*) FROM raw.l360_integration_courses "
                                "WHERE _run_id = $r", {"r": run[0]}).fetchone()
            world["read_one_by_one"] = found[0] if found else 0
    finally:
        con.close()
    return world


def pages(items: int) -> int:
    """A paged list of ``items`` at 500 a page: at least one page (an empty list is asked)."""
    return max(1, math.ceil(items / L360_PAGE))


COURSES_ROUTE = "GET /api/v2/courses"
STATS_ROUTE = "GET /api/v2/courses/stats"
USERS_ROUTE = "GET /api/v2/users"
ONE_COURSE_ROUTE = "GET /api/v2/integrations/{integrationId}/courses/{externalId}"


def read_floor(sizes: dict[str, Any], pushed_courses: int, drifted: int,
               sample: int) -> list[tuple[str, str, int, str]]:
    """The reads a reconcile needs at the documented maxima: (route, what, reads, how
    derived)."""
    courses = sizes["courses"]
    external = courses.get("external", 0)
    scorm = sum(n for kind, n in courses.items() if kind != "external")
    one_by_one = min(pushed_courses, drifted + min(sample, max(0, pushed_courses - drifted)))
    return [
        (COURSES_ROUTE, "external courses, GET /api/v2/courses?type[eq]=external",
         pages(external), f"ceil({external:,} / {L360_PAGE})"),
        (COURSES_ROUTE, "SCORM imports, GET /api/v2/courses?type[eq]=elearning standard",
         pages(scorm), f"ceil({scorm:,} / {L360_PAGE}), at least 1"),
        (STATS_ROUTE, "course statistics, GET /api/v2/courses/stats (no filter)",
         pages(sizes["attempts"]), f"ceil({sizes['attempts']:,} / {L360_PAGE})"),
        (USERS_ROUTE, "users, GET /api/v2/users", pages(sizes["users"]),
         f"ceil({sizes['users']:,} / {L360_PAGE}) (learners and the admin)"),
        (ONE_COURSE_ROUTE, "one-by-one GET /api/v2/integrations/{id}/courses/{externalId}",
         one_by_one,
         f"readback.SAMPLE {sample} + {drifted:,} whose listed name differs"
         + ("" if drifted else " (a clean world: the sample alone)")),
    ]


# --- main -----------------------------------------------------------------------------------

def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--learning-objects", type=int, default=50_000,
                        help="courses wanted in 360Learning (default 50,000)")
    parser.add_argument("--enrollments", type=int, default=500_000,
                        help="attempts wanted in 360Learning (default 500,000)")
    parser.add_argument("--users", type=int, default=20_000,
                        help="learners (default 20,000)")
    parser.add_argument("--drift", type=int, default=0,
                        help="rename this many courses in 360Learning before the reconcile")
    parser.add_argument("--latency-ms", type=float, default=0.0,
                        help="the Go1 sandbox's latency (default 0: the setup run only)")
    parser.add_argument("--keep", type=Path,
                        help="keep the warehouse, logs and report in this folder")
    parser.add_argument("--child-reconcile", nargs=argparse.REMAINDER, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child_reconcile is not None:
        child_reconcile(args.child_reconcile[0], args.child_reconcile[1:])
        return
    from reconcile.readback import SAMPLE

    seed_los = math.ceil(args.learning_objects / COURSES_PER_LO)
    seed_enrollments = math.ceil(args.enrollments / ATTEMPTS_PER_ENROLLMENT)
    began = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="reconcile-bench-") as tmp:
        folder = args.keep or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        # not reconcile.duckdb: DuckDB names the catalog after the file, and a catalog named like
        # the warehouse's schema "reconcile" makes the models' names ambiguous
        warehouse = folder / "bench.duckdb"
        for leftover in (warehouse, Path(f"{warehouse}.wal")):
            leftover.unlink(missing_ok=True)
        emails = folder / "learners.txt"
        print(f"... Go1 sandbox: {seed_los:,} learning objects, {seed_enrollments:,} "
              f"enrollments, {args.users:,} users", file=sys.stderr, flush=True)
        go1 = Served(["go1", "--port", "0", "--seed", "7", "--learning-objects", str(seed_los),
                      "--enrollments", str(seed_enrollments), "--users", str(args.users),
                      "--latency-ms", str(args.latency_ms), "--learner-emails-out",
                      str(emails)], 5)
        try:
            l360 = Served(["l360", "--port", "0", "--learner-emails-file", str(emails)], 6)
            try:
                env = {**os.environ, **go1.env, **l360.env, "GO1SYNC_WAREHOUSE": str(warehouse)}
                print("... setup: python cli.py run", file=sys.stderr, flush=True)
                setup = run_child([sys.executable, "cli.py", "run"], env, folder / "run.log",
                                  on_tty=False)
                setup_go1, setup_l360 = go1.counts(), l360.counts()
                if setup.code != 0:
                    tail = "\n".join((folder / "run.log").read_text().splitlines()[-15:])
                    raise SystemExit(f"the setup run exited {setup.code}:\n{tail}")
                drifted: list[str] = ask(l360, f"drift {args.drift}", "drifted") \
                    if args.drift else []
                sizes = ask(l360, "sizes", "sizes")
                go1.counts()
                l360.counts()  # nothing between the run and the reconcile is the reconcile's
                ask(l360, "seconds", "seconds")
                print("... python cli.py reconcile", file=sys.stderr, flush=True)
                figures_file = folder / "reconcile-figures.json"
                reconcile = run_child(
                    [sys.executable, __file__, "--child-reconcile", str(figures_file),
                     "reconcile", "--format", "json", "--out", str(folder / "report")],
                    env, folder / "reconcile.log", on_tty=True)
                rec_go1, rec_l360 = go1.counts(), l360.counts()
                handling: dict[str, float] = ask(l360, "seconds", "seconds")
            finally:
                l360.stop()
        finally:
            go1.stop()
        (folder / "reconcile.tty").write_text("".join(text for _, text in reconcile.tty))
        child = json.loads(figures_file.read_text()) if figures_file.exists() else {}
        world = read_world(warehouse)
        summary = (folder / "reconcile.log").read_text()
    print_figures(args, seed_los, seed_enrollments, go1.ready_s, setup, setup_go1, setup_l360,
                  drifted, sizes, world, reconcile, child, rec_go1, rec_l360, handling,
                  summary, SAMPLE)
    print(f"\n(the benchmark took {time.monotonic() - began:.0f} s)")


def print_figures(args: argparse.Namespace, seed_los: int, seed_enrollments: int,
                  go1_ready_s: float, setup: Child, setup_go1: dict[str, dict[str, int]],
                  setup_l360: dict[str, dict[str, int]], drifted: list[str],
                  sizes: dict[str, Any], world: dict[str, Any], reconcile: Child,
                  child: dict[str, Any], rec_go1: dict[str, dict[str, int]],
                  rec_l360: dict[str, dict[str, int]], handling: dict[str, float],
                  summary: str, sample: int) -> None:
    print("\n## Reconcile (`python bench/reconcile_bench.py"
          + "".join(f" --{name.replace('_', '-')} {getattr(args, name)}"
                    for name in ("learning_objects", "enrollments", "users", "drift")
                    if getattr(args, name) != parser_default(name)) + "`)\n")
    print(f"Go1 seed: {seed_los:,} learning objects, {seed_enrollments:,} enrollments, "
          f"{args.users:,} users (ready in {go1_ready_s:.1f} s); landed "
          f"{world['go1_learning_objects']:,} learning objects and {world['go1_enrollments']:,} "
          f"enrollments; marts {world['marts_courses']:,} courses and "
          f"{world['marts_attempts']:,} attempts; pushed {world['pushed_courses']:,} courses "
          f"and {world['pushed_attempts']:,} attempts")
    print(f"360Learning holds: courses {sizes['courses']}, {sizes['attempts']:,} attempts, "
          f"{sizes['users']:,} users (wanted: {args.learning_objects:,} courses, "
          f"{args.enrollments:,} attempts, {args.users:,} users)")
    print(f"setup `python cli.py run`: {setup.wall_s:.1f} s, exit {setup.code}, "
          f"{total(setup_go1, lambda r: True):,} Go1 calls, "
          f"{total(setup_l360, is_write):,} 360 writes, {total(setup_l360, is_read):,} 360 reads")
    if drifted:
        print(f"drift: {len(drifted):,} courses renamed in 360Learning before the reconcile "
              f"(first: {', '.join(drifted[:3])})")
    print(f"reconcile: exit {reconcile.code} (0 nothing needs action, 3 drift), status "
          f"{world['reconcile_status']}, categories {world['reconcile_counts'].get('reconcile')}"
          f"; {world.get('read_one_by_one', 0):,} courses read one by one")
    tail = [line for line in summary.splitlines() if line.strip()][-6:]
    print("  its summary (last lines): " + " / ".join(line.strip() for line in tail))

    print("\n| API | route | reconcile calls (status: n) | the sandbox's own handling s |")
    print("| --- | --- | --- | --- |")
    for api, counts in (("360", rec_l360), ("Go1", rec_go1)):
        for route in sorted(counts):
            told = ", ".join(f"{st}: {n:,}" for st, n in sorted(counts[route].items()))
            spent = f"{handling[route]:.1f}" if api == "360" and route in handling else "-"
            print(f"| {api} | `{route}` | {told} | {spent} |")
    if not rec_go1:
        print("| Go1 | (none) | 0 | - |")

    parts = child.get("parts", {})
    calls = child.get("calls", {})
    print("\nInside the reconcile child (seconds; a list's time includes its waits for the "
          "read limit):\n")
    print("| part | seconds | calls of the function |")
    print("| --- | --- | --- |")
    for name, seconds in parts.items():
        print(f"| {name} | {seconds:.1f} | {calls.get(name, 0):,} |")
    inside = sum(parts.get(name, 0.0) for name in ("read-back (all of it)",
                                                  "comparison models", "report"))
    print(f"| rest: process start, imports, warehouse open, run record, summary | "
          f"{reconcile.wall_s - inside:.1f} | |")

    floor = read_floor(sizes, world["pushed_courses"], len(drifted), sample)
    reads = sum(n for _, _, n, _ in floor)
    floor_s = reads / READS_PER_SECOND
    token = total(rec_l360, lambda r: "/oauth" in r)
    made = total(rec_l360, lambda r: is_read(r) and "/oauth" not in r)
    print(f"\nread floor (360Learning's documented maxima: {L360_PAGE} a page, "
          f"{READS_PER_SECOND} reads/s; the token call is not rate-limited and not counted):")
    for _, what, n, how in floor:
        print(f"  minimum {what}: {how} = {n:,}")
    print(f"  minimum reads = {reads:,}; floor = {reads:,} / {READS_PER_SECOND}/s = "
          f"{floor_s:.1f} s")
    print(f"  made: {made:,} reads + {token} token call(s), "
          f"{total(rec_l360, is_write):,} writes, {total(rec_go1, lambda r: True):,} Go1 calls")
    ratio = reconcile.wall_s / floor_s if floor_s else math.nan
    # The lists run side by side, so no list's time is the wall's: the longest is what the
    # read limit and the sandbox leave of the overlap.
    lists = {name: seconds for name, seconds in parts.items() if name.startswith("list ")}
    longest = max(lists, key=lists.__getitem__) if lists else None
    sandbox_s = sum(handling.values())
    print(f"  the 360Learning sandbox's own handling of the reconcile's requests: "
          f"{sandbox_s:.1f} s in all" + (
              f"; the longest list, {longest}, took {lists[longest]:.1f} s"
              if longest else ""))
    print("\n| what | figure | target |\n| --- | --- | --- |")
    print(f"| reconcile wall (spawn to exit) | {reconcile.wall_s:.1f} s | |")
    print(f"| peak memory (VmHWM of the child) | {child.get('peak_rss_mb', math.nan):.0f} MB | |")
    print(f"| 360 reads made / minimum | {made:,} / {reads:,} | |")
    print(f"| read floor | {floor_s:.1f} s | |")
    print(f"| reconcile wall / floor | {ratio:.2f} | <= {TARGET_RATIO}: "
          f"{met(ratio <= TARGET_RATIO and reconcile.code in (0, 3))} |")
    # a reconcile that failed (exit 1 or 2) is fast and proves nothing: never "met"
    finished = reconcile.code in (0, 3)
    print(f"\nreconcile wall / floor = {ratio:.2f} (target <= {TARGET_RATIO}): "
          + (met(ratio <= TARGET_RATIO) if finished
             else f"NOT met: the reconcile exited {reconcile.code}: {last_words(reconcile)}"))
    print(f"progress: {progress_seen(reconcile.tty, reconcile.wall_s)}")


def last_words(child: Child) -> str:
    """The child's last line on stderr that is no progress bar: its error, when it failed."""
    text = "".join(t for _, t in child.tty).replace("\r", "\n")
    lines = [line.strip() for line in text.splitlines() if line.strip() and "━" not in line]
    return lines[-1] if lines else "(nothing on stderr)"


def parser_default(name: str) -> Any:
    return {"learning_objects": 50_000, "enrollments": 500_000, "users": 20_000,
            "drift": 0}[name]


if __name__ == "__main__":
    main()
