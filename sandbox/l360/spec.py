"""The two published 360Learning OpenAPI files, turned into request validators.

Each route of the sandbox names the OpenAPI operation it serves (method and path exactly as the
file spells them); :class:`Spec` then gives that operation's validators:

- the JSON body, against ``requestBody.content["application/json"].schema`` with every
  ``#/components/schemas/…`` reference resolved in the file it comes from;
- each query parameter, deepObject style (``mail[eq]=…``, ``courseId[in]=a&courseId[in]=b``),
  assembled into an object and checked against the parameter's schema;
- each path parameter (ObjectId patterns, enums) and whether ``360-api-version`` is required;
- the OAuth scope the operation requires, read from its description ("Required OAuth scope:
  ``courses:write``"), the only place the files state it (the token endpoint names none).

``format: date-time`` is checked (RFC 3339: a date, ``T``, a time, an offset or ``Z``); the
OpenAPI's own ``format: ObjectId`` is left to the ``pattern`` beside it. Nothing here knows HTTP:
the app turns a message from here into the error body the operation documents.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker
from jsonschema.exceptions import ValidationError, best_match

CONTRACTS = Path(__file__).resolve().parents[1] / "contracts"
SPEC_FILES = ("360learning-core-api.json", "360learning-bulk-api.json")
API_VERSION_HEADER = "360-api-version"
_DATE_TIME = re.compile(
    r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})$")
_DEEP_KEY = re.compile(r"^([A-Za-z_][\w.-]*)\[(\w+)\](\[\])?$")
_SCOPE = re.compile(r"Required OAuth scope:\s*`([^`]+)`")

FORMATS = FormatChecker(formats=())


@FORMATS.checks("date-time", raises=ValueError)
def _is_date_time(value: object) -> bool:
    if not isinstance(value, str):
        return True
    if not _DATE_TIME.match(value):
        return False
    parse_time(value)
    return True


def parse_time(value: str) -> datetime:
    """An RFC 3339 date-time as an aware ``datetime`` (``Z`` accepted, nanoseconds cut)."""
    text = value.strip()
    if text[-1:] in ("Z", "z"):
        text = text[:-1] + "+00:00"
    head, dot, rest = text.partition(".")
    if dot:  # fromisoformat wants at most 6 fractional digits
        digits = re.match(r"\d+", rest)
        frac = digits.group(0) if digits else ""
        text = f"{head}.{frac[:6].ljust(6, '0')}{rest[len(frac):]}"
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        raise ValueError(f"{value!r} has no UTC offset")
    return moment


def describe(error: ValidationError, root: str = "") -> str:
    """``input[3].name: 'name' is a required property`` — where, then what."""
    where = root
    for part in error.absolute_path:
        where += f"[{part}]" if isinstance(part, int) else (f".{part}" if where else str(part))
    return f"{where}: {error.message}" if where else error.message


@dataclass
class Operation:
    """What the OpenAPI says a request to one operation must look like."""

    method: str
    path: str
    operation_id: str
    version_header: bool
    body: Draft202012Validator | None = None
    body_required: bool = False
    query: dict[str, Draft202012Validator] = field(default_factory=dict)
    query_arrays: dict[str, frozenset[str]] = field(default_factory=dict)
    path_params: dict[str, Draft202012Validator] = field(default_factory=dict)
    body_schema: dict[str, Any] = field(default_factory=dict)
    scope: str | None = None  # None: the operation names no scope (the token endpoint)

    def body_error(self, body: Any) -> str | None:
        """The first problem with a JSON body, or ``None`` when it is valid."""
        if self.body is None:
            return None
        error = best_match(self.body.iter_errors(body))
        return None if error is None else describe(error)

    def path_error(self, params: dict[str, str]) -> str | None:
        for name, validator in self.path_params.items():
            if name in params:
                error = best_match(validator.iter_errors(params[name]))
                if error is not None:
                    return f"{name}: {error.message}"
        return None

    def filters(self, query: dict[str, list[str]]) -> tuple[dict[str, dict[str, Any]], str | None]:
        """The deepObject query parameters this operation knows, and the first problem.

        ``name[op]=v`` gives ``{"name": {"op": "v"}}``; an array operator (``in``, ``nin``) takes
        every repeated value, each split on commas. Parameters the operation does not declare
        (``page`` included) are left out, as the real API ignores unknown parameters.
        """
        found: dict[str, dict[str, Any]] = {}
        for key, values in query.items():
            matched = _DEEP_KEY.match(key)
            if matched is None or matched.group(1) not in self.query:
                continue
            name, operator = matched.group(1), matched.group(2)
            if operator in self.query_arrays.get(name, frozenset()):
                items = [part for value in values for part in value.split(",") if part != ""]
                found.setdefault(name, {})[operator] = items
            else:
                found.setdefault(name, {})[operator] = values[-1]
        for name, value in found.items():
            error = best_match(self.query[name].iter_errors(value))
            if error is not None:
                return found, describe(error, name)
        return found, None


class Spec:
    """Both OpenAPI files; :meth:`operation` builds (and caches) one operation's validators."""

    def __init__(self, directory: Path = CONTRACTS) -> None:
        self.documents = [json.loads((directory / name).read_text("utf-8"))
                          for name in SPEC_FILES]
        self._operations: dict[tuple[str, str], Operation] = {}

    def _find(self, method: str, path: str) -> tuple[dict[str, Any], dict[str, Any]]:
        for document in self.documents:
            operation = document["paths"].get(path, {}).get(method.lower())
            if operation is not None:
                return document, operation
        raise KeyError(f"{method} {path} is in neither OpenAPI file")

    @staticmethod
    def _validator(schema: dict[str, Any], document: dict[str, Any]) -> Draft202012Validator:
        # "#/components/schemas/X" references are copied in place (validating 10,000 items is
        # about twice as fast without reference lookups); a recursive one stays a reference, so
        # the schema carries the components for it to point at
        components = document.get("components", {})
        rooted = dict(_inline(schema, components.get("schemas", {}), ()), components=components)
        return Draft202012Validator(rooted, format_checker=FORMATS)

    def operation(self, method: str, path: str) -> Operation:
        key = (method.upper(), path)
        cached = self._operations.get(key)
        if cached is not None:
            return cached
        document, raw = self._find(method, path)
        version = False
        op = Operation(method.upper(), path, raw.get("operationId", ""), False,
                       scope=required_scope(raw.get("description", "")))
        for parameter in raw.get("parameters", []):
            schema = parameter.get("schema", {})
            where = parameter.get("in")
            if where == "header" and parameter["name"].lower() == API_VERSION_HEADER:
                version = bool(parameter.get("required"))
            elif where == "query":
                op.query[parameter["name"]] = self._validator(schema, document)
                op.query_arrays[parameter["name"]] = frozenset(
                    name for name, sub in schema.get("properties", {}).items()
                    if sub.get("type") == "array")
            elif where == "path":
                op.path_params[parameter["name"]] = self._validator(schema, document)
        op.version_header = version
        body = raw.get("requestBody")
        if body is not None:
            schema = body["content"]["application/json"]["schema"]
            op.body = self._validator(schema, document)
            op.body_required = bool(body.get("required"))
            op.body_schema = self.resolve(schema)
        self._operations[key] = op
        return op

    def resolve(self, schema: dict[str, Any]) -> dict[str, Any]:
        """A schema with its top-level ``$ref`` followed (for reading limits such as maxItems)."""
        ref = schema.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/components/schemas/"):
            name = ref.rsplit("/", 1)[1]
            for document in self.documents:
                found = document.get("components", {}).get("schemas", {}).get(name)
                if found is not None:
                    return dict(found)
        return schema

    def max_items(self, method: str, path: str) -> int | None:
        """``input.maxItems`` of a bulk operation's body (10,000, 1,000, 20,000 …)."""
        schema = self.operation(method, path).body_schema
        value = schema.get("properties", {}).get("input", {}).get("maxItems")
        return int(value) if isinstance(value, int) else None

    def response_validator(self, method: str, path: str,
                           status: int | str) -> Draft202012Validator:
        """The documented response body schema (the tests check served bodies against it)."""
        document, raw = self._find(method, path)
        response = raw["responses"][str(status)]
        schema = response["content"]["application/json"]["schema"]
        return self._validator(schema, document)

    def paths(self) -> Iterable[tuple[str, str]]:
        for document in self.documents:
            for path, methods in document["paths"].items():
                for method in methods:
                    yield method.upper(), path


def required_scope(description: str) -> str | None:
    """The scope an operation's description names (each file writes it in a callout, never in
    ``security``, whose ``oauth2`` lists are empty), or ``None`` when it names none."""
    found = _SCOPE.search(description)
    return found.group(1) if found else None


def _inline(node: Any, schemas: dict[str, Any], seen: tuple[str, ...]) -> Any:
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/components/schemas/") and len(node) == 1:
            name = ref.rsplit("/", 1)[1]
            if name not in seen and name in schemas:
                return _inline(schemas[name], schemas, (*seen, name))
            return node
        return {key: _inline(value, schemas, seen) for key, value in node.items()}
    if isinstance(node, list):
        return [_inline(value, schemas, seen) for value in node]
    return node


@functools.lru_cache(maxsize=1)
def load_spec() -> Spec:
    """The OpenAPI files are large (800 kB): read them once per process."""
    return Spec()
