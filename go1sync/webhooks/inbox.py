"""The inbox: every event the receiver answered 2xx, on disk before the answer, outside DuckDB.

A run holds the warehouse's write lock for minutes and DuckDB lets no other process open the
file meanwhile, so the receiver cannot store its events there: it would have to refuse them
(and Go1 to retry, for how long nobody documents) while a run writes. The inbox is instead a
folder of append-only JSON-lines files that any number of processes can use at once: a
receiver appends while the worker of another process (or of the same one) reads.

``events.jsonl``
    One line per event stored: ``{"keys": [...], "received_at": ..., "event": <envelope>}``.
    A line is written with one ``os.write`` to an ``O_APPEND`` descriptor and ``os.fsync``-ed
    before :meth:`Inbox.append` returns True: what the receiver acknowledges is on the disk.
``done.jsonl``
    One line per :meth:`Inbox.mark_done` call: ``{"keys": [...], "done_at": ...}``. An event
    is done when one of its keys is in it.
``seen.jsonl``
    The keys of events compacted away (``{"keys": [...], "received_at": ...}``), so a repeat
    of a processed event is still a repeat after :meth:`Inbox.compact`. Keys older than
    ``keep_seen`` (30 days) go at the next compaction: the memory of a long-lived receiver
    stays bounded, and Go1 has given up retrying long before.
``inbox.lock``
    ``flock``-ed (exclusively) around appends, marks and compaction, which also re-check the
    files for what another process wrote. Reads take no lock: a writer never rewrites a line,
    and compaction swaps whole files with ``os.replace`` in an order a reader can follow
    (``done.jsonl`` is read before ``events.jsonl``, and emptied after it).

A crash mid-write leaves a last line with no newline: it was never acknowledged, readers
ignore it, and the next writer cuts it off before it appends. Nothing secret is written: the
signature header is not stored, only the envelope Go1 sent.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import Any

from go1sync.webhooks.events import Event, utc_now

log = logging.getLogger("go1sync.webhooks")

EVENTS = "events.jsonl"
DONE = "done.jsonl"
SEEN = "seen.jsonl"
LOCK = "inbox.lock"
#: ``events.jsonl`` is compacted past this size even when some of its events are pending.
COMPACT_BYTES = 16 * 1024 * 1024
#: ... and when at least this many of its events are done and they outnumber the pending ones
#: (under a steady stream of events the file never empties, and each look at it grew).
COMPACT_DONE = 1000
#: How long the keys of a processed event still make its repeats duplicates.
KEEP_SEEN_SECONDS = 30 * 86400.0

_Ident = tuple[int, int]  # (st_dev, st_ino): which file a path names now


@dataclass(frozen=True)
class StoredEvent:
    """An event read back from the inbox: its ``keys`` (what :meth:`Inbox.mark_done` takes)
    and the byte ``offset`` of its line in ``events.jsonl`` (it changes at compaction)."""

    event: Event
    keys: tuple[str, ...]
    offset: int


@dataclass(frozen=True)
class _Line:
    offset: int
    raw: bytes  # with its newline
    record: dict[str, Any]

    @property
    def keys(self) -> tuple[str, ...]:
        return tuple(self.record["keys"])


@dataclass(frozen=True)
class _Tail:
    """How far this process has read a file: which file, up to which byte (the end of its
    last whole line), and the size it had then (more than ``consumed``: a torn last line)."""

    ident: _Ident
    consumed: int
    size: int


class Inbox:
    """The inbox in ``directory`` (created, mode 0700, on the first write). Thread-safe; two
    ``Inbox`` objects on one folder, in one process or two, behave as two processes do."""

    def __init__(self, directory: Path | str, *, keep_seen: float | None = KEEP_SEEN_SECONDS,
                 compact_bytes: int = COMPACT_BYTES,
                 clock: Callable[[], float] = time.time) -> None:
        self.directory = Path(directory).expanduser()
        self.keep_seen = keep_seen
        self.compact_bytes = compact_bytes
        self._clock = clock
        self._lock = threading.Lock()
        self._lock_fd: int | None = None
        self._writers: dict[str, int] = {}
        self._tails: dict[str, _Tail] = {}
        self._seen: set[str] = set()
        self._warned: set[tuple[str, int]] = set()
        # what the readers have read of each file: (which file, bytes consumed, its lines),
        # and the events parsed from events.jsonl by offset
        self._read_lock = threading.Lock()
        self._followed: dict[str, tuple[_Ident, int, list[_Line]]] = {}
        self._parsed: dict[int, StoredEvent] = {}

    # -- writing ---------------------------------------------------------------------------

    def open(self) -> Inbox:
        """Create the folder and take hold of the lock file now rather than at the first
        write, so a folder that cannot hold the inbox fails at start-up (an ``OSError``)."""
        with self._lock:
            self._open()
        return self

    def append(self, event: Event) -> bool:
        """Store ``event`` durably; False, and nothing written, when one of its keys was seen
        before (stored, done or compacted). True only once its line is fsync-ed."""
        keys = event.keys
        line = _encode({"keys": list(keys), "received_at": event.received_at,
                        "event": event.body})
        with self._lock:
            self._open()
            with self._flocked():
                self._writer(EVENTS)
                self._refresh()
                if any(key in self._seen for key in keys):
                    return False
                self._append_line(EVENTS, line)
                self._seen.update(keys)
        return True

    def mark_done(self, keys: Iterable[str]) -> None:
        """Record the events with these keys as processed (fsync-ed before it returns)."""
        unique = list(dict.fromkeys(str(key) for key in keys))
        if not unique:
            return
        line = _encode({"keys": unique, "done_at": utc_now(self._clock())})
        with self._lock:
            self._open()
            with self._flocked():
                self._writer(DONE)
                self._refresh()
                self._append_line(DONE, line)
                self._seen.update(unique)

    def compact(self, force: bool = False) -> bool:
        """Rewrite ``events.jsonl`` to hold only the pending events, when every event in it
        is done, or it is over ``compact_bytes``, or :data:`COMPACT_DONE` of its events are
        done and outnumber the pending ones (or ``force``), moving the keys of the done ones
        to ``seen.jsonl``. True when it rewrote the files."""
        with self._lock:
            self._open()
            with self._flocked():
                done_lines = self._read(DONE)
                done = {key for line in done_lines for key in line.keys}
                lines = self._read(EVENTS)
                pending = [line for line in lines if done.isdisjoint(line.keys)]
                finished = [line for line in lines if not done.isdisjoint(line.keys)]
                size = _size(self.directory / EVENTS)
                if not finished and not done_lines:
                    return False
                if pending and size <= self.compact_bytes and not force \
                        and len(finished) < max(COMPACT_DONE, len(pending)):
                    return False
                cutoff = None if self.keep_seen is None else self._clock() - self.keep_seen
                seen = [line.raw for line in self._read(SEEN)
                        if not _older(line.record.get("received_at"), cutoff)]
                seen += [_encode({"keys": list(line.keys),
                                  "received_at": line.record.get("received_at")})
                         for line in finished]
                # This order keeps every state a crash or a reader can see consistent: the
                # keys are in seen.jsonl before their events leave events.jsonl, and
                # done.jsonl is emptied only once its events are gone.
                self._replace(SEEN, b"".join(seen))
                self._replace(EVENTS, b"".join(line.raw for line in pending))
                self._replace(DONE, b"")
                log.debug("compacted the inbox: %d event(s) kept pending, %d done moved to %s",
                          len(pending), len(finished), SEEN)
                # the writers reopen and the seen keys are read again (_writer, _refresh)
        return True

    def close(self) -> None:
        with self._lock:
            for fd in self._writers.values():
                os.close(fd)
            self._writers.clear()
            if self._lock_fd is not None:
                os.close(self._lock_fd)
                self._lock_fd = None
            self._tails.clear()
            self._seen.clear()

    def __enter__(self) -> Inbox:
        return self.open()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    # -- reading (no lock: another process may be appending) ---------------------------------

    def pending(self) -> list[StoredEvent]:
        """The events stored and not yet done, in the order they arrived, as the files are now
        (another process may have appended or compacted since). Only what was appended since
        the last look is read and parsed: the worker asks every second, and parsing a whole
        file of thousands of events each time held the interpreter from the receiver's
        threads (their answers waited)."""
        with self._read_lock:
            done = {key for line in self._follow(DONE) for key in line.keys}
            events = self._follow(EVENTS)
            return [self._stored(line) for line in events if done.isdisjoint(line.keys)]

    def counts(self) -> tuple[int, int]:
        """``(pending, done)``: events waiting, and events processed that the inbox still
        remembers (done in ``events.jsonl`` or compacted into ``seen.jsonl``)."""
        with self._read_lock:
            done_keys = {key for line in self._follow(DONE) for key in line.keys}
            lines = self._follow(EVENTS)
            seen = len(self._follow(SEEN))
        pending = sum(1 for line in lines if done_keys.isdisjoint(line.keys))
        return pending, len(lines) - pending + seen

    def _stored(self, line: _Line) -> StoredEvent:
        stored = self._parsed.get(line.offset)
        if stored is None or stored.keys != line.keys:
            stored = StoredEvent(event=Event.from_envelope(
                line.record["event"], str(line.record.get("received_at", ""))),
                keys=line.keys, offset=line.offset)
            self._parsed[line.offset] = stored
        return stored

    def _follow(self, name: str) -> list[_Line]:
        """The whole lines of ``name``: those read before, plus what was appended since; all
        of them again when the file was replaced (compaction) or cut (a torn line)."""
        st = _stat(self.directory / name)
        cached = self._followed.get(name)
        if st is None:
            self._forget(name)
            return []
        if cached is None or cached[0] != (st.st_dev, st.st_ino) or st.st_size < cached[1]:
            self._forget(name)
            cached = ((st.st_dev, st.st_ino), 0, [])
        if st.st_size > cached[1]:
            ident, consumed, _, lines = self._read_from(name, cached[1])
            if ident is None:
                self._forget(name)
                return []
            if ident != cached[0]:  # replaced between the stat and the read: read it whole
                self._forget(name)
                ident, consumed, _, lines = self._read_from(name, 0)
                cached = (ident or cached[0], 0, [])
            cached = (cached[0], consumed, cached[2] + lines)
        self._followed[name] = cached
        return cached[2]

    def _forget(self, name: str) -> None:
        self._followed.pop(name, None)
        if name == EVENTS:
            self._parsed.clear()

    # -- internals -------------------------------------------------------------------------

    def _open(self) -> None:
        if self._lock_fd is not None:
            return
        created = not self.directory.exists()
        self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        if created:
            _fsync_dir(self.directory)
            _fsync_dir(self.directory.parent)
        self._lock_fd = os.open(self.directory / LOCK, os.O_RDWR | os.O_CREAT, 0o600)

    @contextlib.contextmanager
    def _flocked(self) -> Iterator[None]:
        assert self._lock_fd is not None
        fcntl.flock(self._lock_fd, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(self._lock_fd, fcntl.LOCK_UN)

    def _writer(self, name: str) -> int:
        """An ``O_APPEND`` descriptor on the file ``name`` is now (under the flock: compaction
        in another process may have replaced it since the last write)."""
        path = self.directory / name
        now = _ident(path)
        fd = self._writers.get(name)
        if fd is not None:
            if now is not None and _fd_ident(fd) == now:
                return fd
            os.close(fd)
            del self._writers[name]
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        self._writers[name] = fd
        if now is None:
            _fsync_dir(self.directory)  # the new file's name is durable too
        return fd

    def _refresh(self) -> None:
        """Catch up with the files (under the flock): add the keys of lines written since the
        last look, by this process or another; start over when compaction replaced them."""
        stats = {name: _stat(self.directory / name) for name in (SEEN, EVENTS, DONE)}
        for name, st in stats.items():
            tail = self._tails.get(name)
            if tail is not None and (st is None or (st.st_dev, st.st_ino) != tail.ident
                                     or st.st_size < tail.consumed):
                self._tails.clear()
                self._seen.clear()
                break
        for name, st in stats.items():
            if st is None:
                continue
            tail = self._tails.get(name)
            if tail is not None and tail.consumed == tail.size == st.st_size:
                continue  # nothing new (a torn last line is read again: it may be cut now)
            start = tail.consumed if tail is not None else 0
            ident, consumed, size, lines = self._read_from(name, start)
            if ident is None:
                continue
            for line in lines:
                self._seen.update(line.keys)
            self._tails[name] = _Tail(ident, consumed, size)

    def _append_line(self, name: str, line: bytes) -> None:
        """Write ``line`` at the end of ``name`` and fsync it (under the flock, after
        :meth:`_refresh`), cutting off first a torn last line left by a crash."""
        fd = self._writers[name]
        tail = self._tails.get(name) or _Tail(_fd_ident(fd), 0, os.fstat(fd).st_size)
        start = tail.consumed
        if tail.size > start:
            log.warning("cut off %d byte(s) at the end of %s: a write that never finished, "
                        "never acknowledged", tail.size - start, self.directory / name)
            os.ftruncate(fd, start)
        try:
            written = 0
            while written < len(line):
                count = os.write(fd, line[written:])
                if count <= 0:
                    raise OSError(f"could not write to {self.directory / name}")
                written += count
            os.fsync(fd)
        except OSError:
            with contextlib.suppress(OSError):
                os.ftruncate(fd, start)  # never leave half a line, nor an unsynced one
            raise
        end = start + len(line)
        self._tails[name] = _Tail(tail.ident, end, end)

    def _replace(self, name: str, data: bytes) -> None:
        path = self.directory / name
        temporary = self.directory / f".{name}.tmp"
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view):]
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(temporary, path)
        _fsync_dir(self.directory)

    def _read(self, name: str) -> list[_Line]:
        return self._read_from(name, 0)[3]

    def _read_from(self, name: str, start: int
                   ) -> tuple[_Ident | None, int, int, list[_Line]]:
        """The whole lines of ``name`` from byte ``start``: (which file, the end of the last
        whole line, the size, the lines). A last line with no newline is left out."""
        path = self.directory / name
        try:
            file = open(path, "rb")  # noqa: SIM115 (closed below, kept open for fstat)
        except FileNotFoundError:
            return None, 0, 0, []
        with file:
            st = os.fstat(file.fileno())
            file.seek(start)
            data = file.read(max(0, st.st_size - start))
        end = data.rfind(b"\n") + 1
        lines: list[_Line] = []
        position = 0
        while position < end:
            stop = data.index(b"\n", position) + 1
            record = self._parse(name, start + position, data[position:stop])
            if record is not None:
                lines.append(_Line(start + position, data[position:stop], record))
            position = stop
        return (st.st_dev, st.st_ino), start + end, st.st_size, lines

    def _parse(self, name: str, offset: int, raw: bytes) -> dict[str, Any] | None:
        try:
            record = json.loads(raw)
        except (ValueError, RecursionError):
            record = None
        valid = (isinstance(record, dict) and isinstance(record.get("keys"), list)
                 and all(isinstance(key, str) for key in record["keys"]))
        if valid and name == EVENTS:
            event = record.get("event") if isinstance(record, dict) else None
            valid = isinstance(event, dict) and isinstance(event.get("event_type"), str)
        if not valid:
            if (name, offset) not in self._warned:
                self._warned.add((name, offset))
                log.warning("skipped an unreadable line at byte %d of %s", offset,
                            self.directory / name)
            return None
        assert isinstance(record, dict)
        return record


def _encode(record: dict[str, Any]) -> bytes:
    """One line: ASCII JSON (escapes survive any byte handling) and a newline."""
    return json.dumps(record, ensure_ascii=True, separators=(",", ":")).encode("ascii") + b"\n"


def _stat(path: Path) -> os.stat_result | None:
    try:
        return os.stat(path)
    except FileNotFoundError:
        return None


def _ident(path: Path) -> _Ident | None:
    st = _stat(path)
    return None if st is None else (st.st_dev, st.st_ino)


def _fd_ident(fd: int) -> _Ident:
    st = os.fstat(fd)
    return st.st_dev, st.st_ino


def _size(path: Path) -> int:
    st = _stat(path)
    return 0 if st is None else st.st_size


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _older(received_at: object, cutoff: float | None) -> bool:
    """Whether a seen key received at ``received_at`` is past keeping (never when unsure)."""
    if cutoff is None or not isinstance(received_at, str):
        return False
    try:
        return datetime.fromisoformat(received_at).timestamp() < cutoff
    except ValueError:
        return False
