"""``python cli.py webhooks register | list | remove | serve``: Go1 events within seconds.

The receiver (``go1sync/webhooks/``) stores each verified delivery in the inbox, a folder
beside the warehouse that needs no lock of the warehouse's (a scheduled run may hold it for
minutes); the worker here takes the inbox's pending events and processes them as one
micro-run (``commands/microrun.py``), once they have gathered: up to ``batch_seconds`` from
the oldest, and no longer than :data:`QUIET_SECONDS` after the last one came. A micro-run that
fails leaves its events pending and is tried again after a backoff that doubles up to
:data:`MAX_BACKOFF`; one that finds the warehouse held by a run is no failure: the worker
looks again every :data:`LOCK_POLL` seconds and goes once the run is over (a stop request is
heard meanwhile).
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import signal
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from multiprocessing.process import BaseProcess
from typing import Protocol

from commands.microrun import micro_run
from commands.report import RunReport
from extract.client import Go1Client
from extract.events import EventRef
from extract.subscriptions import Registered, Webhook, find, list_webhooks, register, remove
from go1sync.errors import Go1SyncError
from go1sync.settings import Config
from go1sync.webhooks.inbox import Inbox, StoredEvent
from go1sync.webhooks.receiver import ReceiverApp
from go1sync.webhooks.server import ReceiverServer
from warehouse.lock import RunInProgress
from warehouse.models import Project
from warehouse.transform import project_for

log = logging.getLogger("go1sync.webhooks")
MAX_BACKOFF = 300.0  # seconds between tries of a failing micro-run, at most
LOCK_POLL = 2.0  # seconds between looks at a warehouse another run holds
MAX_BATCH = 5000  # events in one micro-run; more wait for the next
IDLE_POLL = 1.0  # seconds between looks at the inbox when nothing woke the worker
QUIET_SECONDS = 1.0  # no new event for this long ends the gathering before batch_seconds


class WebhookError(Go1SyncError):
    """The receiver cannot start: its address or its inbox."""


def _client(config: Config) -> Go1Client:
    return Go1Client(config.go1(), limits=config.http_limits())


def register_webhook(config: Config) -> Registered:
    url, secret = config.webhook_public_url(), config.webhook_secret_required()
    with _client(config) as client:
        return register(client, url, secret.reveal())


def portal_webhooks(config: Config) -> list[Webhook]:
    with _client(config) as client:
        return list_webhooks(client)


@dataclass(frozen=True)
class Removed:
    webhook_id: str
    how: str  # deleted | deactivated


def remove_webhook(config: Config, webhook_id: str | None) -> Removed:
    """Remove ``webhook_id``, or go1sync's own webhook (the one calling the public URL)."""
    with _client(config) as client:
        if webhook_id is None:
            url = config.webhook_public_url()
            found = find(client, url)
            if found is None:
                raise Go1SyncError(f"the portal has no webhook calling {url}: nothing to "
                                   "remove (see `webhooks list`)")
            webhook_id = found.id
        return Removed(webhook_id, remove(client, webhook_id))


def event_refs(stored: Sequence[StoredEvent]) -> list[EventRef]:
    return [EventRef(s.keys[0], s.event.event_type, s.event.object_id, s.event.lo_id,
                     s.event.sent, _parsed(s.event.received_at)) for s in stored]


def _parsed(text: str) -> datetime | None:
    """The receiver's ``received_at`` (ISO 8601, UTC), or None when it cannot be read."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


class Worker:
    """Takes the inbox's pending events as micro-runs until ``stop`` is set."""

    def __init__(self, config: Config, inbox: Inbox, batch_seconds: float,
                 log: Callable[[str], None], *,
                 describe: Callable[[RunReport], str] = lambda report: "done",
                 run: Callable[..., RunReport] = micro_run,
                 clock: Callable[[], float] = time.monotonic,
                 wake: WakeEvent | None = None) -> None:
        self._config = config
        self._inbox = inbox
        self._batch_seconds = batch_seconds
        self._log = log
        self._describe = describe
        self._run = run
        self._clock = clock
        self._wake: WakeEvent = wake if wake is not None else threading.Event()
        self._project: Project | None = None  # the models, loaded at the first micro-run
        self.failures = 0  # in a row, since the last micro-run that went through
        self.waiting_for_run = False  # another run holds the warehouse

    def run_until(self, stop: WakeEvent) -> None:
        while not stop.is_set():
            pending = self._inbox.pending()
            if not pending:
                self._wake.wait(IDLE_POLL)  # the inbox is also read: another process appends
                self._wake.clear()
                continue
            if not self.waiting_for_run:
                self._gather(pending[0], stop)
            if stop.is_set():
                return
            self._wake.clear()
            self.once()
            if self.waiting_for_run:
                stop.wait(LOCK_POLL)
            elif self.failures:
                delay = min(MAX_BACKOFF, 2.0 ** (self.failures - 1))
                self._log(f"webhooks: trying the {self._pending_count()} pending event(s) "
                          f"again in {delay:.0f} s")
                stop.wait(delay)

    def _gather(self, oldest: StoredEvent, stop: WakeEvent) -> None:
        """Let a burst gather: until ``batch_seconds`` after its oldest event arrived (one that
        came during the last micro-run has waited already), or until no new event came for
        :meth:`quiet` seconds, whichever is first; a stop cuts it short. A burst of changes
        in Go1 arrives within a second or two: waiting the whole window after it would only
        delay it."""
        arrived = _parsed(oldest.event.received_at)
        waited = (datetime.now(UTC) - arrived).total_seconds() if arrived else 0.0
        deadline = self._clock() + min(self._batch_seconds,
                                       max(0.0, self._batch_seconds - waited))
        while not stop.is_set():
            left = deadline - self._clock()
            if left <= 0:
                return
            self._wake.clear()
            if not self._wake.wait(min(left, self.quiet)):
                return  # quiet: the burst is over

    @property
    def quiet(self) -> float:
        return min(QUIET_SECONDS, self._batch_seconds / 2)

    def _pending_count(self) -> int:
        return self._inbox.counts()[0]

    def once(self) -> RunReport | None:
        """One micro-run over the pending events (at most :data:`MAX_BATCH`)."""
        batch = self._inbox.pending()[:MAX_BATCH]
        if not batch:
            return None
        started = self._clock()
        try:
            if self._project is None:
                self._project = project_for(self._config)
            report = self._run(self._config, event_refs(batch), 0.0, self._project)
        except RunInProgress as exc:
            if not self.waiting_for_run:
                self._log(f"webhooks: {len(batch)} event(s) wait: {exc}")
            self.waiting_for_run = True
            return None
        except Go1SyncError as exc:
            self.failures += 1
            self.waiting_for_run = False
            self._log(f"webhooks: micro-run of {len(batch)} event(s) failed: {exc}")
            return None
        except Exception as exc:  # a bug: logged with its traceback, the worker goes on
            self.failures += 1
            self.waiting_for_run = False
            log.exception("the webhook worker's micro-run failed")
            self._log(f"webhooks: micro-run of {len(batch)} event(s) failed unexpectedly: "
                      f"{type(exc).__name__}: {exc}")
            return None
        self.waiting_for_run = False
        self._inbox.mark_done(key for stored in batch for key in stored.keys)
        self._inbox.compact()
        self.failures = 0 if report.ok else self.failures + 1
        self._log(f"webhooks: run {report.run_id}: {len(batch)} event(s), "
                  f"{self._describe(report)} in {self._clock() - started:.1f} s"
                  + ("" if report.ok else f" ({'; '.join(report.problems())})"))
        return report


class WakeEvent(Protocol):
    """A ``threading.Event`` or a ``multiprocessing.Event``: what the worker waits on."""

    def set(self) -> None: ...
    def clear(self) -> None: ...
    def is_set(self) -> bool: ...
    def wait(self, timeout: float | None = None) -> bool: ...


@dataclass
class Receiving:
    """The receiver and its worker, running in the background until :meth:`stop`. The
    worker is a child process (``process``) or a thread of this one (``thread``)."""

    server: ReceiverServer
    inbox: Inbox
    stopping: WakeEvent
    wake: WakeEvent
    thread: threading.Thread | None = None
    process: BaseProcess | None = None

    @property
    def url(self) -> str:
        return self.server.url

    def stop(self) -> None:
        """Stop taking deliveries, let a micro-run in progress finish, close the inbox."""
        self.server.stop()
        self.stopping.set()
        self.wake.set()
        if self.thread is not None:
            self.thread.join()
        if self.process is not None:
            self.process.join()
        self.inbox.close()


def start_receiving(config: Config, listen: tuple[str, int] | None = None,
                    batch_seconds: float | None = None,
                    log: Callable[[str], None] = print,
                    describe: Callable[[RunReport], str] = lambda report: "done", *,
                    worker_process: bool = False) -> Receiving:
    """Check the settings, open the inbox, start the worker and the receiver.

    ``worker_process``: the worker runs in a child process (forked now, before this process
    starts a thread), so that its micro-runs, Python work of reading and pushing thousands of
    records, never hold the interpreter from the receiver's threads: with both in one
    process, answers to Go1 waited behind a micro-run (p95 60 to 90 ms instead of 25 ms).
    The two share only the inbox, which is made for two processes. In a process that already
    runs threads (the demo's sandboxes) the worker is a thread: forking then is unsafe."""
    secret = config.webhook_secret_required()
    config.go1()
    config.l360()  # fail now, not at the first event, on a missing setting
    host, port = listen or config.webhook_listen()
    batch = config.webhook_batch_seconds() if batch_seconds is None else batch_seconds
    _check_inbox(config)
    process: BaseProcess | None = None
    thread: threading.Thread | None = None
    if worker_process:
        context = multiprocessing.get_context("fork")
        stopping: WakeEvent = context.Event()
        wake: WakeEvent = context.Event()
        process = context.Process(target=_work, name="go1sync-webhook-worker",
                                  args=(config, batch, log, describe, wake, stopping,
                                        os.getpid()))
        process.start()
    else:
        stopping, wake = threading.Event(), threading.Event()
    inbox = Inbox(config.inbox_path()).open()
    if not worker_process:
        worker = Worker(config, inbox, batch, log, describe=describe, wake=wake)
        thread = threading.Thread(target=worker.run_until, args=(stopping,),
                                  name="go1sync-webhook-worker", daemon=True)
        thread.start()
    app = ReceiverApp(inbox, secret.reveal(), on_stored=wake.set)
    address = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    server = ReceiverServer(app, address)
    receiving = Receiving(server, inbox, stopping, wake, thread, process)
    try:
        server.start()
    except BaseException as exc:
        receiving.stop()
        if isinstance(exc, OSError):  # webhooks.server.ListenError: in use, not this machine's
            raise WebhookError(str(exc)) from None
        raise
    return receiving


def _check_inbox(config: Config) -> None:
    """Fail at once, in one line, on an inbox folder that cannot be made or locked."""
    try:
        Inbox(config.inbox_path()).open().close()
    except OSError as exc:
        raise WebhookError(f"cannot open the webhook inbox {config.inbox_path()}: "
                           f"{exc.strerror or exc}") from None


def _work(config: Config, batch: float, log: Callable[[str], None],
          describe: Callable[[RunReport], str], wake: WakeEvent, stopping: WakeEvent,
          parent: int) -> None:
    """The worker process: micro-runs until the receiver's process asks it to stop, or is
    gone (killed: the events left are in the inbox for the next start)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the whole group: the
    signal.signal(signal.SIGTERM, lambda signum, frame: stopping.set())  # parent decides

    def watch() -> None:
        while not stopping.wait(1.0):
            if os.getppid() != parent:
                stopping.set()

    threading.Thread(target=watch, name="go1sync-parent-watch", daemon=True).start()
    with Inbox(config.inbox_path()) as inbox:
        Worker(config, inbox, batch, log, describe=describe, wake=wake).run_until(stopping)
