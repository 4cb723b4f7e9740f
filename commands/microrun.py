"""A webhook micro-run: the events' records landed, the incremental models, plan and push.

The same stages as ``run``, in one run record (``meta.runs.command = 'webhook'``), with two
differences: the extract reads only what the events name (``extract/events.py``), and the
transform rebuilds only the incremental models, for the keys the events touched (the
``is_incremental()`` branches of ``models/``). The push is the ordinary one: the same change
models, ledger and snapshot, so a completion closes the attempt a scheduled run opened, and a
course a micro-run archived is not archived twice.
"""

from __future__ import annotations

from collections.abc import Sequence

from commands import stages
from commands.report import RunReport
from extract.events import CONTENT_EVENTS, EventRef
from go1sync.settings import Config
from load.push import ALL_PARTS
from warehouse.models import Project
from warehouse.session import run_session
from warehouse.transform import project_for

COMMAND = "webhook"  # meta.runs.command of a micro-run


def _parts(events: Sequence[EventRef]) -> frozenset[str]:
    """Enrollment events change attempts only; a content event changes a course (and may let
    the attempts of a course just created go)."""
    return ALL_PARTS if any(e.event_type in CONTENT_EVENTS for e in events) else \
        frozenset({"attempts"})


def micro_run(config: Config, events: Sequence[EventRef], lock_wait: float = 0.0,
              project: Project | None = None) -> RunReport:
    """Process ``events`` (those a micro-run already processed are not read again, but what
    they landed is mapped and pushed: a micro-run that failed after landing is finished).

    ``project``: the models, loaded once by a long-lived worker (rendering and parsing them
    takes about a second). No plan is counted: the push reads the same change models, and
    counting them whole would cost a micro-run more than its transform."""
    go1, l360, limits = config.go1(), config.l360(), config.http_limits()
    project = project or project_for(config)
    path = config.warehouse_path()
    types = sorted({e.event_type for e in events})
    options = {"events": len(events), "event_types": types}
    with run_session(path, COMMAND, options, config.memory_limit(), lock_wait) as session:
        report = RunReport(COMMAND, session.run_id, path)
        touched = stages.land_events(session, report, go1, events, limits=limits)
        stages.transform(session, report, project, touched=touched)
        stages.push_changes(session, report, l360, _parts(events), limits=limits)
        return stages.finish(session, report)
