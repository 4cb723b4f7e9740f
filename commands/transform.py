"""``python cli.py transform``: the SQL models and their audits, as one run."""

from __future__ import annotations

from pathlib import Path

from commands import stages
from commands.report import RunReport
from settings import Config
from warehouse.session import run_session
from warehouse.transform import MODELS_DIR, project_for


def run_transform(config: Config, models_dir: Path = MODELS_DIR) -> RunReport:
    """Materialise every model under the run lock; a blocking audit failure raises."""
    project = project_for(config, models_dir)
    path = config.warehouse_path()
    with run_session(path, "transform", {"models": str(models_dir)},
                     config.memory_limit()) as session:
        report = RunReport("transform", session.run_id, path)
        stages.transform(session, report, project)
        return stages.finish(session, report)
