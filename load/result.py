"""What a push did, kind by kind: the counts a run records and the commands print."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class KindCount:
    sent: int = 0
    succeeded: int = 0
    failed: int = 0
    rejected: int = 0
    uncertain: int = 0  # submitted, answer lost: settled by a later push, never resent blind


@dataclass
class PushResult:
    counts: dict[str, KindCount] = field(default_factory=dict)  # what this push sent
    settled_operations: int = 0
    # Rows of the operations earlier runs left open, as this push found them settled, by kind:
    # sent by those runs, so counted apart from ``counts`` (an ok there was never sent here).
    # Their refused rows are not this push's failures: settled before the diff, they are
    # diffed again and sent by this push (or the next one that pushes their kind).
    settled: dict[str, KindCount] = field(default_factory=dict)
    # operations still running when this push stopped waiting: (id, kind, submitted at)
    stuck_operations: list[tuple[str, str, str]] = field(default_factory=list)
    errors: list[tuple[str, str, str]] = field(default_factory=list)  # kind, key, error
    api_reads: int = 0  # calls as sent, retries included (what the rate limits count)
    api_writes: int = 0
    # Attempts held because 360Learning has no user with the learner's email: not sent, and
    # not failures (a run whose only unsent rows are these succeeds, with a warning).
    learners_without_account: int = 0
    attempts_without_account: int = 0
    # What a push of the same parts would still find to do once this one ended: rows to send
    # or to share, attempts waiting for a learner's account, operations unsettled. 0 lets the
    # next run that lands nothing skip its transform, plan and push (warehouse.settled).
    work_left: int | None = None

    def count(self, kind: str) -> KindCount:
        return self.counts.setdefault(kind, KindCount())

    def settled_count(self, kind: str) -> KindCount:
        return self.settled.setdefault(kind, KindCount())

    @property
    def failed(self) -> int:
        return sum(c.failed + c.rejected for c in self.counts.values())


ProgressFn = Callable[[str, KindCount], None]
