"""Webhook benchmark: the receiver and its micro-runs, and a micro-run's transform.

A. ``receiver``: ``python cli.py webhooks serve --listen 127.0.0.1:0 --batch-seconds 5`` as a
   child process, the Go1 sandbox in a process of its own (driven over its stdin, so the
   benchmark can change enrollments there) and the 360Learning sandbox in another, its rate
   limits on (the Go1 sandbox has none to turn on). One full ``run`` prepares the warehouse.
   Then a load generator (a thread pool in this process) sends signed deliveries, real
   ``enrollment.complete`` envelopes for enrollments it has just completed in Go1 and, one in
   ten, ``enrollment.create`` envelopes for enrollments it has just started there:

   - a full-speed run (``--fast-deliveries``, from ``--fast-senders`` concurrent senders, no
     pacing): the events accepted per second;
   - the paced run: ``--deliveries`` in bursts of ``--burst`` at ``--rate`` overall. Each
     burst is a batch of changes made in Go1 at once; its deliveries go at once, through
     ``--senders`` concurrent senders, and the next burst starts ``burst / rate`` seconds
     after it (``--even`` spreads each burst's deliveries evenly at ``--rate`` instead, from
     32 senders unless told). Measured: the acknowledgement latency (request sent to 2xx
     read; also split by whether a micro-run was running), and the time from a delivery's
     2xx to the submit of the 360Learning statistics operation carrying its enrollment
     (``meta.webhook_events`` -> ``meta.push_ledger`` -> ``meta.bulk_operations``), with
     each micro-run's time up to its first submit;
   - the peak memory (VmHWM) of the ``webhooks serve`` process.

B. ``microrun``: a warehouse of ``--enrollments`` enrollments built as transform_bench does
   (raw landed straight, one full transform), then ONE enrollment completed (a new raw
   version landed) and ``run_project(..., touched=...)`` timed, each time on a fresh change.

    python bench/webhook_bench.py                     # both parts, about 5 minutes
    python bench/webhook_bench.py --only receiver --deliveries 2000
    python bench/webhook_bench.py --only microrun --enrollments 100000
"""

from __future__ import annotations

import argparse
import gc
import hashlib
import hmac
import http.client
import json
import math
import os
import queue
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.memory import peak_rss_mb  # noqa: E402

SECRET = "bench-webhook-secret-not-a-real-one"
BATCH_SECONDS = 5.0
CREATE_EVERY = 10  # one delivery in ten is an enrollment.create, the others enrollment.complete
DRAIN_TIMEOUT = 600.0  # seconds to wait for the worker to empty the inbox
MICRORUN_REPEAT = 5


# -- figures --------------------------------------------------------------------------------

def percentile(values: Sequence[float], p: float) -> float:
    """The nearest-rank percentile (p in 0..100) of ``values``; NaN when there are none."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[rank - 1]


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def met(ok: bool) -> str:
    return "met" if ok else "NOT met"


# -- the Go1 sandbox, in its own process, changed over its stdin ----------------------------

def go1_child(args: argparse.Namespace) -> None:
    """Serve a Go1 sandbox; answer one JSON line per JSON line read on stdin:

    ``{"op": "complete", "ids": [...]}`` completes those enrollments (passed), and
    ``{"op": "create", "count": n, "los": [...]}`` starts n new in-progress enrollments on
    those learning objects for learners with an email; both answer ``{"events": [[type, data,
    sent], ...]}`` with the ``data`` Go1 puts in its envelope (``id``, ``lo_id``, ``user_id``)."""
    from sandbox.go1 import Go1Sandbox, Go1Seed
    from sandbox.learners import learner_emails

    go1 = Go1Sandbox(Go1Seed(seed=7, learning_objects=args.learning_objects, users=args.users,
                             enrollments=args.go1_enrollments))
    Path(args.go1_child).write_text("".join(f"{e}\n" for e in learner_emails(go1)), "utf-8")
    learners = sorted(str(a["id"]) for a in go1.user_accounts.values()
                      if ((a.get("user") or {}).get("email") or "").strip())
    go1.faults.latency_ms = args.go1_latency_ms
    gc.freeze()
    go1.serve()
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(0))
    print(json.dumps({"env": go1.env()}), flush=True)
    turn = 0
    for line in sys.stdin:
        request = json.loads(line)
        events: list[tuple[str, dict[str, str], str]] = []
        if request["op"] == "complete":
            for enrollment_id in request["ids"]:
                go1.complete_enrollment(enrollment_id, passed=True)
                events.append(_event(go1, "enrollment.complete", enrollment_id))
        elif request["op"] == "create":
            los: list[str] = request["los"]
            while len(events) < request["count"]:
                lo_id = los[turn % len(los)]
                user_id = learners[(turn // len(los) + turn) % len(learners)]
                turn += 1
                try:
                    new_id = go1.start_enrollment(lo_id, user_id)
                except ValueError:  # that learner already has an enrollment for it
                    continue
                events.append(_event(go1, "enrollment.create", new_id))
        print(json.dumps({"events": events}), flush=True)
    go1.stop()


def _event(go1: Any, event_type: str, enrollment_id: str) -> tuple[str, dict[str, str], str]:
    doc = go1.enrollments[enrollment_id]
    return (event_type, {"id": str(doc["id"]), "lo_id": str(doc["lo_id"]),
                         "user_id": str(doc["user_account_id"])}, str(doc["updated_time"]))


class Go1Process:
    def __init__(self, learning_objects: int, users: int, enrollments: int,
                 emails: Path, latency_ms: float) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, __file__, "--go1-child", str(emails),
             "--learning-objects", str(learning_objects), "--users", str(users),
             "--go1-enrollments", str(enrollments), "--go1-latency-ms", str(latency_ms)],
            cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        self.env: dict[str, str] = json.loads(self._line())["env"]
        self._lock = threading.Lock()

    def _line(self) -> str:
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if not line:
            raise SystemExit(f"the Go1 sandbox process ended (exit {self.proc.wait()})")
        return line

    def ask(self, request: dict[str, Any]) -> list[tuple[str, dict[str, str], str]]:
        assert self.proc.stdin is not None
        with self._lock:
            self.proc.stdin.write(json.dumps(request) + "\n")
            self.proc.stdin.flush()
            return [tuple(e) for e in json.loads(self._line())["events"]]  # type: ignore[misc]

    def stop(self) -> None:
        if self.proc.stdin is not None:
            self.proc.stdin.close()
        self.proc.terminate()
        self.proc.wait()


def start_l360(emails: Path) -> tuple[subprocess.Popen[str], dict[str, str]]:
    """The 360Learning sandbox in its own process, rate limits on (as push_bench runs it)."""
    proc = subprocess.Popen([sys.executable, "-m", "sandbox.l360", "--port", "0",
                             "--learner-emails-file", str(emails)],
                            cwd=ROOT, stdout=subprocess.PIPE, text=True)
    env: dict[str, str] = {}
    assert proc.stdout is not None
    for line in proc.stdout:
        if line.startswith("export "):
            name, _, value = line.removeprefix("export ").strip().partition("=")
            env[name] = value.strip("'\"")
            if len(env) == 6:
                break
    return proc, env


# -- the receiver: webhooks serve as a child process ----------------------------------------

class Serve:
    """``python cli.py webhooks serve`` with its stderr read into :attr:`lines`."""

    def __init__(self, env: dict[str, str], batch_seconds: float) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "cli.py", "webhooks", "serve", "--listen", "127.0.0.1:0",
             "--batch-seconds", str(batch_seconds)],
            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        self.lines: list[tuple[float, str]] = []
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self.lines.append((time.time(), line.rstrip()))
            if line.startswith("receiving Go1 webhooks on "):
                self.url = line.split(" on ", 1)[1].split(";", 1)[0].strip()
                break
        else:
            raise SystemExit("webhooks serve stopped before listening:\n"
                             + "\n".join(text for _, text in self.lines))
        self._reader = threading.Thread(target=self._read, args=(self.proc.stderr,),
                                        daemon=True)
        self._reader.start()
        parts = urlsplit(self.url)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80
        self.path = parts.path

    def _read(self, stream: IO[str]) -> None:
        for line in stream:
            self.lines.append((time.time(), line.rstrip()))

    def pending(self) -> int:
        conn = http.client.HTTPConnection(self.host, self.port, timeout=10)
        try:
            conn.request("GET", "/healthz")
            return int(json.loads(conn.getresponse().read())["pending"])
        finally:
            conn.close()

    def drain(self, timeout: float = DRAIN_TIMEOUT) -> float:
        """Wait until the worker has processed every stored event; the seconds waited."""
        began = time.monotonic()
        while self.pending():
            if time.monotonic() - began > timeout:
                raise SystemExit(f"the inbox still holds events after {timeout:.0f} s")
            time.sleep(0.25)
        return time.monotonic() - began

    def peak_mb(self) -> float:
        return _hwm_mb(self.proc.pid)

    def worker_peak_mb(self) -> float:
        """The worker's own peak: ``webhooks serve`` runs its micro-runs in a child process."""
        children = Path(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children")
        pids = children.read_text().split() if children.exists() else []
        return max((_hwm_mb(int(pid)) for pid in pids), default=math.nan)

    def stop(self) -> None:
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(30)
        self._reader.join(5)


def _hwm_mb(pid: int) -> float:
    try:
        lines = Path(f"/proc/{pid}/status").read_text().splitlines()
    except OSError:
        return math.nan
    for line in lines:
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return math.nan


# -- the load generator ---------------------------------------------------------------------

@dataclass
class Delivery:
    body: bytes
    event_key: str
    enrollment_id: str
    due: float = 0.0  # monotonic: when the schedule wanted it sent
    sent: float = 0.0  # monotonic: request started
    latency: float = 0.0  # seconds, request sent -> answer read
    acked_at: float = 0.0  # unix time the answer was read
    status: int = 0  # 0: no answer


def envelope(event_type: str, data: dict[str, str], sent: str) -> tuple[bytes, str]:
    """A Go1 delivery body, as the sandbox's sender shapes it; and its inbox key."""
    event_id = str(uuid.uuid4())
    body = {"id": event_id, "event_type": event_type, "webhook_version": "1", "sent": sent,
            "attempt_number": 1, "webhook_id": "benchHook01", "data": data}
    return json.dumps(body, separators=(",", ":")).encode(), f"id:{event_id}"


def signature(body: bytes, t: int) -> str:
    digest = hmac.new(SECRET.encode(), b"%d." % t + body, hashlib.sha256).hexdigest()
    return f"t={t},v1={digest}"


class Senders:
    """``count`` threads, each with its own kept-alive connection, sending what is queued."""

    def __init__(self, serve: Serve, count: int) -> None:
        self.serve = serve
        self.queue: queue.Queue[Delivery | None] = queue.Queue()
        self.threads = [threading.Thread(target=self._run, daemon=True) for _ in range(count)]
        for thread in self.threads:
            thread.start()

    def _connect(self) -> http.client.HTTPConnection:
        return http.client.HTTPConnection(self.serve.host, self.serve.port, timeout=30)

    def _run(self) -> None:
        conn = self._connect()
        while True:
            delivery = self.queue.get()
            if delivery is None:
                conn.close()
                return
            for _ in range(2):  # a kept-alive connection the server closed: once more
                headers = {"Content-Type": "application/json",
                           "Go1-Signature": signature(delivery.body, int(time.time()))}
                delivery.sent = time.monotonic()
                started = time.perf_counter()
                try:
                    conn.request("POST", self.serve.path, body=delivery.body, headers=headers)
                    answer = conn.getresponse()
                    answer.read()
                except (OSError, http.client.HTTPException):
                    conn.close()
                    conn = self._connect()
                    continue
                delivery.latency = time.perf_counter() - started
                delivery.acked_at = time.time()
                delivery.status = answer.status
                break

    def close(self) -> None:
        for _ in self.threads:
            self.queue.put(None)
        for thread in self.threads:
            thread.join()


@dataclass
class Candidates:
    """What the load generator may change in Go1: enrollments to complete, objects to start
    new enrollments on."""

    complete: list[str]
    los: list[str]
    taken: int = 0

    def changes(self, go1: Go1Process, count: int) -> list[tuple[str, dict[str, str], str]]:
        """``count`` changes made in Go1 now (one in :data:`CREATE_EVERY` a new enrollment),
        in the order their deliveries go."""
        creates = sum(1 for i in range(count) if (self.taken + i) % CREATE_EVERY
                      == CREATE_EVERY - 1)
        ids = self.complete[:count - creates]
        if len(ids) < count - creates:
            raise SystemExit(f"only {len(self.complete):,} more enrollments to complete: "
                             "give the Go1 sandbox more (--go1-enrollments)")
        del self.complete[:count - creates]
        completed = go1.ask({"op": "complete", "ids": ids}) if ids else []
        created = go1.ask({"op": "create", "count": creates, "los": self.los}) if creates \
            else []
        out = []
        for i in range(count):
            source = created if (self.taken + i) % CREATE_EVERY == CREATE_EVERY - 1 \
                else completed
            out.append(source.pop(0))
        self.taken += count
        return out


def deliveries_of(changes: Sequence[tuple[str, dict[str, str], str]]) -> list[Delivery]:
    out = []
    for event_type, data, sent in changes:
        body, key = envelope(event_type, data, sent)
        out.append(Delivery(body, key, data["id"]))
    return out


@dataclass
class LoadResult:
    deliveries: list[Delivery]
    seconds: float  # first send to last answer
    change_seconds: list[float] = field(default_factory=list)  # Go1 changes, per burst

    @property
    def ok(self) -> list[Delivery]:
        return [d for d in self.deliveries if 200 <= d.status < 300]

    @property
    def rate(self) -> float:
        return len(self.ok) / self.seconds if self.seconds else math.nan


def full_speed(serve: Serve, go1: Go1Process, candidates: Candidates, count: int,
               senders: int) -> LoadResult:
    batch = deliveries_of(candidates.changes(go1, count))
    pool = Senders(serve, senders)
    began = time.monotonic()
    for delivery in batch:
        delivery.due = began
        pool.queue.put(delivery)
    pool.close()
    return _result(batch, [])


def paced(serve: Serve, go1: Go1Process, candidates: Candidates, count: int, burst: int,
          rate: float, senders: int, even: bool) -> LoadResult:
    pool = Senders(serve, senders)
    sent: list[Delivery] = []
    change_seconds: list[float] = []
    start = time.monotonic() + 0.5
    for first in range(0, count, burst):
        burst_due = start + first / rate
        _sleep_until(burst_due)
        began = time.monotonic()
        batch = deliveries_of(candidates.changes(go1, min(burst, count - first)))
        change_seconds.append(time.monotonic() - began)
        for j, delivery in enumerate(batch):
            delivery.due = burst_due + (j / rate if even else 0.0)
            if even:
                _sleep_until(delivery.due)
            pool.queue.put(delivery)
            sent.append(delivery)
    pool.close()
    return _result(sent, change_seconds)


def _sleep_until(moment: float) -> None:
    delay = moment - time.monotonic()
    if delay > 0:
        time.sleep(delay)


def _result(batch: list[Delivery], change_seconds: list[float]) -> LoadResult:
    answered = [d for d in batch if d.status]
    first = min((d.sent for d in answered), default=0.0)
    last = max((d.sent + d.latency for d in answered), default=0.0)
    return LoadResult(batch, last - first, change_seconds)


# -- part A ---------------------------------------------------------------------------------

def full_run(env: dict[str, str]) -> float:
    began = time.monotonic()
    out = subprocess.run([sys.executable, "cli.py", "run"], cwd=ROOT, env=env,
                         capture_output=True, text=True, check=False)
    if out.returncode != 0:
        raise SystemExit(f"the preparing run failed (exit {out.returncode}):\n{out.stdout}\n"
                         f"{out.stderr}")
    return time.monotonic() - began


def candidates_of(warehouse: Path) -> tuple[Candidates, dict[str, int]]:
    """Enrollments whose completion 360Learning must hear of: open attempts (closed by it),
    and enrollments not started yet of synced courses (a new, closed attempt); shuffled with a
    fixed seed so the bursts mix courses and learners."""
    import random

    from warehouse import open_warehouse

    con = open_warehouse(warehouse, read_only=True)
    try:
        rows = con.execute("""
            SELECT m.enrollment_id, m.outcome
            FROM marts.enrollment_mapping AS m
            JOIN marts.content_360 AS c ON c.external_id = m.lo_id AND NOT c.archived
            WHERE m.email IS NOT NULL
              AND ((m.outcome = 'attempt' AND m.status = 'in-progress')
                   OR (m.outcome = 'status_ignored' AND m.status <> 'completed'))
            ORDER BY 1""").fetchall()
        los = [str(r[0]) for r in con.execute(
            "SELECT external_id FROM marts.content_360 WHERE NOT archived ORDER BY 1")
            .fetchall()]
        sizes = {"enrollments": int(_one(con, "SELECT count(*) FROM staging.go1_enrollments")),
                 "attempts": int(_one(con, "SELECT count(*) FROM marts.attempts_360")),
                 "courses": len(los)}
    finally:
        con.close()
    ids = [str(r[0]) for r in rows]
    random.Random(7).shuffle(ids)
    sizes["open"] = sum(1 for r in rows if r[1] == "attempt")
    sizes["not_started"] = len(rows) - sizes["open"]
    return Candidates(ids, los), sizes


def _one(con: Any, sql: str) -> Any:
    row = con.execute(sql).fetchone()
    return row[0] if row else None


@dataclass
class Submits:
    seconds: list[float]  # delivery 2xx -> its statistics operation submitted
    missing: int  # deliveries answered 2xx whose enrollment no operation carried
    runs: list[dict[str, Any]]  # the micro-runs of the paced run
    intervals: list[tuple[float, float]]  # every micro-run, (start, end) in unix seconds


def submits_of(warehouse: Path, deliveries: Sequence[Delivery]) -> Submits:
    from warehouse import open_warehouse

    acked = {d.event_key: d.acked_at for d in deliveries if 200 <= d.status < 300}
    con = open_warehouse(warehouse, read_only=True)
    try:
        rows = con.execute("""
            SELECT w.event_key, min(epoch_ms(b.submitted_at)) / 1000.0
            FROM meta.webhook_events AS w
            JOIN meta.push_ledger AS l
              ON l.kind = 'attempt' AND l.key = w.object_id AND l.run_id >= w.run_id
            JOIN meta.bulk_operations AS b ON b.operation_id = l.bulk_operation_id
            WHERE w.event_key IN (SELECT unnest($keys))
            GROUP BY 1""", {"keys": sorted(acked)}).fetchall()
        runs = con.execute("""
            WITH ours AS (SELECT DISTINCT run_id FROM meta.webhook_events
                          WHERE event_key IN (SELECT unnest($keys)))
            SELECT r.run_id, r.status,
                   (SELECT count(*) FROM meta.webhook_events AS w WHERE w.run_id = r.run_id),
                   epoch_ms(r.finished_at) - epoch_ms(r.started_at),
                   (SELECT max(epoch_ms(w.processed_at)) - epoch_ms(r.started_at)
                    FROM meta.webhook_events AS w WHERE w.run_id = r.run_id),
                   (SELECT sum(m.seconds) FROM meta.model_runs AS m WHERE m.run_id = r.run_id),
                   (SELECT min(epoch_ms(b.submitted_at)) - epoch_ms(r.started_at)
                    FROM meta.bulk_operations AS b WHERE b.run_id = r.run_id),
                   (SELECT count(*) FROM meta.push_ledger AS l
                    WHERE l.run_id = r.run_id AND l.kind = 'attempt')
            FROM meta.runs AS r JOIN ours USING (run_id) ORDER BY 1""",
            {"keys": sorted(acked)}).fetchall()
        intervals = [(float(a) / 1000, float(b) / 1000) for a, b in con.execute(
            "SELECT epoch_ms(started_at), epoch_ms(finished_at) FROM meta.runs "
            "WHERE command = 'webhook' AND finished_at IS NOT NULL").fetchall()]
    finally:
        con.close()
    seconds = [float(submitted) - acked[key] for key, submitted in rows]
    return Submits(seconds, len(acked) - len(rows), [
        {"run": r[0], "status": r[1], "events": r[2], "seconds": (r[3] or 0) / 1000,
         "reads": (r[4] or 0) / 1000, "transform": r[5] or 0.0,
         "to_first_submit": (r[6] or 0) / 1000 if r[6] is not None else math.nan,
         "attempts": r[7]} for r in runs], intervals)


@dataclass
class ReceiverFigures:
    prepare_s: float
    run_s: float
    sizes: dict[str, int]
    fast: LoadResult
    fast_drain_s: float
    paced: LoadResult
    paced_drain_s: float
    submits: Submits
    peak_mb: float
    worker_peak_mb: float
    log: list[str]
    seconds: float = 0.0


def part_receiver(args: argparse.Namespace) -> ReceiverFigures:
    began = time.monotonic()
    with tempfile.TemporaryDirectory() as tmp:
        emails = Path(tmp) / "learners.txt"
        warehouse = Path(tmp) / "webhooks.duckdb"
        go1 = Go1Process(args.learning_objects_a, args.users_a, args.go1_enrollments, emails,
                         args.go1_latency_ms)
        l360, l360_env = start_l360(emails)
        serve: Serve | None = None
        try:
            env = {**os.environ, **go1.env, **l360_env, "GO1SYNC_WAREHOUSE": str(warehouse),
                   "GO1_WEBHOOK_SECRET": SECRET}
            prepared = time.monotonic() - began
            print(f"  sandboxes up in {prepared:.1f}s; the preparing `run`...", flush=True)
            run_s = full_run(env)
            candidates, sizes = candidates_of(warehouse)
            print(f"  run: {run_s:.1f}s for {sizes['enrollments']:,} enrollments, "
                  f"{sizes['attempts']:,} attempts, {sizes['courses']:,} courses; "
                  f"{sizes['open']:,} open attempts and {sizes['not_started']:,} enrollments "
                  "not started to complete", flush=True)
            serve = Serve(env, args.batch_seconds)
            fast = full_speed(serve, go1, candidates, args.fast_deliveries, args.fast_senders)
            print(f"  full speed: {len(fast.ok):,} of {len(fast.deliveries):,} accepted in "
                  f"{fast.seconds:.1f}s = {fast.rate:,.0f} events/s", flush=True)
            fast_drain = serve.drain()
            paced_run = paced(serve, go1, candidates, args.deliveries, args.burst, args.rate,
                              args.senders, args.even)
            print(f"  paced: {len(paced_run.ok):,} of {len(paced_run.deliveries):,} accepted "
                  f"in {paced_run.seconds:.1f}s", flush=True)
            paced_drain = serve.drain()
            peak, worker_peak = serve.peak_mb(), serve.worker_peak_mb()
            serve.stop()
            log = [text for _, text in serve.lines]
            serve = None
            submits = submits_of(warehouse, paced_run.deliveries)
        finally:
            if serve is not None:
                serve.stop()
            go1.stop()
            l360.terminate()
            l360.wait()
    return ReceiverFigures(prepared, run_s, sizes, fast, fast_drain, paced_run, paced_drain,
                           submits, peak, worker_peak, log, time.monotonic() - began)


def report_receiver(args: argparse.Namespace, f: ReceiverFigures) -> list[tuple[str, ...]]:
    mode = "evenly" if args.even else f"in bursts of {args.burst:,}"
    p = f.paced
    lat = [d.latency for d in p.ok]
    lag = [d.sent - d.due for d in p.deliveries if d.status]
    spans: dict[float, float] = {}  # a burst's due time -> its last delivery's answer
    for d in p.deliveries:
        spans[d.due] = max(spans.get(d.due, 0.0), d.sent + d.latency - d.due)
    during = _during(p.ok, f.submits.intervals)
    lat_in = [d.latency for d, inside in zip(p.ok, during, strict=True) if inside]
    lat_out = [d.latency for d, inside in zip(p.ok, during, strict=True) if not inside]
    statuses: dict[int, int] = {}
    for d in p.deliveries + f.fast.deliveries:
        statuses[d.status] = statuses.get(d.status, 0) + 1
    print(f"\nA. receiver and worker ({f.seconds:.0f}s in all: sandboxes {f.prepare_s:.0f}s, "
          f"preparing run {f.run_s:.0f}s)")
    fast_lat = [d.latency for d in f.fast.ok]
    print(f"  full speed: {len(f.fast.ok):,} deliveries from {args.fast_senders} senders in "
          f"{f.fast.seconds:.2f}s = {f.fast.rate:,.0f} events/s accepted; ack p50 "
          f"{ms(percentile(fast_lat, 50))}, p95 {ms(percentile(fast_lat, 95))}, max "
          f"{ms(max(fast_lat, default=math.nan))}; the worker then took {f.fast_drain_s:.1f}s "
          "more to empty the inbox")
    offered = len(p.deliveries) / (len(p.deliveries) / args.rate)
    print(f"  paced: {len(p.ok):,} of {len(p.deliveries):,} deliveries accepted, {mode} at "
          f"{offered:,.0f}/s overall through {args.senders} senders, in {p.seconds:.1f}s "
          f"(achieved {len(p.ok) / p.seconds:,.0f}/s); "
          + (f"send lag p95 {ms(percentile(lag, 95))}" if args.even else
             f"a burst answered in {statistics.median(spans.values()):.2f}s (median), "
             f"{max(spans.values()):.2f}s at most")
          + f"; Go1 changes {ms(statistics.median(p.change_seconds))} a burst (median)")
    print(f"    ack latency: p50 {ms(percentile(lat, 50))}, p95 {ms(percentile(lat, 95))}, "
          f"p99 {ms(percentile(lat, 99))}, max {ms(max(lat, default=math.nan))} "
          f"(target p95 < 50 ms: {met(percentile(lat, 95) < 0.050)})")
    print(f"      while a micro-run ran: {len(lat_in):,} deliveries, p50 "
          f"{ms(percentile(lat_in, 50))}, p95 {ms(percentile(lat_in, 95))}; while none did: "
          f"{len(lat_out):,}, p50 {ms(percentile(lat_out, 50))}, p95 "
          f"{ms(percentile(lat_out, 95))}")
    s = f.submits
    limit = args.batch_seconds + 2
    print(f"    delivery-to-submit: p50 {percentile(s.seconds, 50):.2f}s, p95 "
          f"{percentile(s.seconds, 95):.2f}s, max {max(s.seconds, default=math.nan):.2f}s "
          f"over {len(s.seconds):,} deliveries ({s.missing:,} with no operation found) "
          f"(target p95 < {limit:g} s: {met(percentile(s.seconds, 95) < limit)}); the inbox "
          f"was empty {f.paced_drain_s:.1f}s after the last 2xx")
    print(f"  answers: {dict(sorted(statuses.items()))}")
    print(f"  peak memory of `webhooks serve` (VmHWM): receiver {f.peak_mb:.0f} MB, worker "
          f"process {f.worker_peak_mb:.0f} MB")
    print(f"  micro-runs of the paced run ({len(s.runs)}), from the run's start: Go1 reads "
          "landed (the events' processed_at), the models' seconds, the rest up to the first "
          "submit (recording the events, plan, push), the first submit, the run's end")
    for r in s.runs:
        rest = r["to_first_submit"] - r["reads"] - r["transform"]
        print(f"    run {r['run']:>3} {r['status']:<8} {r['events']:>5,} events, "
              f"{r['attempts']:>5,} attempts: reads {r['reads']:5.2f}s + models "
              f"{r['transform']:4.2f}s + rest {rest:5.2f}s = first submit at "
              f"{r['to_first_submit']:5.2f}s; ended at {r['seconds']:5.2f}s")
    problems = [line for line in f.log if "failed" in line or "Traceback" in line]
    for line in problems[:10]:
        print(f"  serve: {line}")
    return [
        (f"Webhook acknowledgement, {len(p.deliveries):,} deliveries {mode} at "
         f"{args.rate:g}/s", f"p50 {ms(percentile(lat, 50))}, p95 {ms(percentile(lat, 95))}, "
         f"max {ms(max(lat, default=math.nan))}", "p95 < 50 ms",
         met(percentile(lat, 95) < 0.050)),
        (f"Events accepted at full speed ({len(f.fast.deliveries):,} deliveries, "
         f"{args.fast_senders} senders)", f"{f.fast.rate:,.0f} events/s", "", ""),
        (f"Delivery 2xx to statistics submit (batch-seconds {args.batch_seconds:g})",
         f"p50 {percentile(s.seconds, 50):.2f} s, p95 {percentile(s.seconds, 95):.2f} s",
         f"p95 < {limit:g} s", met(percentile(s.seconds, 95) < limit)),
        ("Peak memory of `webhooks serve` (receiver / worker process)",
         f"{f.peak_mb:.0f} MB / {f.worker_peak_mb:.0f} MB", "", ""),
    ]


def _during(deliveries: Sequence[Delivery],
            intervals: Sequence[tuple[float, float]]) -> list[bool]:
    """Whether each delivery was in flight while a micro-run ran."""
    out = []
    for d in deliveries:
        start = d.acked_at - d.latency
        out.append(any(a <= d.acked_at and start <= b for a, b in intervals))
    return out


# -- part B ---------------------------------------------------------------------------------

def microrun_child(warehouse: str, repeat: int) -> None:
    """The full transform once, then ``repeat`` micro-runs of one completion each."""
    import duckdb

    from extract.landing import ENROLLMENTS, WHOLE_BODY, land_bodies, settle
    from go1sync.settings import load_config
    from warehouse import open_warehouse
    from warehouse.models import run_project
    from warehouse.runs import start_run
    from warehouse.transform import project_for

    config = load_config(env={**os.environ, "GO1SYNC_WAREHOUSE": warehouse,
                              "GO1_PORTAL_URL": "https://acme.mygo1.com"})
    project = project_for(config)
    con = open_warehouse(warehouse, memory_limit=config.memory_limit())
    began = time.perf_counter()
    full = run_project(con, project, start_run(con, "bench", {}))
    full_s = time.perf_counter() - began
    picked = [str(r[0]) for r in con.execute(
        "SELECT go1_enrollment_id FROM marts.attempts_360 WHERE attempt_state = 'open' "
        "ORDER BY go1_enrollment_id LIMIT ?", [repeat]).fetchall()]
    runs = []
    for enrollment_id in picked:
        record = json.loads(_one(con, "SELECT record FROM raw.go1_enrollments_latest "
                                      f"WHERE enrollment_id = '{enrollment_id}'"))
        now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        record.update({"status": "completed", "pass": True, "result": 100, "end_date": now,
                       "updated_time": now})
        run_id = start_run(con, "bench", {})
        land_bodies(con, ENROLLMENTS, run_id, datetime.now(UTC), [json.dumps(record)],
                    hits_path=WHOLE_BODY)
        settle(con, ENROLLMENTS, run_id)
        touched: dict[str, set[str]] = {"enrollment": {enrollment_id}, "learning_object": set(),
                                        "user_account": set()}
        began = time.perf_counter()
        result = run_project(con, project, run_id, touched=touched)
        seconds = time.perf_counter() - began
        state = _one(con, "SELECT attempt_state FROM marts.attempts_360 "
                          f"WHERE go1_enrollment_id = '{enrollment_id}'")
        if state != "closed":
            raise SystemExit(f"the micro-run left enrollment {enrollment_id}'s attempt {state}")
        runs.append({"enrollment": enrollment_id, "seconds": seconds,
                     "models": [(m.name, m.rows, m.seconds) for m in result.models],
                     "audits": len(result.audits)})
    con.close()
    print(json.dumps({"full_s": full_s, "duckdb": duckdb.__version__,
                      "full_models": [(m.name, m.rows, m.seconds) for m in full.models],
                      "runs": runs, "peak_rss_mb": peak_rss_mb()}))


@dataclass
class MicrorunFigures:
    landed: dict[str, Any]
    land_s: float
    child: dict[str, Any]
    seconds: float


def part_microrun(args: argparse.Namespace) -> MicrorunFigures:
    from bench.transform_bench import land

    began = time.monotonic()
    with tempfile.TemporaryDirectory() as tmp:
        warehouse = Path(tmp) / "micro.duckdb"
        landed = land(warehouse, args.learning_objects, args.users, args.enrollments)
        land_s = time.monotonic() - began
        print(f"  raw layer: {landed['learning_objects']:,} learning objects in My Library, "
              f"{landed['enrollments']:,} enrollments, {landed['users']:,} users "
              f"({land_s:.0f}s)", flush=True)
        out = subprocess.run([sys.executable, __file__, "--microrun-child", str(warehouse),
                              "--repeat", str(args.repeat)], cwd=ROOT, capture_output=True,
                             text=True, env=dict(os.environ), check=False)
        if out.returncode != 0:
            raise SystemExit(out.stderr)
        child = json.loads(out.stdout.strip().splitlines()[-1])
    return MicrorunFigures(landed, land_s, child, time.monotonic() - began)


def report_microrun(args: argparse.Namespace, f: MicrorunFigures) -> list[tuple[str, ...]]:
    runs = f.child["runs"]
    seconds = [r["seconds"] for r in runs]
    median = statistics.median(seconds)
    print(f"\nB. micro-run transform on {f.landed['enrollments']:,} enrollments "
          f"({f.seconds:.0f}s in all: landing {f.land_s:.0f}s)")
    print(f"  full transform: {f.child['full_s']:.1f}s")
    print(f"  one completion, {len(runs)} times, each a fresh enrollment: "
          + ", ".join(f"{s:.3f}s" for s in seconds)
          + f"; median {median:.3f}s (target < 1 s: {met(median < 1.0)})")
    names = [name for name, _, _ in runs[0]["models"]]
    per_model = {name: statistics.median(next(s for n, _, s in r["models"] if n == name)
                                         for r in runs) for name in names}
    full = {name: s for name, _, s in f.child["full_models"]}
    print(f"  {'incremental model':<28} {'rows':>9} {'micro-run':>10} {'full':>8}")
    for name, rows, _ in runs[0]["models"]:
        print(f"  {name:<28} {rows:>9,} {per_model[name]:9.3f}s {full.get(name, math.nan):7.2f}s")
    rest = median - sum(per_model.values())
    print(f"  audits ({runs[0]['audits']}), recording and commit: {rest:.3f}s (median run "
          "less the models' medians)")
    return [
        (f"Micro-run transform, one completion, {f.landed['enrollments']:,} enrollments",
         f"{median:.2f} s (median of {len(runs)})", "< 1 s", met(median < 1.0)),
        (f"Full transform, {f.landed['enrollments']:,} enrollments",
         f"{f.child['full_s']:.1f} s", "", ""),
    ]


# -- main -----------------------------------------------------------------------------------

def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", choices=("receiver", "microrun"))
    parser.add_argument("--deliveries", type=int, default=10_000)
    parser.add_argument("--burst", type=int, default=500)
    parser.add_argument("--rate", type=float, default=200.0, help="deliveries/s overall")
    parser.add_argument("--senders", type=int,
                        help="concurrent senders of the paced run (default: 8 in bursts, 32 "
                             "with --even, so that a slow answer does not hold the schedule "
                             "back)")
    parser.add_argument("--even", action="store_true",
                        help="spread each burst's deliveries evenly at --rate")
    parser.add_argument("--fast-deliveries", type=int, default=2_000)
    parser.add_argument("--fast-senders", type=int, default=8)
    parser.add_argument("--batch-seconds", type=float, default=BATCH_SECONDS)
    parser.add_argument("--go1-enrollments", type=int, default=40_000,
                        help="the Go1 sandbox of part A (default %(default)s)")
    parser.add_argument("--go1-latency-ms", type=float, default=0.0,
                        help="latency of every Go1 sandbox answer (default %(default)s)")
    parser.add_argument("--users-a", type=int, default=1_600)
    parser.add_argument("--learning-objects-a", type=int, default=2_000)
    parser.add_argument("--enrollments", type=int, default=500_000, help="part B's warehouse")
    parser.add_argument("--users", type=int, default=20_000)
    parser.add_argument("--learning-objects", type=int, default=50_000)
    parser.add_argument("--repeat", type=int, default=MICRORUN_REPEAT)
    parser.add_argument("--go1-child", help=argparse.SUPPRESS)
    parser.add_argument("--microrun-child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.senders is None:
        args.senders = 32 if args.even else 8
    if args.go1_child:
        go1_child(args)
        return
    if args.microrun_child:
        microrun_child(args.microrun_child, args.repeat)
        return

    rows: list[tuple[str, ...]] = []
    parts: list[tuple[str, Callable[[], list[tuple[str, ...]]]]] = []
    if args.only in (None, "receiver"):
        parts.append(("receiver", lambda: report_receiver(args, part_receiver(args))))
    if args.only in (None, "microrun"):
        parts.append(("microrun", lambda: report_microrun(args, part_microrun(args))))
    for name, run in parts:
        print(f"{name}...", flush=True)
        rows += run()
    print("\n| Webhook benchmark | Figure | Target | |\n|---|---|---|---|")
    for row in rows:
        print("| " + " | ".join(row) + " |")


if __name__ == "__main__":
    main()
