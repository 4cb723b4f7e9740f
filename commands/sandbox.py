"""``python cli.py sandbox``: the local Go1 and 360Learning stand-ins, served until stopped.

The stand-ins keep their data in memory, so each start is a new Go1 and a new, empty
360Learning platform. Hence the sandbox's own warehouse, exported as ``GO1SYNC_WAREHOUSE`` with
the other settings and replaced at each start: state pushed to one sandbox session (its ledger,
its platform) would otherwise land in the default warehouse, and later refuse a real platform or
mislead the next session.
"""

from __future__ import annotations

import fcntl
import os
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from go1sync.errors import Go1SyncError, UsageError
from go1sync.settings import setting_env
from sandbox import check_port, listen_error
from sandbox.go1 import Go1Sandbox, Go1Seed
from sandbox.l360 import L360Sandbox
from sandbox.learners import learner_emails
from warehouse.lock import RunLock

LOOPBACK = ("127.0.0.1", "localhost", "::1")
WAREHOUSE_ENV = setting_env("warehouse.path")
#: Beside the sandbox's warehouse: it may be emptied (one without it is never deleted). Locked
#: while the sandbox runs; a ``.lock`` name, so git ignores it as it does the run lock.
MARKER_SUFFIX = ".sandbox.lock"


@dataclass
class Served:
    go1: Go1Sandbox
    l360: L360Sandbox
    warehouse: Path  # absolute: the exported value works from any folder
    seconds: float  # to generate the data and start serving
    warehouse_claim: int = -1  # the marker's descriptor, held (locked) until the sandbox stops

    def env(self) -> dict[str, str]:
        """The settings' variables that point go1sync at both stand-ins and their warehouse."""
        return {**self.go1.env(), **self.l360.env(), WAREHOUSE_ENV: str(self.warehouse)}


def listen(api: Any, host: str, port: int, option: str) -> None:
    """Serve a stand-in on ``host:port``; a port in use is one line naming it and the option
    (exit 1, as something else holds it: the options are not wrong)."""
    try:
        api.serve(host=host, port=port)
    except OSError as exc:
        raise Go1SyncError(listen_error(host, port, option, exc)) from None


def claim_warehouse(path: Path) -> tuple[Path, int]:
    """Empty the sandbox's warehouse for a new session, and hold it while the sandbox runs.

    The marker file beside it says the file is the sandbox's: one without it (``--warehouse``
    pointed at a real warehouse, say) is refused, never deleted. The marker is locked
    (``flock``) for the whole session, so a second sandbox on other ports cannot empty the
    warehouse of one still running, and a run still using it (its run lock held) makes the
    start fail in one line. Returns the absolute path and the marker's descriptor, whose closing
    (by :func:`wait_until_stopped`, or the process ending) lets the warehouse go.
    """
    path = path.expanduser().absolute()
    marker = Path(f"{path}{MARKER_SUFFIX}")
    if path.exists() and not marker.exists():
        raise UsageError(f"{path} exists and is not a sandbox warehouse (no {marker.name} "
                         "beside it): it is left alone; choose another --warehouse")
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(marker, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise Go1SyncError(f"{path} is the warehouse of a sandbox still running: stop "
                               "it, or give this one another --warehouse") from None
        with RunLock(path, "sandbox"):  # refused, in one line, while a run uses it
            for leftover in (path, Path(f"{path}.wal")):
                leftover.unlink(missing_ok=True)
        os.ftruncate(fd, 0)
        os.write(fd, f"warehouse of `python cli.py sandbox` (pid {os.getpid()}), emptied each "
                     "time it starts\n".encode())
    except BaseException:
        os.close(fd)
        raise
    return path, fd


def generate(seed: Go1Seed) -> Go1Sandbox:
    """The Go1 stand-in's data; a size it cannot generate is a usage error naming the flags."""
    try:
        return Go1Sandbox(seed)
    except ValueError:
        raise UsageError(f"cannot generate {seed.enrollments:,} enrollments for {seed.users:,} "
                         f"users and {seed.learning_objects:,} learning objects: give more "
                         "--users or --learning-objects (without --users, it grows with "
                         "--enrollments)") from None


def serve_sandboxes(host: str, go1_port: int, l360_port: int, seed: Go1Seed,
                    latency_ms: int, warehouse: Path) -> Served:
    """Both stand-ins on loopback; the 360Learning one knows the Go1 learners by email."""
    if host not in LOOPBACK:
        raise UsageError("the sandbox serves loopback only (--host 127.0.0.1)")
    if go1_port and go1_port == l360_port:
        raise UsageError(f"--go1-port and --l360-port are both {go1_port}: each stand-in needs "
                         "its own port")
    for port, option in ((go1_port, "--go1-port"), (l360_port, "--l360-port")):
        try:  # before generating the data, which may take seconds
            check_port(host, port)
        except OSError as exc:
            raise Go1SyncError(listen_error(host, port, option, exc)) from None
    path, claim = claim_warehouse(warehouse)
    began = time.monotonic()
    go1: Go1Sandbox | None = None
    l360: L360Sandbox | None = None
    try:
        go1 = generate(seed)
        go1.faults.latency_ms = latency_ms
        l360 = L360Sandbox(learner_emails=learner_emails(go1))
        listen(go1, host, go1_port, "--go1-port")
        listen(l360, host, l360_port, "--l360-port")
    except BaseException:
        for api in (go1, l360):
            if api is not None:
                api.stop()
        os.close(claim)
        raise
    return Served(go1, l360, path, time.monotonic() - began, claim)


def wait_until_stopped(served: Served, ready: Callable[[], None] = lambda: None) -> None:
    """Until Ctrl-C or SIGTERM (how a service manager or a script stops it). ``ready`` runs
    once the handler is in place: what it prints may be read as "ready", and a SIGTERM sent
    on reading it must find the handler, not Python's default (exit -15)."""
    def stop(signum: int, frame: object) -> None:
        served.go1.stop()  # wait() below returns once the server has stopped

    signal.signal(signal.SIGTERM, stop)
    ready()
    try:
        served.go1.wait()
    except KeyboardInterrupt:
        pass
    finally:
        served.go1.stop()
        served.l360.stop()
        if served.warehouse_claim >= 0:
            os.close(served.warehouse_claim)
