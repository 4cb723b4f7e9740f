"""Typed results of a run and of ``describe``: what the CLI prints and the tests check."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class AuditResult:
    """One audit's outcome: the number of bad rows and a few of them to show."""

    model: str
    audit: str
    blocking: bool
    failing_rows: int
    sample: list[dict[str, Any]] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return self.failing_rows == 0


@dataclass(frozen=True)
class ModelResult:
    """One materialised model (or loaded seed): its size, its time and its version.

    ``fingerprint`` is the data fingerprint, and ``changed`` compares it alone with the last
    run that built the model: a docs or audits edit (``metadata_fingerprint``) is not a change
    of the data, and is not reported as one.
    """

    name: str
    kind: str
    rows: int
    seconds: float
    fingerprint: str
    metadata_fingerprint: str
    changed: bool


@dataclass(frozen=True)
class RunResult:
    """What one committed run did; non-blocking audit failures are in ``audits``."""

    run_id: int
    models: list[ModelResult]
    audits: list[AuditResult]

    @property
    def failed_audits(self) -> list[AuditResult]:
        """The audits that found rows, in the order they ran: the one place that says which
        failed, for the runner (a blocking one stops the run) and for every caller to report."""
        return [a for a in self.audits if not a.passed]


@dataclass(frozen=True)
class ModelInfo:
    """A model as ``describe`` sees it: ``changed_since_last_run`` is None when never run, and
    compares the data ``fingerprint`` only, as ``ModelResult.changed`` does."""

    name: str
    kind: str
    fingerprint: str
    metadata_fingerprint: str
    changed_since_last_run: bool | None
