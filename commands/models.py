"""``python cli.py models list | show | lineage``: the models, their versions and their graph."""

from __future__ import annotations

from collections.abc import Callable

from go1sync.errors import UsageError
from settings import Config
from warehouse.connection import connect
from warehouse.models import (
    Model,
    ModelInfo,
    Project,
    describe,
    lineage_dot,
    lineage_mermaid,
    lineage_text,
)
from warehouse.transform import project_for

LINEAGE: dict[str, Callable[[Project], str]] = {
    "text": lineage_text, "mermaid": lineage_mermaid, "dot": lineage_dot}


def list_models(config: Config) -> list[ModelInfo]:
    """Every model, compared with the warehouse's last transform when there is one."""
    project = project_for(config)
    path = config.warehouse_path()
    if not path.exists():
        return describe(None, project)
    con = connect(path, read_only=True)
    try:
        return describe(con, project)
    finally:
        con.close()


def show_model(config: Config, name: str) -> Model:
    project = project_for(config)
    if name not in project.models:
        raise UsageError(f"no model named {name!r}; `python cli.py models list` lists them")
    return project.models[name]


def lineage(config: Config, fmt: str) -> str:
    return LINEAGE[fmt](project_for(config))
