"""``python cli.py transform``: the SQL models and their audits, as one run."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from commands import stages
from commands.report import RunReport
from go1sync.settings import Config
from warehouse.connection import connect
from warehouse.models.project import MODEL_SCHEMAS
from warehouse.models.seeds import SEED_SCHEMA
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


@dataclass
class Mapped:
    """What a transform's output says besides rows per model: the schema of each model (so
    ``reconcile.differences`` reads as reconcile's comparison with 360Learning, not as the
    mapping's), and the records the mapping left out, by reason, which is what they are."""

    schemas: dict[str, str] = field(default_factory=dict)  # model or seed name -> schema
    rejects: list[tuple[str, str, int]] = field(default_factory=list)  # entity, reason, rows


def read_mapped(path: Path) -> Mapped:
    """Read, after the run, where the models are and ``marts.rejects`` by reason."""
    con = connect(path, read_only=True)
    try:
        mapped = Mapped()
        schemas = [*MODEL_SCHEMAS, SEED_SCHEMA]
        for schema, name in con.execute(
                "SELECT table_schema, table_name FROM information_schema.tables "
                "WHERE table_schema IN (SELECT unnest($schemas)) ORDER BY ALL",
                {"schemas": schemas}).fetchall():
            mapped.schemas.setdefault(str(name), str(schema))
        if mapped.schemas.get("rejects") == "marts":
            mapped.rejects = [(str(e), str(r), int(n)) for e, r, n in con.execute(
                "SELECT entity, reason, count(*) FROM marts.rejects GROUP BY ALL "
                "ORDER BY 3 DESC, 1, 2").fetchall()]
        return mapped
    finally:
        con.close()
