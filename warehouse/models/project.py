"""Loading a models project: find the files, render and parse each, order the DAG, version it.

Each model gets two fingerprints (see ``warehouse.models.fingerprint``): its data fingerprint,
which says whether it changed, and its metadata fingerprint, for its docs and audits.

``load_project`` needs no warehouse: every check that can be made from the files (refs,
cycles, syntax, one query per model, described columns that the query lists) is made here,
so a mistake is reported before anything is written. What only the warehouse knows (sources
exist, ``SELECT *`` columns) is checked by the runner.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

from sqlglot import exp

from warehouse.models.audits import Audit
from warehouse.models.errors import ModelError
from warehouse.models.fingerprint import data_fingerprint, metadata_fingerprint, seed_fingerprint
from warehouse.models.graph import CycleError, dependency_order, upstream
from warehouse.models.rendering import Rendered, render_model
from warehouse.models.seeds import SEED_SCHEMA, SeedColumn, load_statement, read_header
from warehouse.models.sql import normalised, output_columns, parse_query, quoted_table

MODEL_SCHEMAS = ("staging", "marts", "outbound", "reconcile")
# outbound models read the pushed snapshot, which the push changes as it goes: views, so that
# what they say is always what is true now
DEFAULT_KIND = {"staging": "view", "marts": "table", "outbound": "view",
                "reconcile": "table"}
_STAGE_RANK = {SEED_SCHEMA: 0, "staging": 1, "marts": 2, "outbound": 3, "reconcile": 4}
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def display_path(path: Path) -> str:
    """The path as the analyst would type it: relative to the working directory when inside."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


@dataclass(frozen=True)
class Model:
    """One model or seed, rendered and versioned. ``sql`` is the rendered query (a seed's
    load statement); ``parents`` are model/seed names, ``sources`` ``schema.table`` names, both
    including those only its audits read (they are built first all the same).

    ``fingerprint`` is the data fingerprint, the version that says whether the model changed;
    ``metadata_fingerprint`` covers its description, column docs and audits."""

    name: str
    schema: str
    path: Path
    kind: str  # view | table | seed
    sql: str
    parents: tuple[str, ...]
    sources: tuple[str, ...]
    columns: dict[str, str]
    audits: tuple[Audit, ...]
    description: str | None
    fingerprint: str
    metadata_fingerprint: str
    query: exp.Query | None = None
    seed_columns: tuple[SeedColumn, ...] = ()
    line_map: tuple[int, ...] = field(default=(), repr=False)
    # An incremental model (a table): the key its rows are replaced by, what that key is,
    # and its query as rendered with is_incremental() true (only the touched keys' rows).
    unique_key: str | None = None
    key_kind: str | None = None
    incremental_query: exp.Query | None = field(default=None, repr=False)

    @property
    def incremental(self) -> bool:
        return self.incremental_query is not None

    @property
    def qualified(self) -> str:
        return f"{self.schema}.{self.name}"

    @property
    def table(self) -> str:
        return quoted_table(self.schema, self.name)

    @property
    def where(self) -> str:
        return display_path(self.path)


@dataclass(frozen=True)
class Project:
    """All models and seeds of a project, in dependency order (parents first)."""

    root: Path
    models: dict[str, Model]
    variables: Mapping[str, Any] = field(default_factory=dict)

    def model(self, name: str) -> Model:
        try:
            return self.models[name]
        except KeyError:
            raise ModelError(f"{name!r} names no model or seed") from None

    @property
    def sources(self) -> list[str]:
        return sorted({s for m in self.models.values() for s in m.sources})

    def selection(self, select: Iterable[str] | None, *,
                  with_upstream: bool = True) -> list[Model]:
        """The selected models and (unless told not to) their upstream, in dependency order;
        all when ``select`` is None."""
        if select is None:
            return list(self.models.values())
        wanted = set(select)
        unknown = sorted(wanted - set(self.models))
        if unknown:
            raise ModelError(f"select: {', '.join(map(repr, unknown))} names no model or seed")
        keep = upstream(wanted, {n: m.parents for n, m in self.models.items()}) \
            if with_upstream else wanted
        return [m for n, m in self.models.items() if n in keep]


@dataclass
class _File:
    name: str
    schema: str
    path: Path

    @property
    def where(self) -> str:
        return display_path(self.path)


def load_project(root: Path, variables: Mapping[str, Any] | None = None) -> Project:
    """Render, parse, order and fingerprint every model and seed under ``root``."""
    variables = dict(variables or {})
    files = _discover(root)
    relations = {f.name: quoted_table(f.schema, f.name) for f in files.values()}
    parents: dict[str, tuple[str, ...]] = {}
    pending: dict[str, dict[str, Any]] = {}
    for name, file in files.items():
        if file.schema == SEED_SCHEMA:
            data = file.path.read_bytes()
            parents[name] = ()
            pending[name] = {"data": data, "columns": read_header(data, file.where)}
            continue
        text = file.path.read_text(encoding="utf-8")
        rendered = render_model(text, file.where, relations[name], relations, variables)
        query = parse_query(rendered.sql, file.where, rendered.line_map)
        _check_described_columns(query, rendered.columns, file.where)
        parents[name] = tuple(rendered.refs)
        pending[name] = {"rendered": rendered, "query": query, "incremental": None}
        if rendered.config.get("materialized") == "incremental":
            again = render_model(text, file.where, relations[name], relations, variables,
                                 incremental=True)
            pending[name]["incremental"] = parse_query(again.sql, file.where, again.line_map)
    try:
        order = dependency_order(parents, lambda n: (_STAGE_RANK[files[n].schema], n))
    except CycleError as exc:
        chain = " -> ".join(files[n].where for n in exc.cycle)
        raise ModelError(f"a cycle of refs: {chain}") from None
    models: dict[str, Model] = {}
    for name in order:
        file, info = files[name], pending[name]
        if file.schema == SEED_SCHEMA:
            models[name] = _seed(file, info["data"], info["columns"])
        else:
            models[name] = _model(file, info["rendered"], info["query"], models,
                                  info["incremental"])
    return Project(root, models, variables)


def source_digest(root: Path, variables: Mapping[str, Any] | None = None) -> str:
    """A hash of everything :func:`load_project` derives the fingerprints from, read without
    rendering: the model and seed files it finds, the variables, the code of this package
    (which renders and fingerprints them), and the versions of sqlglot and jinja2.

    Equal digests mean equal fingerprints, so a quiet run can tell its models are those of
    the last settled run from a few file reads (milliseconds) instead of loading the project
    (about a second: jinja2 and sqlglot over every model)."""
    digest = hashlib.sha256()
    for file in _discover(root).values():
        digest.update(f"{file.path.relative_to(root)}\0".encode())
        digest.update(file.path.read_bytes())
    for code in sorted(Path(__file__).parent.glob("*.py")):
        digest.update(f"{code.name}\0".encode())
        digest.update(code.read_bytes())
    digest.update(json.dumps({"variables": dict(variables or {}),
                              "sqlglot": metadata.version("sqlglot"),
                              "jinja2": metadata.version("jinja2")},
                             sort_keys=True, default=str).encode())
    return digest.hexdigest()


def _discover(root: Path) -> dict[str, _File]:
    if not root.is_dir():
        raise ModelError(f"no models directory at {display_path(root)}")
    found: dict[str, _File] = {}
    for path in sorted(root.rglob("*")):
        relative = path.relative_to(root)
        if (path.suffix not in (".sql", ".csv") or not path.is_file()
                or any(part.startswith(".") for part in relative.parts)):
            continue
        where = display_path(path)
        folder = relative.parts[0] if len(relative.parts) == 2 else None
        if path.suffix == ".sql" and folder not in MODEL_SCHEMAS:
            raise ModelError(f"{where}: a model belongs in {', '.join(MODEL_SCHEMAS)}/")
        if path.suffix == ".csv" and folder != SEED_SCHEMA:
            raise ModelError(f"{where}: a seed belongs in {SEED_SCHEMA}/")
        assert folder is not None
        name = path.stem
        if not _NAME.match(name):
            raise ModelError(f"{where}: a model name is letters, digits and _ ({name!r})")
        twin = next((f for f in found.values() if f.name.lower() == name.lower()), None)
        if twin is not None:
            raise ModelError(f"{twin.where} and {where}: two models or seeds named {name!r}")
        found[name] = _File(name, folder, path)
    return found


def _check_described_columns(query: exp.Query, columns: Mapping[str, str], where: str) -> None:
    produced = output_columns(query)
    if produced is None:
        return  # SELECT *: the runner checks against the materialised table
    names = {c.lower() for c in produced}
    for column in columns:
        if column.lower() not in names:
            raise ModelError(f"{where}: column({column!r}) is not a column of the model "
                             f"(it produces {', '.join(produced)})")


def _seed(file: _File, data: bytes, columns: list[SeedColumn]) -> Model:
    return Model(
        name=file.name, schema=SEED_SCHEMA, path=file.path, kind="seed",
        sql=load_statement(file.name, file.path, columns), parents=(), sources=(),
        columns={}, audits=(), description=None,
        fingerprint=seed_fingerprint(columns, data),
        metadata_fingerprint=metadata_fingerprint(description=None, columns={}, audits=()),
        seed_columns=tuple(columns),
    )


def _model(file: _File, rendered: Rendered, query: exp.Query, done: Mapping[str, Model],
           incremental: exp.Query | None = None) -> Model:
    kind = rendered.config.get("materialized", DEFAULT_KIND[file.schema])
    if kind == "incremental":
        kind = "table"  # built whole as a table; a micro-run replaces the touched keys' rows
    description = rendered.config.get("description")
    sources = tuple(f"{schema}.{table}" for schema, table in rendered.sources)
    parents = tuple(rendered.refs)
    data = data_fingerprint(
        kind=kind, query=normalised(query),
        parents={p: done[p].fingerprint for p in rendered.data_refs},
        sources=[f"{schema}.{table}" for schema, table in rendered.data_sources],
    )
    metadata = metadata_fingerprint(description=description, columns=rendered.columns,
                                    audits=rendered.audits)
    return Model(
        name=file.name, schema=file.schema, path=file.path, kind=kind, sql=rendered.sql,
        parents=parents, sources=sources, columns=dict(rendered.columns),
        audits=tuple(rendered.audits), description=description, fingerprint=data,
        metadata_fingerprint=metadata, query=query, line_map=tuple(rendered.line_map),
        unique_key=rendered.config.get("unique_key"), key_kind=rendered.config.get("key_kind"),
        incremental_query=incremental,
    )
