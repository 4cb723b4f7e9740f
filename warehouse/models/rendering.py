"""Rendering one model file: jinja2 with ``ref``/``source``/``var``/``config``/``column``/audits.

The jinja calls record what the model declares (its parents, sources, materialisation,
column rules, audits) while the text renders to the query alone. Every rendered line is
tagged with the source line it came from, so a syntax error points into the file the analyst
edits, even through ``{% if %}``, ``{% for %}`` and multi-line calls.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import jinja2
from jinja2.ext import Extension
from jinja2.lexer import Token, TokenStream

from warehouse.models.audits import Audit, builtin_audit
from warehouse.models.errors import ModelError
from warehouse.models.sql import literal, parse_query, quoted_table

SOURCE_SCHEMAS = ("raw", "meta")
MATERIALIZATIONS = ("view", "table", "incremental")
#: What an incremental model's ``unique_key`` identifies; a micro-run names the keys it touched
#: of each kind, and each incremental model adds the keys it rebuilt to its own kind.
KEY_KINDS = ("enrollment", "learning_object", "user_account")
#: The session's table of touched keys, ``(kind, touched_key)``: ``touched(kind)`` reads it.
TOUCHED_TABLE = "temp.touched_keys"
_MARK = re.compile("\x1e(\\d+)\x1f")
_MISSING = object()


class _LineMarks(Extension):
    """Prefix each line a template's text starts with an invisible mark of its source line."""

    def filter_stream(self, stream: TokenStream) -> Iterator[Token]:
        for token in stream:
            if token.type == "data" and "\n" in token.value:
                first, *rest = token.value.split("\n")
                marked = "".join(f"\n\x1e{token.lineno + i}\x1f{part}"
                                 for i, part in enumerate(rest, 1))
                yield Token(token.lineno, "data", first + marked)
            else:
                yield token


_ENV = jinja2.Environment(
    extensions=[_LineMarks], undefined=jinja2.StrictUndefined,
    keep_trailing_newline=True, autoescape=False,
)


def split_marks(text: str, first: int | None = 1) -> tuple[str, list[int]]:
    """Remove the line marks; return the clean text and the source line of each of its lines.

    A line without a mark follows the line before it; leading unmarked lines (a call block's
    body, which starts mid-line) count back from the first mark.
    """
    lines: list[str] = []
    numbers: list[int | None] = []
    for line in text.split("\n"):
        match = _MARK.match(line)
        numbers.append(int(match[1]) if match else None)
        lines.append(_MARK.sub("", line))
    start = first
    if start is None:
        anchor = next(((i, n) for i, n in enumerate(numbers) if n is not None), (0, 1))
        start = anchor[1] - anchor[0]
    mapped: list[int] = []
    for number in numbers:
        mapped.append(number if number is not None else (mapped[-1] + 1 if mapped else start))
    return "\n".join(lines), [max(n, 1) for n in mapped]


@dataclass
class Rendered:
    """A rendered model: the query text, its line map, and what its jinja calls declared.

    ``refs`` are every model and seed the file names, its audits' included: all must be built
    first. ``data_refs`` are those the query itself reads, the inputs of its data; a model only
    an audit looks up (``relationships``, a ref in an ``audit_query``) is not one of them.
    ``sources`` and ``data_sources`` are the same split for ``source()``.
    """

    sql: str
    line_map: list[int]
    refs: list[str] = field(default_factory=list)
    data_refs: list[str] = field(default_factory=list)
    sources: list[tuple[str, str]] = field(default_factory=list)
    data_sources: list[tuple[str, str]] = field(default_factory=list)
    config: dict[str, str] = field(default_factory=dict)
    columns: dict[str, str] = field(default_factory=dict)
    audits: list[Audit] = field(default_factory=list)


class _Calls:
    """The jinja functions of one model file, bound to it so their errors can name it."""

    def __init__(self, where: str, this: str, relations: Mapping[str, str],
                 variables: Mapping[str, Any], incremental: bool = False) -> None:
        self.where, self.this = where, this
        self.incremental = incremental
        self.relations, self.variables = relations, variables
        self.refs: list[str] = []
        self.data_refs: list[str] = []
        self._auditing = False
        self.sources: list[tuple[str, str]] = []
        self.data_sources: list[tuple[str, str]] = []
        self.config: dict[str, str] = {}
        self.columns: dict[str, str] = {}
        self.audits: list[Audit] = []

    def functions(self) -> dict[str, Callable[..., Any] | str]:
        return {"ref": self.ref, "source": self.source, "var": self.var,
                "config": self.set_config, "column": self.column, "audit": self.audit,
                "audit_query": self.audit_query, "this": self.this,
                "is_incremental": self.is_incremental, "touched": self.touched}

    def is_incremental(self) -> bool:
        """dbt's idea: true when this rendering rebuilds only the keys a micro-run touched
        (the model's table exists, built by this version of the model)."""
        if self.config.get("materialized") != "incremental":
            raise self._fail("is_incremental() needs config(materialized='incremental')")
        return self.incremental

    def touched(self, kind: str) -> str:
        """The keys of ``kind`` the micro-run touched (and the incremental models upstream
        rebuilt), as a subquery: ``WHERE x IN {{ touched('enrollment') }}``."""
        if kind not in KEY_KINDS:
            raise self._fail(f"touched({kind!r}): a kind is one of {', '.join(KEY_KINDS)}")
        return f"(SELECT touched_key FROM {TOUCHED_TABLE} WHERE kind = {literal(kind)})"

    def _fail(self, message: str) -> ModelError:
        return ModelError(f"{self.where}: {message}")

    def resolve(self, name: str) -> str:
        if not isinstance(name, str) or name not in self.relations:
            raise self._fail(f"ref({name!r}) names no model or seed")
        return self.relations[name]

    def ref(self, name: str) -> str:
        table = self.resolve(name)
        if name not in self.refs:
            self.refs.append(name)
        if not self._auditing and name not in self.data_refs:
            self.data_refs.append(name)
        return table

    @contextmanager
    def _in_audit(self) -> Iterator[None]:
        """Refs and sources named while building an audit order the DAG and must exist, but
        are not inputs of the data."""
        self._auditing = True
        try:
            yield
        finally:
            self._auditing = False

    def source(self, schema: str, name: str) -> str:
        if schema not in SOURCE_SCHEMAS:
            raise self._fail(f"source({schema!r}, {name!r}): sources live in "
                             f"{' or '.join(SOURCE_SCHEMAS)}")
        if not isinstance(name, str) or not name:
            raise self._fail(f"source({schema!r}, {name!r}) needs a table name")
        if (schema, name) not in self.sources:
            self.sources.append((schema, name))
        if not self._auditing and (schema, name) not in self.data_sources:
            self.data_sources.append((schema, name))
        return quoted_table(schema, name)

    def var(self, name: str, default: Any = _MISSING) -> str:
        value = self.variables.get(name, default)
        if value is _MISSING:
            raise self._fail(f"var({name!r}) is not set and has no default")
        return literal(value)

    def set_config(self, **options: Any) -> str:
        unknown = set(options) - {"materialized", "description", "unique_key", "key_kind"}
        if unknown:
            raise self._fail(f"config() does not take {', '.join(sorted(unknown))}")
        materialized = options.get("materialized")
        if materialized is not None and materialized not in MATERIALIZATIONS:
            raise self._fail(f"config(materialized={materialized!r}): use 'view', 'table' or "
                             "'incremental'")
        if materialized == "incremental":
            key, kind = options.get("unique_key"), options.get("key_kind")
            if not isinstance(key, str) or not key or kind not in KEY_KINDS:
                raise self._fail("config(materialized='incremental') needs unique_key='column' "
                                 f"and key_kind= one of {', '.join(KEY_KINDS)}")
        elif "unique_key" in options or "key_kind" in options:
            raise self._fail("unique_key and key_kind are for materialized='incremental'")
        description = options.get("description")
        if description is not None and not isinstance(description, str):
            raise self._fail("config(description=...) must be a string")
        self.config.update({k: v for k, v in options.items() if v is not None})
        return ""

    def column(self, name: str, description: str) -> str:
        if not isinstance(name, str) or not name or not isinstance(description, str):
            raise self._fail(f"column({name!r}, ...) needs a column name and a text")
        if name.lower() in (c.lower() for c in self.columns):
            raise self._fail(f"column({name!r}) is described twice")
        self.columns[name] = description
        return ""

    def audit(self, kind: str, **options: Any) -> str:
        try:
            with self._in_audit():
                found = builtin_audit(kind, options, self.this, self.ref, self.where)
        except ValueError as exc:
            raise self._fail(str(exc)) from None
        self._add_audit(found)
        return ""

    def audit_query(self, name: str, blocking: bool = True,
                    caller: Callable[[], str] | None = None) -> str:
        if caller is None:
            raise self._fail(f"audit_query({name!r}) is a block: "
                             "{% call audit_query('name') %} SELECT … {% endcall %}")
        if not isinstance(name, str) or not name or not isinstance(blocking, bool):
            raise self._fail("audit_query(name, blocking=True|False) needs a name")
        with self._in_audit():
            body = str(caller())
        sql, line_map = split_marks(body, first=None)
        query = parse_query(sql, self.where, line_map, what=f"audit {name!r}")
        self._add_audit(Audit(name, "query", blocking, query))
        return ""

    def _add_audit(self, found: Audit) -> None:
        if any(a.name == found.name for a in self.audits):
            raise self._fail(f"two audits named {found.name!r} (give one a name='...')")
        self.audits.append(found)


def render_model(text: str, where: str, this: str, relations: Mapping[str, str],
                 variables: Mapping[str, Any], *, incremental: bool = False) -> Rendered:
    """Render a model file's text; ``relations`` maps every model and seed to its table.
    ``incremental``: the rendering in which ``is_incremental()`` is true."""
    calls = _Calls(where, this, relations, variables, incremental)
    try:
        output = _ENV.from_string(text).render(calls.functions())
    except jinja2.TemplateSyntaxError as exc:
        raise ModelError(f"{where} line {exc.lineno}: {exc.message}") from None
    except (jinja2.TemplateError, TypeError) as exc:
        raise ModelError(f"{where}: {str(exc).splitlines()[0]}") from None
    sql, line_map = split_marks(output)
    return Rendered(sql, line_map, calls.refs, calls.data_refs, calls.sources,
                    calls.data_sources, calls.config, calls.columns, calls.audits)
