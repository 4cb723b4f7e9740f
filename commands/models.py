"""``python cli.py models list | show | lineage``: the models, their versions and their graph.

They only show the models, so they need no Go1 setting: a model variable whose setting is unset
(the portal URL, say) renders as a placeholder (``Config.model_variables(placeholders=True)``),
and the models whose version depends on one are named, since their fingerprint then cannot be
compared with the last transform's.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from go1sync.errors import UsageError
from go1sync.settings import Config, Placeholder
from warehouse.connection import connect
from warehouse.models import (
    Model,
    ModelInfo,
    Project,
    describe,
    lineage_dot,
    lineage_mermaid,
    lineage_text,
    load_project,
)
from warehouse.transform import MODELS_DIR

LINEAGE: dict[str, Callable[[Project], str]] = {
    "text": lineage_text, "mermaid": lineage_mermaid, "dot": lineage_dot}


@dataclass
class Shown:
    """The project as these commands render it, and what the placeholders touch."""

    project: Project
    placeholders: dict[str, Placeholder] = field(default_factory=dict)  # by variable
    # models rendered with a placeholder, or downstream of one: their version is not the real one
    unreal: set[str] = field(default_factory=set)

    def unset_note(self) -> str | None:
        """One line naming the unset settings, or None when every variable was set."""
        if not self.placeholders:
            return None
        return "; ".join(f"{p.env} is unset: shown as {p}" for p in self.placeholders.values()) \
            + " (the models need it only to run)"


def shown_project(config: Config) -> Shown:
    variables = config.model_variables(placeholders=True)
    shown = Shown(load_project(MODELS_DIR, variables=variables),
                  {k: v for k, v in variables.items() if isinstance(v, Placeholder)})
    for model in shown.project.models.values():  # in dependency order: parents first
        if any(p in model.sql for p in shown.placeholders.values()) or \
                shown.unreal.intersection(model.parents):
            shown.unreal.add(model.name)
    return shown


def list_models(config: Config) -> tuple[list[ModelInfo], Shown]:
    """Every model, compared with the warehouse's last transform when there is one."""
    shown = shown_project(config)
    path = config.warehouse_path()
    if not path.exists():
        return describe(None, shown.project), shown
    con = connect(path, read_only=True)
    try:
        return describe(con, shown.project), shown
    finally:
        con.close()


def find_model(project: Project, name: str) -> Model:
    """A model by its name, bare (``content_360``) or with its schema (``marts.content_360``,
    as every query and ``models show``'s own header write it)."""
    schema, _, bare = name.strip().rpartition(".")
    model = project.models.get(bare)
    if model is None or (schema and schema != model.schema):
        raise UsageError(f"no model named {name!r}; `python cli.py models list` lists them")
    return model


def show_model(config: Config, name: str) -> tuple[Model, Shown]:
    shown = shown_project(config)
    return find_model(shown.project, name), shown


def lineage(config: Config, fmt: str) -> str:
    return LINEAGE[fmt](shown_project(config).project)
