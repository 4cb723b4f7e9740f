"""``python cli.py sandbox``: the local Go1 and 360Learning stand-ins, served until stopped."""

from __future__ import annotations

import signal
import time
from dataclasses import dataclass
from typing import Any

from go1sync.errors import Go1SyncError, UsageError
from sandbox.go1 import Go1Sandbox, Go1Seed
from sandbox.l360 import L360Sandbox
from sandbox.learners import learner_emails

LOOPBACK = ("127.0.0.1", "localhost", "::1")


@dataclass
class Served:
    go1: Go1Sandbox
    l360: L360Sandbox
    seconds: float  # to generate the data and start serving

    def env(self) -> dict[str, str]:
        """The settings' variables that point go1sync at both stand-ins."""
        return {**self.go1.env(), **self.l360.env()}


def listen(api: Any, host: str, port: int, option: str) -> None:
    """Serve a stand-in on ``host:port``; a port in use is one line naming it and the option."""
    try:
        api.serve(host=host, port=port)
    except OSError as exc:
        raise Go1SyncError(f"cannot listen on {host}:{port} ({option}): "
                           f"{exc.strerror or exc}") from None


def serve_sandboxes(host: str, go1_port: int, l360_port: int, seed: Go1Seed,
                    latency_ms: int) -> Served:
    """Both stand-ins on loopback; the 360Learning one knows the Go1 learners by email."""
    if host not in LOOPBACK:
        raise UsageError("the sandbox serves loopback only (--host 127.0.0.1)")
    began = time.monotonic()
    go1 = Go1Sandbox(seed)
    go1.faults.latency_ms = latency_ms
    listen(go1, host, go1_port, "--go1-port")
    l360 = L360Sandbox(learner_emails=learner_emails(go1))
    try:
        listen(l360, host, l360_port, "--l360-port")
    except Go1SyncError:
        go1.stop()
        raise
    return Served(go1, l360, time.monotonic() - began)


def wait_until_stopped(served: Served) -> None:
    """Until Ctrl-C or SIGTERM (how a service manager or a script stops it)."""
    def stop(signum: int, frame: object) -> None:
        served.go1.stop()  # wait() below returns once the server has stopped

    signal.signal(signal.SIGTERM, stop)
    try:
        served.go1.wait()
    except KeyboardInterrupt:
        pass
    finally:
        served.go1.stop()
        served.l360.stop()
