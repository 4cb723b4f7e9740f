"""The warehouse package's one error type, a family of go1sync's error root, and what a local
fault (the disk, the file system, the DuckDB file itself) means for the user, in one line.

DuckDB reports every local fault as text: a lock held by another process, a corrupt or
truncated file, a full disk, a read-only file system all arrive as an ``IOException`` (or a
bare ``duckdb.Error``) whose message says which. :func:`fault_error` reads that text once, here,
so the connection, the migrations, the session and the readers tell the same true story, and
only a real lock conflict is reported as "open in another process".
"""

from __future__ import annotations

import errno
import re
from pathlib import Path

import duckdb

from go1sync.errors import Go1SyncError

#: What to do with a warehouse DuckDB cannot read: the file is not repaired in place.
RESTORE = ("move it aside, then restore it from a backup, or run `python cli.py run` on a new "
           "warehouse and `python cli.py rebuild-snapshot` (rebuilds the push snapshot from "
           "360Learning)")
#: Where the warehouse path is set, for the faults that need another place.
ELSEWHERE = "set GO1SYNC_WAREHOUSE (or warehouse.path) to a file in a folder go1sync can write"

_PID = re.compile(r"PID (\d+)")
_QUOTED = re.compile(r'"([^"]+)"')
_LOCKED = ("Could not set lock on file", "Conflicting lock")
_CORRUPT = ("not a valid DuckDB database file", "Corrupt database file", "checksum",
            "Could not read enough bytes")
_FULL = ("No space left on device", "File too large", "Disk quota exceeded")
_READ_ONLY = ("Read-only file system",)
_DENIED = ("Permission denied", "Operation not permitted")
_INVALIDATED = "database has been invalidated"
# past GO1SYNC_DUCKDB_MEMORY_LIMIT (DuckDB's OutOfMemoryException, or its text in a commit's)
_OUT_OF_MEMORY = ("Out of Memory Error", "could not allocate block of size")
_FULL_ERRNOS = frozenset({errno.ENOSPC, errno.EFBIG, errno.EDQUOT})


class WarehouseError(Go1SyncError):
    """The warehouse cannot be opened, migrated, written or locked; the message says what to
    do."""


def file_in_the_way(target: Path) -> Path | None:
    """The nearest existing ancestor of ``target`` when it is a file, not a folder (a warehouse
    path ``/etc/passwd/x.duckdb``): the true cause behind ENOTDIR and EEXIST."""
    for ancestor in target.parents:
        try:
            if ancestor.exists():
                return None if ancestor.is_dir() else ancestor
        except OSError:
            return None
    return None


def os_cause(target: Path, exc: OSError) -> str:
    """The cause of an operating-system error on ``target`` in a few words, with the path it
    concerns when that is not ``target`` itself."""
    code = exc.errno
    blocker = file_in_the_way(target)
    if blocker is None and code == errno.EEXIST and target.exists() and not target.is_dir():
        blocker = target  # the folder to make is a file
    if blocker is not None and code in (errno.ENOTDIR, errno.EEXIST, errno.ENOENT):
        return f"{blocker} is a file, not a folder"
    if code == errno.EROFS:
        return f"{_nearest_existing(target)} is on a read-only file system"
    if code in (errno.EACCES, errno.EPERM):
        return f"permission denied on {_nearest_existing(target)}"
    if code in _FULL_ERRNOS:
        return f"the disk is full ({exc.strerror})"
    if code == errno.EISDIR:
        return f"{exc.filename or target} is a folder, not a file"
    if code == errno.ENOENT and target.parent.is_dir():
        # /proc, say: the folder is there but its file system takes no new files
        return f"the file system of {target.parent} does not take new files"
    return exc.strerror or type(exc).__name__


def os_failure(warehouse: Path, target: Path, exc: OSError, doing: str) -> WarehouseError:
    """An operating-system error on ``target`` (the warehouse, its folder or its lock file),
    while ``doing``, as one line naming the warehouse, the cause, and what to do."""
    cause = os_cause(target, exc)
    if exc.errno in _FULL_ERRNOS:
        advice = f"free some space on {_nearest_existing(target)} and run again"
    elif exc.errno in (errno.EACCES, errno.EPERM):
        advice = f"let this user write there, or {ELSEWHERE}"
    else:
        advice = ELSEWHERE
    return WarehouseError(f"cannot {doing} for the warehouse {warehouse}: {cause}; {advice}")


def query_interrupted(exc: BaseException) -> bool:
    """Whether DuckDB stopped a query for Ctrl-C: its Python client raises ``RuntimeError('Query
    interrupted')`` when the signal comes while it waits for the query (the KeyboardInterrupt
    itself is lost), and ``InterruptException`` when the connection's ``interrupt()`` stopped
    it."""
    return isinstance(exc, duckdb.InterruptException) or (
        type(exc) is RuntimeError and str(exc) == "Query interrupted")


def _nearest_existing(target: Path) -> Path:
    for candidate in (target, *target.parents):
        try:
            if candidate.exists():
                return candidate
        except OSError:
            continue
    return target


def _is_fault(exc: BaseException) -> bool:
    """A DuckDB error about the file rather than the query: every I/O error, an invalidated
    database, and the commit or read errors whose text names a local cause."""
    if not isinstance(exc, duckdb.Error) or isinstance(exc, duckdb.InterruptException):
        return False
    text = str(exc)
    return (isinstance(exc, (duckdb.IOException, duckdb.FatalException))
            or any(mark in text for mark in (*_CORRUPT, *_FULL, *_READ_ONLY, *_DENIED,
                                             *_OUT_OF_MEMORY, _INVALIDATED)))


def local_fault(exc: BaseException) -> BaseException | None:
    """The local fault behind ``exc``, if any: the first DuckDB I/O error along its chain,
    looking through the errors raised while handling it (a ROLLBACK refused after a COMMIT the
    full disk failed) and the go1sync errors that wrapped it. An invalidated database is a
    consequence: the fault that invalidated it, further down, is preferred."""
    found: BaseException | None = None
    seen: BaseException | None = exc
    visited: set[int] = set()
    while seen is not None and id(seen) not in visited:
        visited.add(id(seen))
        if _is_fault(seen):
            if _INVALIDATED not in str(seen):
                return seen
            found = found or seen
        seen = seen.__cause__ or seen.__context__
    return found


def fault_error(warehouse: Path | None, exc: BaseException) -> WarehouseError | None:
    """The one-line :class:`WarehouseError` for the local fault behind ``exc``, or ``None`` when
    there is none (a bug in a query keeps its traceback). ``warehouse``: the file, when known;
    else the path DuckDB's message names."""
    fault = local_fault(exc)
    if fault is None:
        return None
    text = " ".join(str(fault).split())
    quoted = _QUOTED.search(text)
    place = warehouse or (Path(quoted[1]) if quoted else None)
    name = f"the warehouse {place}" if place is not None else "the warehouse"
    detail = _detail(text)
    if any(mark in text for mark in _LOCKED):
        pid = _PID.search(text)
        holder = f" (pid {pid[1]})" if pid else ""
        return WarehouseError(f"{name} is open in another process{holder}; close it (a DuckDB "
                              "shell, say) or wait for it to finish")
    if any(mark in text for mark in _FULL):
        return WarehouseError(
            f"{name} cannot be written: the disk is full ({detail}); free some space and run "
            "again (what was committed before is kept, the step that failed was rolled back)")
    if any(mark in text for mark in _READ_ONLY):
        return WarehouseError(f"{name} cannot be written: read-only file system ({detail}); "
                              f"{ELSEWHERE}")
    if any(mark in text for mark in _DENIED):
        return WarehouseError(f"{name} cannot be opened: permission denied ({detail}); let "
                              f"this user read and write it, or {ELSEWHERE}")
    if any(mark in text for mark in _CORRUPT):
        return WarehouseError(f"{name} is unreadable: the file is corrupt or truncated "
                              f"({detail}); {RESTORE}")
    if any(mark in text for mark in _OUT_OF_MEMORY):
        from go1sync.settings import setting_env  # the setting's one owner names it

        return WarehouseError(
            f"DuckDB needed more memory than its limit allows in {name} ({detail}); raise "
            f"{setting_env('warehouse.memory_limit')} (the step that failed was rolled back)")
    if "Is a directory" in text:
        return WarehouseError(f"{name} is a folder, not a DuckDB file; give the path of a "
                              "file, such as warehouse/go1sync.duckdb")
    if "Not a directory" in text and place is not None and (blocker := file_in_the_way(place)):
        return WarehouseError(f"cannot create {name}: {blocker} is a file, not a folder; "
                              f"{ELSEWHERE}")
    if _INVALIDATED in text:
        return WarehouseError(f"{name} stopped taking writes after an earlier error in this "
                              f"run ({detail}); run again, and if it goes on: {RESTORE}")
    return WarehouseError(f"cannot use {name}: {detail}")


def _detail(text: str) -> str:
    """DuckDB's message without its ``IO Error:`` prefix and documentation link."""
    text = re.sub(r"^[A-Za-z ]*(Error|Exception): ", "", text)
    return re.sub(r"\s*See also https?://\S+", "", text).rstrip(". ")
