"""The ``transform`` command as one function: models and audits, recorded as one run."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from settings import Config
from warehouse.session import run_session

MODELS_DIR = Path(__file__).resolve().parents[1] / "models"


@dataclass
class TransformReport:
    run_id: int
    warehouse: Path
    result: Any  # warehouse.models.RunResult: models and audits, in the order they ran


def run_transform(config: Config, models_dir: Path = MODELS_DIR) -> TransformReport:
    """Materialise every model under the run lock; a blocking audit failure raises."""
    from warehouse.models import load_project, run_project

    project = load_project(models_dir, variables=config.model_variables())
    path = config.warehouse_path()
    with run_session(path, "transform", {"models": str(models_dir)},
                     config.memory_limit()) as session:
        result = run_project(session.con, project, session.run_id)
        session.counts = {m.name: m.rows for m in result.models}
        failed = [a for a in result.audits if a.failing_rows]
        if failed:
            session.error = "; ".join(f"{a.model}.{a.audit}: {a.failing_rows} row(s)"
                                      for a in failed)
        return TransformReport(session.run_id, path, result)
