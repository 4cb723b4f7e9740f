"""Size sweep: the whole ``python cli.py run`` at growing sizes, then a run with nothing changed.

For each size (the k-th ``--sizes`` with the k-th ``--learning-objects``; learners as the
sandbox's ``users_for`` gives them, 25 enrollments each), in a fresh warehouse: the Go1 sandbox
and the 360Learning sandbox each served in its own process (360Learning's rate limits on:
10 writes/s, 50 reads/s, 3 bulk operations at once), then ``python cli.py run`` as a child
process (extract, transform, plan, push), then a second ``run`` with nothing changed, then a
``run --only stats`` with nothing changed: the statistics job the schedule fires three times a
day, which does not list the catalog (the catalog job lists all of My Library, every day: its
pages and their landing are the no-change whole run's floor, and grow with the catalog).

    python bench/scale_bench.py                     # 100k/500k/1M/2M enrollments, 5k to 50k LOs
    python bench/scale_bench.py --sizes 20000,50000 --learning-objects 2000,5000

Where the figures come from:

- wall: the ``run`` child from spawn to exit (process start and imports included);
- stages: each stage function of ``commands.stages`` timed inside the child (the child is
  ``cli.py``'s own ``main`` with ``run``, wrapped only to time the stages and read its peak);
  the models' own seconds (``meta.model_runs``) and the streams' (``meta.stream_runs``) are
  printed beside them;
- API calls: counted by the sandboxes themselves (``bench/served.py``), by route and status,
  and next to them the run's own counts (``meta.stream_runs.requests``, the push's reads and
  writes); the minimum is the pages and submits needed at the documented maxima, as the push
  benchmark's README row derives it;
- peak memory: ``VmHWM`` of the ``run`` child, read as it exits.

Targets (issue 15): peak memory < 400 MB at every size; transform time growing at most
linearly (exponent log(t2/t1)/log(n2/n1) <= 1.0 between consecutive sizes); the no-change run
at 2,000,000 enrollments < 5 s end to end, with one enrollment page and no write.
"""

from __future__ import annotations

import argparse
import atexit
import json
import math
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.memory import peak_rss_mb  # noqa: E402

STAGES = ("extract", "transform", "plan", "push_changes")
PEAK_TARGET_MB = 400
NO_CHANGE_TARGET_S = 5.0
GO1_PAGE = 50  # enrollments and user accounts: limit 50, offset paging
GO1_SCROLL = 5000  # learning objects: a scroll page of up to 5,000
L360_USERS_PAGE = 500


# --- the run child --------------------------------------------------------------------------

def child_run(figures_file: str, argv: list[str]) -> None:
    """``python cli.py run`` in this process, its stages timed and its peak read at exit."""
    from commands import stages

    seconds: dict[str, float] = {}
    peaks: dict[str, float] = {}  # VmHWM after each stage: which one raised the peak

    def timed(name: str, stage: Callable[..., Any]) -> Callable[..., Any]:
        def run(*args: Any, **kwargs: Any) -> Any:
            began = time.monotonic()
            try:
                return stage(*args, **kwargs)
            finally:
                seconds[name] = seconds.get(name, 0.0) + time.monotonic() - began
                peaks[name] = peak_rss_mb()
        return run

    for name in STAGES:
        setattr(stages, name, timed(name, getattr(stages, name)))

    def write() -> None:
        Path(figures_file).write_text(json.dumps({"stages": seconds, "peaks": peaks,
                                                  "peak_rss_mb": peak_rss_mb()}))

    atexit.register(write)
    sys.argv = ["cli.py", *argv]
    from go1sync.cli import main

    main()


# --- the sandboxes --------------------------------------------------------------------------

class Served:
    """A sandbox served by ``bench/served.py`` in its own process."""

    def __init__(self, args: list[str], exports: int) -> None:
        began = time.monotonic()
        self.proc = subprocess.Popen([sys.executable, str(ROOT / "bench" / "served.py"), *args],
                                     cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     text=True)
        self.env: dict[str, str] = {}
        out = self.stdout
        for line in out:
            if line.startswith("export "):
                name, _, value = line.removeprefix("export ").strip().partition("=")
                self.env[name] = value.strip("'\"")
                if len(self.env) == exports:
                    break
        if len(self.env) < exports:
            raise SystemExit(f"sandbox {args[0]} did not start (exit {self.proc.wait()})")
        self.ready_s = time.monotonic() - began

    @property
    def stdout(self) -> IO[str]:
        assert self.proc.stdout is not None
        return self.proc.stdout

    def counts(self) -> dict[str, dict[str, int]]:
        """Requests answered since the last call, by route and status."""
        assert self.proc.stdin is not None
        self.proc.stdin.write("counts\n")
        self.proc.stdin.flush()
        for line in self.stdout:
            if line.startswith("counts "):
                found: dict[str, dict[str, int]] = json.loads(line.removeprefix("counts "))
                return found
        raise SystemExit("sandbox stopped answering")

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait()


def total(counts: dict[str, dict[str, int]], match: Callable[[str], bool]) -> int:
    return sum(n for route, by in counts.items() if match(route) for n in by.values())


def is_write(route: str) -> bool:
    return not route.startswith("GET ") and "/oauth" not in route


def is_read(route: str) -> bool:
    return route.startswith("GET ")


# --- one size -------------------------------------------------------------------------------

@dataclass
class RunFigures:
    wall_s: float
    exit_code: int
    stages: dict[str, float]
    peaks: dict[str, float]
    peak_mb: float
    go1: dict[str, dict[str, int]]
    l360: dict[str, dict[str, int]]
    meta: dict[str, Any]

    @property
    def rest_s(self) -> float:
        """The wall time outside the stages: process start and imports, the run lock, opening
        and migrating the warehouse, the run record, the printed summary."""
        return self.wall_s - sum(self.stages.values())

    @property
    def go1_calls(self) -> int:
        return total(self.go1, lambda route: True)

    @property
    def l360_writes(self) -> int:
        return total(self.l360, is_write)

    @property
    def l360_reads(self) -> int:
        return total(self.l360, is_read)

    @property
    def enrollment_pages(self) -> int:
        return total(self.go1, lambda route: route.startswith("GET /enrollments"))


@dataclass
class SizeFigures:
    enrollments: int
    learning_objects: int
    users: int
    go1_ready_s: float
    first: RunFigures
    again: RunFigures
    stats_again: RunFigures
    minimum: dict[str, dict[str, int]] = field(default_factory=dict)


def run_once(env: dict[str, str], go1: Served, l360: Served, warehouse: Path,
             log: Path, args: tuple[str, ...] = ("run",)) -> RunFigures:
    go1.counts()
    l360.counts()  # whatever came before (nothing, normally) is not this run's
    figures_file = log.with_suffix(".json")
    began = time.monotonic()
    with log.open("w") as out:
        code = subprocess.run([sys.executable, __file__, "--child-run", str(figures_file),
                               *args], cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
                              check=False).returncode
    wall = time.monotonic() - began
    child = json.loads(figures_file.read_text()) if figures_file.exists() else {}
    return RunFigures(wall, code, child.get("stages", {}), child.get("peaks", {}),
                      child.get("peak_rss_mb", math.nan),
                      go1.counts(), l360.counts(), read_meta(warehouse))


def read_meta(warehouse: Path) -> dict[str, Any]:
    """The last run's record, its streams and models, and the sizes the minimum needs."""
    import duckdb

    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        run_id, status, counts, run_s = con.execute(
            "SELECT run_id, status, counts, epoch(finished_at) - epoch(started_at) "
            "FROM meta.runs ORDER BY run_id DESC LIMIT 1").fetchone() or (None, None, None, 0)
        streams = {row[0]: {"seconds": row[1], "requests": row[2], "read": row[3]}
                   for row in con.execute(
                       "SELECT stream, epoch(finished_at) - epoch(started_at), requests, "
                       "records_read FROM meta.stream_runs WHERE run_id = $r", {"r": run_id})
                   .fetchall()}
        models_s = con.execute("SELECT coalesce(sum(seconds), 0), count(*) FROM meta.model_runs "
                               "WHERE run_id = $r", {"r": run_id}).fetchone()
        listed = dict(con.execute("SELECT listed_state, count(*) FROM raw.go1_library_listings "
                                  "WHERE _run_id = $r GROUP BY 1", {"r": run_id}).fetchall())
        enrollments, learners = con.execute(
            "SELECT count(DISTINCT record ->> '$.id'), "
            "count(DISTINCT record ->> '$.user_account_id') "
            "FROM raw.go1_enrollments_latest").fetchone() or (0, 0)
        courses = con.execute("SELECT count(*) FROM marts.content_360").fetchone()
        attempts = con.execute("SELECT count(*) FROM marts.attempts_360").fetchone()
    finally:
        con.close()
    return {"run_id": run_id, "status": status, "counts": json.loads(counts or "{}"),
            "run_s": run_s, "streams": streams,
            "models_s": models_s[0] if models_s else 0.0,
            "models": models_s[1] if models_s else 0, "listed": listed,
            "enrollments": enrollments, "learners": learners,
            "courses": courses[0] if courses else 0, "attempts": attempts[0] if attempts else 0}


def minimum_calls(meta: dict[str, Any], learners_360: int,
                  groups: int) -> dict[str, dict[str, int]]:
    """The calls a first run needs at the documented maxima (see the module docstring)."""
    from load.bulk import BATCH_LIMITS

    catalog = sum(max(1, math.ceil(meta["listed"].get(state, 0) / GO1_SCROLL))
                  for state in ("published", "retired", "removed"))
    go1 = {"token": 1, "catalog scroll pages": catalog,
           "enrollment pages": math.ceil(meta["enrollments"] / GO1_PAGE),
           "accounts one by one (the list's hits carry no email)": meta["learners"]}
    plan = meta["counts"].get("plan", {})
    courses = sum(n for op, n in plan.get("courses", {}).items() if op != "archive")
    archives = plan.get("courses", {}).get("archive", 0)
    added = plan.get("courses", {}).get("add", 0)
    attempts = sum(plan.get("attempts", {}).values())
    submits = {
        "course upserts": math.ceil(courses / BATCH_LIMITS["courses_upsert"]),
        "course archives": math.ceil(archives / BATCH_LIMITS["courses_archive"]),
        "shares (catalog + library)": 2 * math.ceil(added * groups / BATCH_LIMITS["groups"]),
        "statistics": math.ceil(attempts / BATCH_LIMITS["stats"]),
    }
    writes = {**submits, "integration create": 1}
    reads = {"a poll and a results read per operation": 2 * sum(submits.values()),
             "user pages to match learners": math.ceil((learners_360 + 1) / L360_USERS_PAGE),
             "resourceId check": 1, "bulk-operations scope probe": 1,
             "setup (admin, integration, each share group)": 2 + groups}
    return {"go1": go1, "l360 writes": writes, "l360 reads": reads}


def one_size(enrollments: int, learning_objects: int, latency_ms: float,
             keep: Path | None) -> SizeFigures:
    from sandbox import users_for

    users = users_for(enrollments)
    with tempfile.TemporaryDirectory(prefix="scale-bench-") as tmp:
        folder = keep or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        emails = folder / "learners.txt"
        warehouse = folder / f"scale-{enrollments}.duckdb"
        for leftover in (warehouse, Path(f"{warehouse}.wal")):
            leftover.unlink(missing_ok=True)
        go1 = Served(["go1", "--port", "0", "--seed", "7", "--learning-objects",
                      str(learning_objects), "--enrollments", str(enrollments),
                      "--latency-ms", str(latency_ms), "--learner-emails-out", str(emails)], 5)
        try:
            l360 = Served(["l360", "--port", "0", "--learner-emails-file", str(emails)], 6)
            try:
                env = {**os.environ, **go1.env, **l360.env,
                       "GO1SYNC_WAREHOUSE": str(warehouse)}
                first = run_once(env, go1, l360, warehouse, folder / f"run1-{enrollments}.log")
                again = run_once(env, go1, l360, warehouse, folder / f"run2-{enrollments}.log")
                stats_again = run_once(env, go1, l360, warehouse,
                                       folder / f"run3-{enrollments}.log", ("run", "--only",
                                                                            "stats"))
            finally:
                l360.stop()
        finally:
            go1.stop()
        learners_360 = sum(1 for line in emails.read_text().splitlines() if line.strip())
        groups = len(l360.env["L360_GROUP_IDS"].split(",")) - 1
        for number, (label, run) in enumerate((("first", first), ("no-change", again),
                                               ("no-change statistics", stats_again)), 1):
            if run.exit_code != 0:
                log = folder / f"run{number}-{enrollments}.log"
                tail = "\n".join(log.read_text().splitlines()[-15:])
                print(f"warning: the {label} run at {enrollments:,} exited {run.exit_code}:\n"
                      f"{tail}", file=sys.stderr)
        return SizeFigures(enrollments, learning_objects, users, go1.ready_s, first, again,
                           stats_again, minimum_calls(first.meta, learners_360, groups))


# --- printing -------------------------------------------------------------------------------

def exponent(t1: float, t2: float, n1: int, n2: int) -> float:
    if t1 <= 0 or t2 <= 0 or n1 == n2:
        return math.nan
    return math.log(t2 / t1) / math.log(n2 / n1)


def met(ok: bool) -> str:
    return "met" if ok else "NOT met"


def print_size_detail(s: SizeFigures) -> None:
    f, a = s.first, s.again
    print(f"\n### {s.enrollments:,} enrollments, {s.learning_objects:,} learning objects, "
          f"{s.users:,} learners (Go1 sandbox ready in {s.go1_ready_s:.1f} s)\n")
    print(f"first run: exit {f.exit_code}, status {f.meta['status']}; "
          f"{f.meta['courses']:,} courses and {f.meta['attempts']:,} attempts in the marts, "
          f"planned {f.meta['counts'].get('plan')}; "
          f"{f.meta['enrollments']:,} enrollments of {f.meta['learners']:,} learners landed")
    streams = ", ".join(f"{name} {v['seconds']:.1f} s / {v['requests']:,} requests"
                        for name, v in f.meta["streams"].items())
    print(f"  streams (meta.stream_runs): {streams}")
    for label, run in (("first run", f), ("no-change run", a),
                       ("no-change statistics run", s.stats_again)):
        print(f"  peak (VmHWM) after each stage, {label}: " + ", ".join(
            f"{stage} {mb:.0f} MB" for stage, mb in run.peaks.items())
            + f"; at exit {run.peak_mb:.0f} MB")
    print(f"  models (meta.model_runs): {f.meta['models']} models, {f.meta['models_s']:.1f} s "
          f"of the transform's {f.stages.get('transform', math.nan):.1f} s")
    push = f.meta["counts"].get("push", {})
    print("  push (meta.runs.counts): " + ", ".join(
        f"{kind} {c.get('succeeded', 0):,} ok / {c.get('failed', 0):,} failed"
        for kind, c in push.items()))
    print("\n| API | route | calls (status: n) first run | no-change run |")
    print("| --- | --- | --- | --- |")
    for api, one, two in (("Go1", f.go1, a.go1), ("360", f.l360, a.l360)):
        for route in sorted(set(one) | set(two)):
            def told(by: dict[str, int] | None) -> str:
                return ", ".join(f"{st}: {n:,}" for st, n in sorted(by.items())) if by else "-"
            print(f"| {api} | `{route}` | {told(one.get(route))} | {told(two.get(route))} |")
    print("\nminimum for the first run (pages and submits at the documented maxima):")
    for group, parts in s.minimum.items():
        print(f"  {group}: " + ", ".join(f"{k} {v:,}" for k, v in parts.items())
              + f" = {sum(parts.values()):,}")


def print_tables(sizes: list[SizeFigures]) -> None:
    print("\n## Size sweep (`python bench/scale_bench.py`)\n")
    print("First run, fresh warehouse (wall from spawn to exit; stages timed in the child; "
          "rest: process start, lock, warehouse open, run record, summary; minimum: pages and "
          "submits at the documented maxima):\n")
    print("| enrollments | LOs | learners | extract s | transform s | plan s | push s | "
          "rest s | run wall s | Go1 calls / min | 360 writes / min | 360 reads / min | "
          "peak MB |")
    print("| " + " | ".join(["---"] * 13) + " |")
    for s in sizes:
        f, m = s.first, s.minimum
        st = f.stages
        print(f"| {s.enrollments:,} | {s.learning_objects:,} | {s.users:,} | "
              f"{st.get('extract', math.nan):.1f} | {st.get('transform', math.nan):.1f} | "
              f"{st.get('plan', math.nan):.1f} | {st.get('push_changes', math.nan):.1f} | "
              f"{f.rest_s:.1f} | {f.wall_s:.1f} | "
              f"{f.go1_calls:,} / {sum(m['go1'].values()):,} | "
              f"{f.l360_writes:,} / {sum(m['l360 writes'].values()):,} | "
              f"{f.l360_reads:,} / {sum(m['l360 reads'].values()):,} | {f.peak_mb:.0f} |")
    print("\nNothing changed: the whole `run` (catalog and statistics), then `run --only "
          "stats` (the statistics job; target at 2,000,000: < 5 s, one enrollment page, "
          "no write):\n")
    print("| enrollments | job | wall s | extract s | transform s | plan s | push s | rest s | "
          "enrollment pages | Go1 calls | 360 writes | 360 reads | peak MB |")
    print("| " + " | ".join(["---"] * 13) + " |")
    rows = [(size, job, run) for size in sizes
            for job, run in (("whole", size.again), ("stats", size.stats_again))]
    for s, job, a in rows:
        st = a.stages
        print(f"| {s.enrollments:,} | {job} | {a.wall_s:.1f} | "
              f"{st.get('extract', math.nan):.1f} | "
              f"{st.get('transform', math.nan):.1f} | {st.get('plan', math.nan):.1f} | "
              f"{st.get('push_changes', math.nan):.1f} | {a.rest_s:.1f} | "
              f"{a.enrollment_pages:,} | "
              f"{a.go1_calls:,} | {a.l360_writes:,} | {a.l360_reads:,} | {a.peak_mb:.0f} |")
    if len(sizes) > 1:
        print("\nGrowth exponent log(t2/t1)/log(n2/n1) between consecutive sizes "
              "(1.0 = linear):\n")
        print("| from | to | whole run | transform | extract | push |")
        print("| --- | --- | --- | --- | --- | --- |")
        for one, two in zip(sizes, sizes[1:], strict=False):
            n1, n2 = one.enrollments, two.enrollments

            def of(stage: str, a: SizeFigures = one, b: SizeFigures = two) -> float:
                return exponent(a.first.stages.get(stage, 0), b.first.stages.get(stage, 0),
                                a.enrollments, b.enrollments)
            print(f"| {n1:,} | {n2:,} | "
                  f"{exponent(one.first.wall_s, two.first.wall_s, n1, n2):.2f} | "
                  f"{of('transform'):.2f} | {of('extract'):.2f} | {of('push_changes'):.2f} |")

    print("\nTargets:")
    peaks = [(s.enrollments, max(s.first.peak_mb, s.again.peak_mb, s.stats_again.peak_mb))
             for s in sizes]
    worst = max(peaks, key=lambda p: p[1])
    print(f"- peak memory < {PEAK_TARGET_MB} MB at every size: "
          f"{met(all(p < PEAK_TARGET_MB for _, p in peaks))} "
          f"(highest {worst[1]:.0f} MB, at {worst[0]:,})")
    if len(sizes) > 1:
        exps = [exponent(a.first.stages.get("transform", 0), b.first.stages.get("transform", 0),
                         a.enrollments, b.enrollments) for a, b in zip(sizes, sizes[1:],
                                                                       strict=False)]
        print(f"- transform growth exponent <= 1.0: {met(all(e <= 1.0 for e in exps))} "
              f"({', '.join(f'{e:.2f}' for e in exps)})")
    last = sizes[-1]
    where = "" if last.enrollments == 2_000_000 else \
        f" (measured at {last.enrollments:,}; the target is set at 2,000,000)"
    for job, a in (("statistics job (`run --only stats`)", last.stats_again),
                   ("whole run, catalog listing included", last.again)):
        ok = a.wall_s < NO_CHANGE_TARGET_S and a.enrollment_pages == 1 and a.l360_writes == 0
        print(f"- no-change {job} < {NO_CHANGE_TARGET_S:.0f} s, one enrollment page, no "
              f"write: {met(ok)}: {a.wall_s:.1f} s, {a.enrollment_pages} enrollment page(s), "
              f"{a.l360_writes} write(s){where}")
    bad = [s.enrollments for s in sizes
           if s.first.exit_code or s.again.exit_code or s.stats_again.exit_code]
    if bad:
        print(f"- runs that did not exit 0 at: {', '.join(f'{n:,}' for n in bad)} "
              "(see the warnings above)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="100000,500000,1000000,2000000",
                        help="enrollments, comma-separated")
    parser.add_argument("--learning-objects", default="5000,20000,35000,50000",
                        help="learning objects, one per size, comma-separated")
    parser.add_argument("--latency-ms", type=float, default=0.0,
                        help="the Go1 sandbox's latency (default 0)")
    parser.add_argument("--keep", type=Path,
                        help="keep the warehouses and run logs in this folder")
    parser.add_argument("--child-run", nargs=argparse.REMAINDER, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child_run is not None:
        child_run(args.child_run[0], args.child_run[1:])
        return
    sizes = [int(n.replace("_", "")) for n in args.sizes.split(",") if n.strip()]
    los = [int(n.replace("_", "")) for n in args.learning_objects.split(",") if n.strip()]
    if len(sizes) != len(los):
        parser.error("--sizes and --learning-objects need as many values each")
    figures: list[SizeFigures] = []
    began = time.monotonic()
    for enrollments, learning_objects in zip(sizes, los, strict=True):
        print(f"... {enrollments:,} enrollments, {learning_objects:,} learning objects",
              file=sys.stderr, flush=True)
        figures.append(one_size(enrollments, learning_objects, args.latency_ms, args.keep))
        print_size_detail(figures[-1])
    print_tables(figures)
    print(f"\n(the sweep took {time.monotonic() - began:.0f} s)")


if __name__ == "__main__":
    main()
