"""Checks logged requests against the published OpenAPI files, independently of the sandboxes.

Why this exists: the sandboxes are this project's own reading of the two APIs, so a request a
sandbox accepts proves only that the client and the sandbox agree. This module reads
``sandbox/contracts/*`` itself (it imports no sandbox code but the request log's types) and
says, one line per departure, where a request differs from the documents: an undocumented
path, method, query parameter or value, a missing required header, a body its schema rejects.

How a file is read, and why:

- Paths are the templates of ``paths`` under the document's top-level ``servers`` (whose URLs
  carry no path prefix in these files). An operation's own ``servers`` entry is a relative URL,
  which OpenAPI resolves against the document's location, not against the gateway, so it is
  ignored (the Go1 enrollment list is ``/enrollments``; the ``/report-data/enrolment`` form is a
  known undocumented call, see :data:`UNDOCUMENTED`).
- Query values are strings on the wire: each is read as the schema's type says (an integer or a
  number literal, ``true``/``false``), then validated against the schema (enum, pattern,
  lengths, bounds, ``format: date-time`` as RFC 3339). Go1 spells arrays with brackets in the
  parameter name (``type[]=a&type[]=b``); 360Learning uses ``style: deepObject``
  (``mail[eq]=x``), whose object schema lists the operators a parameter takes.
- Go1's date parameters are mostly plain ``type: string`` with "ISO 8601" in the description;
  for those an RFC 3339 date-time with an offset or ``Z`` is required (the description's
  examples are all of that form).
- Bodies are validated with :mod:`jsonschema` against the document itself (registered once
  under a URN), so ``#/components/schemas/...`` references, recursive ones included, resolve
  lazily. OpenAPI 3.0 schemas (Go1) use Draft 4 semantics, 3.1 schemas (360Learning) Draft
  2020-12. Both 360Learning files still write OpenAPI 3.0's ``nullable: true``, which JSON
  Schema 2020-12 does not know; it is honoured (a null is accepted) in both dialects, since
  that is what the writer meant.
- A request that repeats a ``Link: <url>; rel="next"`` URL an earlier answer carried was
  composed by the server (360Learning adds ``page=N``), so its query is not the client's and
  is not checked; its path, method, headers and body still are.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, unquote, urlencode, urlsplit

import yaml
from jsonschema import Draft4Validator, Draft202012Validator, FormatChecker
from jsonschema.exceptions import ValidationError, best_match
from jsonschema.protocols import Validator
from referencing import Registry
from referencing.jsonschema import DRAFT4, DRAFT202012

from sandbox.httpserver import Headers, LoggedRequest

Schema = dict[str, Any]
RouteKey = tuple[str, str, str]  #: (api, METHOD, path template)
QueryKey = tuple[tuple[str, tuple[str, ...]], ...]

CONTRACTS_DIR = Path(__file__).resolve().parents[2] / "sandbox" / "contracts"

#: The OpenAPI files of each API; the paths of one API's files form one path table.
API_FILES: dict[str, tuple[str, ...]] = {
    "go1": ("go1-openapi.yml",),
    "l360": ("360learning-core-api.json", "360learning-bulk-api.json"),
}

#: Headers a file requires in prose, not as a parameter. Go1's ``info.description`` says
#: "Versioning is date-based and selected per request with the `Api-Version` header": every Go1
#: call must carry it, with the value of ``info.version`` (both read from the file at load).
VERSION_HEADERS: dict[str, str] = {"go1": "Api-Version"}

#: APIs whose plain string parameters described as "ISO 8601" must be RFC 3339 date-times.
ISO8601_BY_DESCRIPTION: frozenset[str] = frozenset({"go1"})

HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
FORM_MEDIA_TYPE = "application/x-www-form-urlencoded"
#: The form fields of a client-credentials token request (RFC 6749 §4.4 with the client's
#: credentials in the body, as the contract README says Go1 takes them): exactly these.
TOKEN_FORM_FIELDS = ("grant_type", "client_id", "client_secret")
MAX_BODY_PROBLEMS = 20  #: a broken 10,000-item body is reported by its first errors only


@dataclass(frozen=True)
class Undocumented:
    """A call the client must make that no OpenAPI file describes, and what it may carry.

    Why a table: an undocumented call is a decision (someone read another source and chose to
    rely on it), so each one is written down once, with its source, and a test can list which of
    them a run made (:attr:`Report.undocumented_seen`).

    ``query`` maps each query parameter the call accepts to a JSON Schema of its value (checked
    like a documented parameter's: the wire string is read as the schema's type says).
    ``query_from`` names a documented operation of the same API, ``(METHOD, path template)``,
    whose query parameters the call also accepts, read from the file. ``bearer``: the call needs
    ``Authorization: Bearer …``. Go1 calls also need ``Api-Version`` (:data:`VERSION_HEADERS`).
    An undocumented call takes no body.
    """

    source: str
    query: Mapping[str, Schema] = field(default_factory=dict)
    query_from: tuple[str, str] | None = None
    bearer: bool = True


#: Known undocumented calls, keyed by (api, METHOD, path template); ``{name}`` is one segment.
#: To add one: a key, the document it comes from in ``source``, and what its query may carry.
UNDOCUMENTED: dict[RouteKey, Undocumented] = {
    # The account list: not in the Go1 OpenAPI file. The contract README documents it
    # (`GET /user-accounts?limit=&offset=` → {"total", "hits"}; public client fixtures show its
    # hits as {id, status}).
    ("go1", "GET", "/user-accounts"): Undocumented(
        source="contract README (shared/contracts/README.md, 'Users'); public client fixtures",
        query={"limit": {"type": "integer"}, "offset": {"type": "integer"}},
    ),
    # One account: not in the Go1 OpenAPI file. The contract README documents it
    # (`GET /user-accounts/{id}` → {"id", "user": {"email", …}, "status"}).
    ("go1", "GET", "/user-accounts/{id}"): Undocumented(
        source="contract README (shared/contracts/README.md, 'Users')",
    ),
    # The enrollment list at the OpenAPI operation's relative `servers:` entry
    # (`/report-data/enrolment`). Not a documented path (a relative server URL resolves against
    # the document's own location); the client tries it only after the gateway answered 404 on
    # `/enrollments`. It takes the documented operation's query parameters.
    ("go1", "GET", "/report-data/enrolment/enrollments"): Undocumented(
        source="go1-openapi.yml: GET /enrollments, servers: [{url: /report-data/enrolment}]",
        query_from=("GET", "/enrollments"),
    ),
    # Deleting a webhook: the OpenAPI file has only PATCH on /webhooks/{id}; the contract
    # README lists GET/PATCH/DELETE there (its 'Webhooks').
    ("go1", "DELETE", "/webhooks/{id}"): Undocumented(
        source="contract README (shared/contracts/README.md, 'Webhooks')",
    ),
}


# formats ------------------------------------------------------------------------------------
_RFC3339_DATE_TIME = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.\d+)?([Zz]|[+-]\d{2}:\d{2})")
_RFC3339_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})")


def _is_calendar_date(year: str, month: str, day: str) -> bool:
    try:
        date(int(year), int(month), int(day))
    except ValueError:
        return False
    return True


def is_rfc3339_date_time(text: str) -> bool:
    """RFC 3339 ``date-time``: full date, ``T``, time, and an offset or ``Z`` (never naive)."""
    match = _RFC3339_DATE_TIME.fullmatch(text)
    if match is None:
        return False
    year, month, day, hour, minute, second, offset = match.groups()
    if offset.upper() != "Z" and (int(offset[1:3]) > 23 or int(offset[4:6]) > 59):
        return False
    return (_is_calendar_date(year, month, day) and int(hour) <= 23 and int(minute) <= 59
            and int(second) <= 60)  # 60: a leap second


def is_rfc3339_date(text: str) -> bool:
    """RFC 3339 ``full-date`` (JSON Schema's ``format: date``)."""
    match = _RFC3339_DATE.fullmatch(text)
    return match is not None and _is_calendar_date(*match.groups())


#: Checks ``date-time`` and ``date`` itself: jsonschema's own date-time check needs an optional
#: package and silently passes everything without it. Other formats (``ObjectId``, ``int64``,
#: ``binary``) are annotations here; where they matter the files also give a ``pattern``.
FORMAT_CHECKER = FormatChecker(formats=())


@FORMAT_CHECKER.checks("date-time")
def _check_date_time(instance: object) -> bool:
    return not isinstance(instance, str) or is_rfc3339_date_time(instance)


@FORMAT_CHECKER.checks("date")
def _check_date(instance: object) -> bool:
    return not isinstance(instance, str) or is_rfc3339_date(instance)


# documents ----------------------------------------------------------------------------------
def _yaml_loader() -> Any:
    """A safe YAML loader that reads scalars as JSON would (YAML 1.2 core schema, roughly).

    YAML 1.1 turns an unquoted ``2025-01-01`` into a date and ``no`` into ``False``; an OpenAPI
    file means strings there (a date-valued enum, Norwegian in a language enum). The C loader is
    used when present: it parses the 365 kB Go1 file in under 0.1 s, the pure one in 0.6 s.
    """
    base = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    loader: Any = type("OpenApiYamlLoader", (base,), {})
    loader.yaml_implicit_resolvers = {
        first: [(tag, regex) for tag, regex in resolvers
                if tag not in ("tag:yaml.org,2002:timestamp", "tag:yaml.org,2002:bool")]
        for first, resolvers in base.yaml_implicit_resolvers.items()}
    loader.add_implicit_resolver("tag:yaml.org,2002:bool",
                                 re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"),
                                 list("tTfF"))
    return loader


def _honour_nullable(node: Any) -> Any:
    """OpenAPI 3.0's ``nullable: true`` as JSON Schema: the type (and enum) also admit null.

    A copy, so the document as read stays untouched. A ``nullable`` schema with no ``type``
    (``{nullable: true, allOf: [{$ref}]}``) becomes ``anyOf: [null, itself]``; the ``$ref``
    targets (``#/components/schemas/X``) are not such nodes, so no pointer moves.
    """
    if isinstance(node, list):
        return [_honour_nullable(item) for item in node]
    if not isinstance(node, dict):
        return node
    out = {key: _honour_nullable(value) for key, value in node.items()}
    if not isinstance(out.get("nullable"), bool):
        return out
    nullable = out.pop("nullable")
    if not nullable:
        return out
    kind = out.get("type")
    if isinstance(kind, str):
        out["type"] = [kind, "null"]
        if isinstance(out.get("enum"), list) and None not in out["enum"]:
            out["enum"] = [*out["enum"], None]
        return out
    return {"anyOf": [{"type": "null"}, out]}


def _pointer(*segments: str | int) -> str:
    """A JSON pointer, percent-encoded for use as a URI fragment (``{`` in path templates)."""
    return "".join("/" + quote(str(segment).replace("~", "~0").replace("/", "~1"), safe="~")
                   for segment in segments)


def _pointer_segments(pointer: str) -> list[str]:
    return [unquote(part).replace("~1", "/").replace("~0", "~")
            for part in pointer.split("/")[1:]]


@dataclass(frozen=True)
class Document:
    """One OpenAPI file, read once: its content, and a registry that resolves its ``$ref``s."""

    name: str
    content: dict[str, Any]  #: with ``nullable`` rewritten (:func:`_honour_nullable`)
    uri: str  #: the URN the document is registered under
    registry: Registry[Any]
    validator_class: Any  #: Draft4Validator (OpenAPI 3.0) or Draft202012Validator (3.1)

    def at(self, pointer: str) -> Any:
        """The node at a JSON pointer (as :func:`_pointer` writes them)."""
        node: Any = self.content
        for segment in _pointer_segments(pointer):
            node = node[int(segment)] if isinstance(node, list) else node[segment]
        return node

    def deref(self, node: Any, pointer: str) -> tuple[Any, str]:
        """Follow local ``$ref``s (a parameter or request body may be one) to the real node."""
        for _ in range(32):
            ref = node.get("$ref") if isinstance(node, dict) else None
            if not isinstance(ref, str) or not ref.startswith("#/"):
                return node, pointer
            pointer = ref[1:]
            node = self.at(pointer)
        raise ValueError(f"{self.name}: $ref chain too long at {pointer}")


@functools.cache
def load_document(name: str) -> Document:
    """Read and prepare one file of :data:`CONTRACTS_DIR`, once per process."""
    text = (CONTRACTS_DIR / name).read_text(encoding="utf-8")
    raw = yaml.load(text, Loader=_yaml_loader()) if name.endswith((".yml", ".yaml")) \
        else json.loads(text)
    version = str(raw.get("openapi", ""))
    content = _honour_nullable(raw)
    uri = f"urn:go1sync:openapi:{name}"
    old = version.startswith("3.0")
    resource = (DRAFT4 if old else DRAFT202012).create_resource(content)
    return Document(name, content, uri, Registry().with_resource(uri, resource),
                    Draft4Validator if old else Draft202012Validator)


@functools.cache
def _document_validator(name: str, pointer: str) -> Validator:
    document = load_document(name)
    validator: Validator = document.validator_class(
        {"$ref": f"{document.uri}#{pointer}"}, registry=document.registry,
        format_checker=FORMAT_CHECKER)
    return validator


@functools.cache
def _inline_validator(schema_json: str) -> Validator:
    return Draft202012Validator(json.loads(schema_json), format_checker=FORMAT_CHECKER)


def _short(text: str, limit: int = 240) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit - 1] + "…"


def _error_lines(validator: Validator, instance: Any, limit: int) -> list[str]:
    """jsonschema's errors, one line each: ``/json/path: message`` (the deepest cause)."""
    lines: list[str] = []
    errors = sorted(validator.iter_errors(instance), key=lambda e: [str(p) for p in e.path])
    for error in errors[:limit]:
        cause: ValidationError = (best_match(error.context) or error) if error.context else error
        where = "".join(f"/{part}" for part in cause.absolute_path)
        lines.append(f"{where}: {_short(cause.message)}" if where else _short(cause.message))
    if len(errors) > limit:
        lines.append(f"… and {len(errors) - limit} more")
    return lines


@dataclass(frozen=True)
class SchemaAt:
    """A schema and where it sits, so that validation resolves its references in its file."""

    node: Schema
    document: Document | None  #: None for an inline schema (an :class:`Undocumented` entry)
    pointer: str = ""

    def deref(self) -> SchemaAt:
        if self.document is None:
            return self
        node, pointer = self.document.deref(self.node, self.pointer)
        return SchemaAt(node, self.document, pointer) if isinstance(node, dict) else self

    def child(self, *keys: str) -> SchemaAt | None:
        """A subschema (``properties``, ``x``; ``items``), following references first."""
        at = self.deref()
        node: Any = at.node
        for key in keys:
            if not isinstance(node, dict) or key not in node:
                return None
            node = node[key]
        return SchemaAt(node, at.document, at.pointer + _pointer(*keys)) \
            if isinstance(node, dict) else None

    def errors(self, instance: Any, limit: int = 5) -> list[str]:
        if self.document is None:
            validator = _inline_validator(json.dumps(self.node, sort_keys=True))
        else:
            validator = _document_validator(self.document.name, self.pointer)
        return _error_lines(validator, instance, limit)


# operations ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class Parameter:
    """A parameter as declared (``in``: path, query, header or cookie)."""

    name: str
    location: str
    required: bool
    schema: SchemaAt | None
    style: str
    explode: bool
    description: str = ""


@dataclass(frozen=True)
class RequestBody:
    required: bool
    content: dict[str, SchemaAt | None]  #: media type → schema


@dataclass(frozen=True)
class Operation:
    """One method of one path: a documented operation, or an :class:`Undocumented` entry."""

    api: str
    method: str  #: upper case
    template: str
    parameters: tuple[Parameter, ...]
    body: RequestBody | None
    bearer: bool
    undocumented: Undocumented | None = None

    @property
    def key(self) -> RouteKey:
        return (self.api, self.method, self.template)

    @property
    def label(self) -> str:
        return f"{self.method} {self.template}"


@dataclass(frozen=True)
class Route:
    """A path template with its methods, and the regex that matches it."""

    template: str
    regex: re.Pattern[str]
    names: tuple[str, ...]  #: template names, in the order of the regex groups p0, p1 …
    operations: dict[str, Operation]

    @property
    def specificity(self) -> tuple[int, int]:
        """OpenAPI: concrete paths match before templated ones; fewer, longer literals first."""
        return (len(self.names), -len(re.sub(r"\{[^{}]*\}", "", self.template)))

    def match(self, path: str) -> dict[str, str] | None:
        found = self.regex.fullmatch(path)
        if found is None:
            return None
        return {name: found.group(f"p{i}") for i, name in enumerate(self.names)}


def _route(template: str, operations: dict[str, Operation]) -> Route:
    parts = re.split(r"\{([^{}/]+)\}", template)
    regex = "".join(re.escape(part) if i % 2 == 0 else f"(?P<p{i // 2}>[^/]+)"
                    for i, part in enumerate(parts))
    return Route(template, re.compile(regex), tuple(parts[1::2]), operations)


def _parameter(document: Document, raw: Any, pointer: str) -> Parameter:
    node, pointer = document.deref(raw, pointer)
    location = str(node.get("in", ""))
    style = str(node.get("style") or ("form" if location in ("query", "cookie") else "simple"))
    schema = node.get("schema")
    return Parameter(
        name=str(node.get("name", "")), location=location,
        required=bool(node.get("required", location == "path")),
        schema=SchemaAt(schema, document, pointer + "/schema") if isinstance(schema, dict)
        else None,
        style=style, explode=bool(node.get("explode", style == "form")),
        description=str(node.get("description") or ""))


def _request_body(document: Document, raw: Any, pointer: str) -> RequestBody:
    node, pointer = document.deref(raw, pointer)
    content: dict[str, SchemaAt | None] = {}
    for media, entry in (node.get("content") or {}).items():
        schema = entry.get("schema") if isinstance(entry, dict) else None
        content[str(media).lower()] = SchemaAt(
            schema, document, pointer + _pointer("content", media, "schema")) \
            if isinstance(schema, dict) else None
    return RequestBody(bool(node.get("required", False)), content)


def _operations(api: str, document: Document) -> Iterator[Operation]:
    top_security = document.content.get("security")
    for template, item in (document.content.get("paths") or {}).items():
        item_pointer = _pointer("paths", template)
        shared = {}
        for i, raw in enumerate(item.get("parameters") or []):
            param = _parameter(document, raw, item_pointer + _pointer("parameters", i))
            shared[(param.name, param.location)] = param
        for method, operation in item.items():
            if method not in HTTP_METHODS or not isinstance(operation, dict):
                continue
            op_pointer = item_pointer + _pointer(method)
            parameters = dict(shared)
            for i, raw in enumerate(operation.get("parameters") or []):
                param = _parameter(document, raw, op_pointer + _pointer("parameters", i))
                parameters[(param.name, param.location)] = param  # the operation's wins
            body = operation.get("requestBody")
            security: list[Any] = operation.get("security", top_security) or []
            # A requirement list that includes {} makes authentication optional. Both APIs'
            # only scheme is OAuth2, whose tokens travel as `Authorization: Bearer`.
            bearer = bool(security) and {} not in security
            yield Operation(api, method.upper(), template, tuple(parameters.values()),
                            _request_body(document, body, op_pointer + "/requestBody")
                            if isinstance(body, dict) else None, bearer)


@dataclass(frozen=True)
class Contract:
    """Everything one API's files say that the checks use, read once per process."""

    api: str
    documents: tuple[Document, ...]
    routes: tuple[Route, ...]
    prefixes: tuple[str, ...]  #: path part of the top-level server URLs ("" for both APIs)
    form_token_paths: frozenset[str]  #: OAuth2 tokenUrls that are not a path of the files
    version_header: tuple[str, str] | None  #: (name, value) every call but the token's needs

    def operation(self, method: str, template: str) -> Operation:
        for route in self.routes:
            if route.template == template and method.upper() in route.operations:
                return route.operations[method.upper()]
        raise KeyError(f"{self.api}: no documented operation {method.upper()} {template}")

    @property
    def files(self) -> str:
        return ", ".join(document.name for document in self.documents)


@functools.cache
def load_contract(api: str) -> Contract:
    """The path table, servers, token URL and version header of ``api`` ("go1" or "l360")."""
    if api not in API_FILES:
        raise ValueError(f"unknown api {api!r}; expected one of {sorted(API_FILES)}")
    documents = tuple(load_document(name) for name in API_FILES[api])
    by_template: dict[str, dict[str, Operation]] = {}
    prefixes: set[str] = set()
    token_urls: set[str] = set()
    for document in documents:
        for operation in _operations(api, document):
            by_template.setdefault(operation.template, {})[operation.method] = operation
        for server in document.content.get("servers") or [{"url": "/"}]:
            prefixes.add(urlsplit(str(server.get("url", ""))).path.rstrip("/"))
        schemes = (document.content.get("components") or {}).get("securitySchemes") or {}
        for scheme in schemes.values():
            for flow in (scheme.get("flows") or {}).values():
                if isinstance(flow, dict) and flow.get("tokenUrl"):
                    token_urls.add(urlsplit(str(flow["tokenUrl"])).path)
    routes = tuple(_route(template, ops) for template, ops in by_template.items())
    version_header = None
    if api in VERSION_HEADERS:
        info = documents[0].content.get("info") or {}
        name = VERSION_HEADERS[api]
        if f"`{name}` header" not in str(info.get("description", "")):
            raise ValueError(f"{documents[0].name}: info.description no longer names {name}")
        version_header = (name, str(info.get("version")))
    documented = {route.template for route in routes}
    return Contract(api, documents, routes, tuple(sorted(prefixes)),
                    frozenset(token_urls - documented), version_header)


def _undocumented_routes(contract: Contract,
                         table: Mapping[RouteKey, Undocumented]) -> tuple[Route, ...]:
    by_template: dict[str, dict[str, Operation]] = {}
    for (api, method, template), entry in table.items():
        if api != contract.api:
            continue
        parameters = [Parameter(name, "query", False, SchemaAt(dict(schema), None), "form", True)
                      for name, schema in entry.query.items()]
        if entry.query_from is not None:
            source = contract.operation(*entry.query_from)
            parameters += [p for p in source.parameters if p.location == "query"]
        by_template.setdefault(template, {})[method.upper()] = Operation(
            api, method.upper(), template, tuple(parameters), None, entry.bearer, entry)
    return tuple(_route(template, ops) for template, ops in by_template.items())


# checks -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Problem:
    """One departure from the documents, readable in an assertion message."""

    index: int  #: the request's position in the log
    request: str  #: ``METHOD /path?query``
    status: int  #: what the sandbox answered (0: connection dropped)
    message: str

    def __str__(self) -> str:
        return f"{self.request} [#{self.index}, answered {self.status}]: {self.message}"


@dataclass
class Report:
    """The outcome of :func:`check_log`: its problems, and the known undocumented calls made."""

    api: str
    checked: int = 0
    problems: list[Problem] = field(default_factory=list)
    undocumented_seen: set[RouteKey] = field(default_factory=set)

    @property
    def ok(self) -> bool:
        return not self.problems

    def messages(self) -> list[str]:
        return [str(problem) for problem in self.problems]

    def __str__(self) -> str:
        if self.ok:
            return f"{self.api}: {self.checked} requests, no departure from the OpenAPI files"
        return f"{self.api}: {len(self.problems)} problem(s) in {self.checked} requests:\n" + \
            "\n".join(self.messages())


def describe(request: LoggedRequest) -> str:
    """``METHOD /path?query`` with brackets, ``@`` and ``:`` left readable."""
    pairs = [(name, value) for name, values in request.query.items() for value in values]
    query = urlencode(pairs, safe="[]@:,/")
    return f"{request.method} {request.path}" + (f"?{query}" if query else "")


_LINK = re.compile(r"<([^>]*)>([^,<]*)")
_REL = re.compile(r';\s*rel\s*=\s*(?:"([^"]*)"|([^\s;,"]+))', re.IGNORECASE)
_INTEGER = re.compile(r"-?(?:0|[1-9]\d*)")
_NUMBER = re.compile(r"-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?")
_DEEP_NAME = re.compile(r"([^\[\]]+)\[([^\[\]]*)\]")
_IGNORED_HEADER_PARAMETERS = ("accept", "content-type", "authorization")  # OpenAPI: SHALL ignore
_KIND = {"integer": "an integer literal", "number": "a number literal",
         "boolean": "true or false", "string": "a string", "null": "empty",
         "array": "an array", "object": "an object"}


def _query_key(query: Mapping[str, Sequence[str]]) -> QueryKey:
    return tuple(sorted((name, tuple(values)) for name, values in query.items()))


def _normal_path(path: str) -> str:
    path = unquote(path)  # as the sandboxes log it
    return path.rstrip("/") if len(path) > 1 and path.endswith("/") else path


def next_links(response_headers: Mapping[str, str]) -> Iterator[tuple[str, QueryKey]]:
    """The (path, query) of each ``rel="next"`` URL of a ``Link`` header (any case)."""
    for name, value in response_headers.items():
        if name.lower() != "link":
            continue
        for link in _LINK.finditer(value):
            rel = _REL.search(link.group(2))
            rels = (rel.group(1) or rel.group(2) or "") if rel else ""
            if "next" in rels.lower().split():
                parts = urlsplit(link.group(1).strip())
                yield _normal_path(parts.path), _query_key(
                    parse_qs(parts.query, keep_blank_values=True))


def _types(node: Schema) -> list[str]:
    kind = node.get("type")
    if isinstance(kind, str):
        return [kind]
    return [str(k) for k in kind] if isinstance(kind, list) else []


def _coerce(text: str, node: Schema) -> tuple[Any, str | None]:
    """The wire string as the value the schema's type says it is, or why it cannot be."""
    kinds = _types(node)
    if not kinds:  # untyped: the enum's own values say what the text stands for
        for value in node.get("enum") or []:
            if (value if isinstance(value, str) else json.dumps(value)) == text:
                return value, None
        return text, None
    for kind in kinds:
        if kind == "string":
            return text, None
        if kind == "integer" and _INTEGER.fullmatch(text):
            return int(text), None
        if kind == "number" and _NUMBER.fullmatch(text):
            return (int(text) if _INTEGER.fullmatch(text) else float(text)), None
        if kind == "boolean" and text in ("true", "false"):
            return text == "true", None
        if kind == "null" and text == "":
            return None, None
    return None, "not " + " or ".join(_KIND.get(kind, kind) for kind in kinds)


def _is_plain_string(node: Schema) -> bool:
    return _types(node) == ["string"] and not {"enum", "format", "pattern"} & node.keys()


def _check_scalar(label: str, text: str, schema: SchemaAt | None, iso8601: bool) -> list[str]:
    if schema is None:
        return []
    schema = schema.deref()
    value, error = _coerce(text, schema.node)
    if error is not None:
        return [f"{label}={text!r}: {error}"]
    messages = schema.errors(value)
    if iso8601 and _is_plain_string(schema.node) and not is_rfc3339_date_time(text):
        messages.append("not an RFC 3339 date-time with an offset or Z (the parameter's "
                        "description says ISO 8601)")
    return [f"{label}={text!r}: {message}" for message in messages]


def _check_values(label: str, values: Sequence[str], schema: SchemaAt | None, iso8601: bool,
                  split: bool) -> list[str]:
    """Every value sent under one name: an array's items, or the one value of a scalar."""
    if schema is None:
        return []
    schema = schema.deref()
    if "array" not in _types(schema.node):
        problems = [f"{label} is sent {len(values)} times, but it is not an array"] \
            if len(values) > 1 else []
        for text in values:
            problems += _check_scalar(label, text, schema, iso8601)
        return problems
    texts = [piece for text in values for piece in (text.split(",") if split else [text])]
    items = schema.child("items")
    problems = []
    for text in texts:
        problems += _check_scalar(label, text, items, iso8601)
    if not problems and {"minItems", "maxItems", "uniqueItems"} & schema.node.keys():
        coerced = [_coerce(text, items.deref().node)[0] if items else text for text in texts]
        problems += [f"{label}: {message}" for message in schema.errors(coerced)]
    return problems


def _check_query(contract: Contract, operation: Operation,
                 query: Mapping[str, Sequence[str]]) -> list[str]:
    declared = {p.name: p for p in operation.parameters if p.location == "query"}
    deep = {name: p for name, p in declared.items() if p.style == "deepObject"}
    iso8601 = contract.api in ISO8601_BY_DESCRIPTION
    problems: list[str] = []
    sent_deep: set[str] = set()
    for name, values in query.items():
        param = declared.get(name)
        if param is not None and param.style != "deepObject":
            # form style: an exploded array repeats the name; an unexploded one uses commas
            problems += _check_values(f"query parameter {name!r}", values, param.schema,
                                      iso8601 and "ISO 8601" in param.description,
                                      split=not param.explode)
            continue
        found = _DEEP_NAME.fullmatch(name)
        if found is not None and found.group(1) in deep:
            param, key = deep[found.group(1)], found.group(2)
            sent_deep.add(param.name)
            schema = param.schema.deref() if param.schema else None
            properties = schema.node.get("properties") if schema else None
            if not isinstance(properties, dict) or key not in properties:
                listed = ", ".join(properties) if isinstance(properties, dict) else "none"
                problems.append(f"query parameter {name!r}: {key!r} is not a property of the "
                                f"deepObject parameter {param.name!r} (it declares {listed})")
                continue
            problems += _check_values(
                f"query parameter {name!r}", values,
                schema.child("properties", key) if schema else None,
                iso8601 and "ISO 8601" in param.description, split=True)
            continue
        hint = f" (a deepObject parameter: send {name}[<operator>]=…)" if name in deep else ""
        problems.append(f"query parameter {name!r} is not declared by {operation.label}{hint}")
    for param in declared.values():
        present = param.name in sent_deep if param.style == "deepObject" else param.name in query
        if param.required and not present:
            problems.append(f"required query parameter {param.name!r} is missing")
    return problems


def _check_headers(contract: Contract, operation: Operation, headers: Headers) -> list[str]:
    problems: list[str] = []
    for param in operation.parameters:
        if param.location != "header" or param.name.lower() in _IGNORED_HEADER_PARAMETERS:
            continue
        value = headers.get(param.name)
        if value is None:
            if param.required:
                problems.append(f"required header {param.name!r} is missing "
                                f"({operation.label} declares it)")
            continue
        problems += _check_scalar(f"header {param.name!r}", value, param.schema, False)
    if contract.version_header is not None:
        name, expected = contract.version_header
        value = headers.get(name)
        if value is None:
            problems.append(f"header {name!r} is missing (the file's info section selects the "
                            f"API version per request with it; expected {expected!r})")
        elif value != expected:
            problems.append(f"header {name!r}={value!r}: expected {expected!r} (info.version)")
    if operation.bearer:
        value = headers.get("Authorization")
        scheme, _, token = str(value or "").strip().partition(" ")
        if value is None:
            problems.append("no Authorization header: the operation's security requires an "
                            "OAuth2 bearer token ('Authorization: Bearer …')")
        elif scheme.lower() != "bearer" or not token.strip():
            problems.append(f"Authorization header is not 'Bearer <token>' ({scheme!r} scheme)")
    return problems


def _media_type(headers: Headers) -> str:
    return str(headers.get("Content-Type") or "").split(";")[0].strip().lower()


def _is_json(media: str) -> bool:
    return media == "application/json" or media.endswith("+json")


def _check_body(operation: Operation, request: LoggedRequest) -> list[str]:
    body = operation.body
    if body is None:
        return [f"sends a {len(request.body)}-byte body, but {operation.label} takes none"] \
            if request.body else []
    if not request.body:
        return [f"no body, but {operation.label} requires one ({', '.join(body.content)})"] \
            if body.required else []
    media = _media_type(request.headers)
    if not media:
        return ["a body without a Content-Type header"]
    candidates = (media, media.split("/")[0] + "/*", "*/*")
    found = next((candidate for candidate in candidates if candidate in body.content), None)
    if found is None:
        return [f"Content-Type {media} is not one {operation.label} takes "
                f"({', '.join(body.content)})"]
    if not _is_json(media):
        return []  # multipart and the like: the media type is checked, the parts are not
    try:
        instance = json.loads(request.body)
    except ValueError as error:
        return [f"body is not valid JSON ({_short(str(error), 80)})"]
    schema = body.content[found]
    if schema is None:
        return []
    return [f"body{line}" if line.startswith("/") else f"body: {line}"
            for line in schema.errors(instance, MAX_BODY_PROBLEMS)]


def _check_form_token(request: LoggedRequest) -> list[str]:
    """Go1's token endpoint: the contract's form-encoded client-credentials request, exactly."""
    problems: list[str] = []
    if request.method != "POST":
        problems.append(f"the token endpoint takes POST, not {request.method}")
    if request.query:
        problems.append("the token endpoint takes no query parameters "
                        f"({', '.join(sorted(request.query))} sent)")
    media = _media_type(request.headers)
    if media != FORM_MEDIA_TYPE:
        problems.append(f"token request sent as {media or 'no Content-Type'}: the token "
                        f"endpoint takes a form-encoded body ({FORM_MEDIA_TYPE}: "
                        f"{', '.join(TOKEN_FORM_FIELDS)})")
        return problems
    try:
        text = request.body.decode("utf-8")
        fields = parse_qs(text, keep_blank_values=True, strict_parsing=True) if text else {}
    except ValueError:
        return [*problems, "token request body is not a form (name=value&…)"]
    for name in TOKEN_FORM_FIELDS:
        values = fields.get(name)
        if values is None:
            problems.append(f"form field {name!r} is missing")
        elif len(values) > 1:
            problems.append(f"form field {name!r} is sent {len(values)} times")
        elif not values[0]:
            problems.append(f"form field {name!r} is empty")
    for name in sorted(set(fields) - set(TOKEN_FORM_FIELDS)):
        problems.append(f"form field {name!r} is not one the token endpoint takes "
                        f"(exactly {', '.join(TOKEN_FORM_FIELDS)})")
    grant = fields.get("grant_type", [""])[0]
    if grant and grant != "client_credentials":
        problems.append(f"form field 'grant_type'={grant!r}: expected 'client_credentials'")
    return problems


def _match(routes: Sequence[Route], method: str, path: str
           ) -> tuple[Operation, dict[str, str]] | list[str] | None:
    """The operation for ``method`` on the most specific route that has it; else the methods
    the matching routes declare; ``None`` when no route matches at all."""
    matching = sorted(((route, values) for route in routes
                       if (values := route.match(path)) is not None),
                      key=lambda pair: pair[0].specificity)
    for route, values in matching:
        if method in route.operations:
            return route.operations[method], values
    if matching:
        return sorted({m for route, _ in matching for m in route.operations})
    return None


def _strip_prefix(contract: Contract, path: str) -> str | None:
    for prefix in sorted(contract.prefixes, key=len, reverse=True):
        if not prefix or path == prefix or path.startswith(prefix + "/"):
            return path[len(prefix):] or "/"
    return None


def _check_request(contract: Contract, extra: tuple[Route, ...], request: LoggedRequest,
                   composed_by_server: bool) -> tuple[list[str], RouteKey | None]:
    if request.path in contract.form_token_paths:
        return _check_form_token(request), None
    # matched as sent: an id holding an encoded "/" is one segment, decoded afterwards
    path = _strip_prefix(contract, request.raw_path or request.path)
    if path is None:
        return [f"outside the servers' base paths {list(contract.prefixes)}"], None
    method = request.method.upper()
    found = _match(contract.routes, method, path)
    if not isinstance(found, tuple):
        # no documented operation for this method here: perhaps a known undocumented call
        known = _match(extra, method, path)
        if isinstance(known, tuple):
            found = known
        elif found is None and known is None:
            return [f"undocumented path: no operation of {contract.files} and no entry of "
                    "UNDOCUMENTED matches it"], None
        else:
            declared = sorted(set(found or []) | set(known or []))
            return [f"method {method} is not declared for this path (it declares "
                    f"{', '.join(declared)})"], None
    operation, values = found
    values = {name: unquote(value) for name, value in values.items()}
    problems: list[str] = []
    for name, value in values.items():
        param = next((p for p in operation.parameters
                      if p.location == "path" and p.name == name), None)
        if param is not None:
            problems += _check_scalar(f"path parameter {name!r}", value, param.schema, False)
    if not composed_by_server:
        problems += _check_query(contract, operation, request.query)
    problems += _check_headers(contract, operation, request.headers)
    problems += _check_body(operation, request)
    return problems, operation.key if operation.undocumented is not None else None


def check_log(api: str, log: Sequence[LoggedRequest],
              undocumented: Mapping[RouteKey, Undocumented] = UNDOCUMENTED) -> Report:
    """Check one sandbox's whole request log, oldest first, against ``api``'s OpenAPI files.

    The whole log, because a request may follow a ``Link`` rel="next" URL an earlier answer
    carried: such a query was composed by the server and is not checked. Every request is
    checked whatever the sandbox answered (a 400 or a dropped connection included): a client
    must not send a bad request even where the stand-in would refuse it.
    """
    contract = load_contract(api)
    extra = _undocumented_routes(contract, undocumented)
    report = Report(api)
    links: set[tuple[str, QueryKey]] = set()
    for index, request in enumerate(log):
        composed = (request.path, _query_key(request.query)) in links
        messages, seen = _check_request(contract, extra, request, composed)
        label = describe(request)
        report.problems += [Problem(index, label, request.status, message)
                            for message in messages]
        if seen is not None:
            report.undocumented_seen.add(seen)
        links.update(next_links(request.response_headers or {}))
        report.checked += 1
    return report
