"""The model runner: dbt-style SQL models (jinja ``ref``/``source``/``var``), seeds, audits.

``load_project`` reads and checks a models folder without a warehouse; ``run_project``
materialises it in one transaction; ``describe`` and the ``lineage_*`` functions explain it.
The rules of the integration live in the SQL files; this package only runs them.
"""

from warehouse.models.audits import Audit
from warehouse.models.errors import AuditFailure, ModelError
from warehouse.models.fingerprint import short_fingerprint
from warehouse.models.history import describe
from warehouse.models.lineage import lineage_dot, lineage_mermaid, lineage_text
from warehouse.models.project import Model, Project, load_project, source_digest
from warehouse.models.results import AuditResult, ModelInfo, ModelResult, RunResult
from warehouse.models.runner import run_project

__all__ = [
    "Audit",
    "AuditFailure",
    "AuditResult",
    "Model",
    "ModelError",
    "ModelInfo",
    "ModelResult",
    "Project",
    "RunResult",
    "describe",
    "lineage_dot",
    "lineage_mermaid",
    "lineage_text",
    "load_project",
    "source_digest",
    "run_project",
    "short_fingerprint",
]
