"""Unit tests of the OpenAPI request validator, on hand-built log entries (no server).

Why by hand: each test states one request and the exact departure the validator must name, so
a validator that accepted everything (or rejected everything) could not pass. Accepting tests
assert an empty problem list; flagging tests assert on the problem text.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest

from sandbox.httpserver import Headers, LoggedRequest
from tests.contract import openapi_requests as oa
from tests.contract.openapi_requests import UNDOCUMENTED, Report, check_log

GO1_HEADERS = {"Authorization": "Bearer go1-token", "Api-Version": "2025-01-01"}
L360_HEADERS = {"Authorization": "Bearer l360-token", "360-api-version": "v2.0"}
INTEGRATION = "65a1b2c3d4e5f60718293a4b"
COURSE_A, COURSE_B = "507f1f77bcf86cd799439011", "507f1f77bcf86cd799439012"

LIBRARY = ("/learning-objects?collection=library&type[]=course&type[]=video&include[]=core"
           "&state[]=published&use_scroll=true&limit=5000")
ENROLLMENTS = ("/enrollments?update_time_gte=2026-01-01T00:00:00Z"
               "&update_time_lte=2026-01-02T00:00:00Z&sort=updated_time&order=asc&limit=50"
               "&offset=0")


def logged(method: str, target: str, headers: Mapping[str, str] | None = None, *,
           body: Any = None, raw_body: bytes = b"", content_type: str | None = None,
           status: int = 200, response_headers: Mapping[str, str] | None = None,
           ) -> LoggedRequest:
    """A log entry as a sandbox would record it: the query parsed by parse_qs, JSON bodies
    serialised with their Content-Type."""
    parts = urlsplit(target)
    header_items = dict(headers or {})
    if body is not None:
        raw_body = json.dumps(body).encode("utf-8")
        content_type = content_type or "application/json"
    if content_type is not None:
        header_items["Content-Type"] = content_type
    form = None
    if content_type and content_type.startswith("application/x-www-form-urlencoded"):
        pairs = parse_qs(raw_body.decode("utf-8"), keep_blank_values=True)
        form = {key: values[-1] for key, values in pairs.items()}
    return LoggedRequest(method, parts.path, parse_qs(parts.query, keep_blank_values=True),
                         Headers(header_items.items()), form, status,
                         datetime(2026, 1, 1, tzinfo=UTC), raw_body,
                         dict(response_headers or {}))


def go1(method: str, target: str, **kwargs: Any) -> LoggedRequest:
    return logged(method, target, GO1_HEADERS, **kwargs)


def l360(method: str, target: str, **kwargs: Any) -> LoggedRequest:
    return logged(method, target, L360_HEADERS, **kwargs)


def without(headers: Mapping[str, str], name: str) -> dict[str, str]:
    return {key: value for key, value in headers.items() if key.lower() != name.lower()}


def problems(api: str, *requests: LoggedRequest) -> list[str]:
    return check_log(api, list(requests)).messages()


def assert_clean(report: Report) -> None:
    assert report.ok, str(report)


def assert_flags(messages: list[str], *fragments: str) -> None:
    """Every fragment appears in some problem line (and there is at least one problem)."""
    assert messages, "expected a problem, got none"
    for fragment in fragments:
        assert any(fragment in message for message in messages), \
            f"no problem mentions {fragment!r}:\n" + "\n".join(messages)


def stats_record(**overrides: Any) -> dict[str, Any]:
    record: dict[str, Any] = {
        "courseIdentifier": {"type": "externalId", "value": "36439791"},
        "userIdentifier": {"type": "mail", "value": "learner@example.com"},
        "progress": 100, "timeSpent": 1, "score": 90, "result": "success",
        "firstActivityAt": "2026-01-01T09:00:00.000Z",
        "lastActivityAt": "2026-01-02T10:30:00Z",
    }
    record.update(overrides)
    return {key: value for key, value in record.items() if value is not None}


STATS_PATH = f"/api/v2/bulk/integrations/{INTEGRATION}/stats"


# accepted ---------------------------------------------------------------------------------
def test_accepts_the_go1_library_listing() -> None:
    assert_clean(check_log("go1", [go1("GET", LIBRARY)]))
    scroll = go1("GET", "/learning-objects?use_scroll=true&scroll_id=abc123&limit=5000")
    assert_clean(check_log("go1", [scroll]))


def test_accepts_the_go1_enrollment_window() -> None:
    assert_clean(check_log("go1", [go1("GET", ENROLLMENTS), go1("GET", "/enrollments/123")]))


def test_accepts_a_360_user_lookup_and_deep_object_arrays() -> None:
    report = check_log("l360", [
        l360("GET", "/api/v2/users?mail[eq]=a@b.com"),
        l360("GET", f"/api/v2/courses/stats?courseId[in]={COURSE_A},{COURSE_B}"
                    f"&courseId[in]={COURSE_A}&completedAt[gte]=2026-01-01T00:00:00.000Z"),
        l360("GET", "/api/v2/integrations?externalPlatform[eq]=Go1"),
    ])
    assert_clean(report)


def test_accepts_a_bulk_stats_submit() -> None:
    request = l360("POST", STATS_PATH, body={"input": [stats_record(), stats_record(
        progress=40, result=None, score=None, forceNew=True)]}, status=202)
    assert_clean(check_log("l360", [request]))


def test_accepts_the_go1_token_form() -> None:
    form = urlencode({"grant_type": "client_credentials", "client_id": "id",
                      "client_secret": "s3cret"}).encode()
    request = logged("POST", "/oauth/token", raw_body=form,
                     content_type="application/x-www-form-urlencoded; charset=utf-8")
    assert_clean(check_log("go1", [request]))


def test_accepts_the_360_token_body_without_bearer_or_version_header() -> None:
    request = logged("POST", "/api/v2/oauth2/token", body={
        "grant_type": "client_credentials", "client_id": "id", "client_secret": "s3cret"})
    assert_clean(check_log("l360", [request]))


def test_accepts_known_undocumented_go1_calls_and_lists_them() -> None:
    report = check_log("go1", [
        go1("GET", "/user-accounts?limit=50&offset=100"),
        go1("GET", "/user-accounts/42"),
        go1("GET", "/report-data/enrolment/enrollments?update_time_gte=2026-01-01T00:00:00Z"
                   "&sort=updated_time&order=asc&limit=50&offset=0", status=404),
    ])
    assert_clean(report)
    assert report.undocumented_seen == {
        ("go1", "GET", "/user-accounts"), ("go1", "GET", "/user-accounts/{id}"),
        ("go1", "GET", "/report-data/enrolment/enrollments")}
    assert check_log("go1", [go1("GET", LIBRARY)]).undocumented_seen == set()


def test_accepts_a_page_that_follows_an_earlier_link_header() -> None:
    first = l360("GET", "/api/v2/users?mail[eq]=a@b.com", response_headers={
        "link": '<http://127.0.0.1:8360/api/v2/users?mail%5Beq%5D=a%40b.com&page=2>; '
                'rel="next"'})
    second = l360("GET", "/api/v2/users?mail[eq]=a@b.com&page=2")
    assert_clean(check_log("l360", [first, second]))
    # without the earlier answer's Link, page=2 is the client's own, undocumented, parameter
    assert_flags(problems("l360", second),
                 "GET /api/v2/users?mail[eq]=a@b.com&page=2",
                 "query parameter 'page' is not declared by GET /api/v2/users")
    # the Link must come first, and name exactly this query
    assert_flags(problems("l360", second, first), "query parameter 'page' is not declared")
    other = l360("GET", "/api/v2/users?mail[eq]=other@b.com&page=2")
    assert_flags(problems("l360", first, other), "query parameter 'page' is not declared")


def test_a_followed_link_still_needs_the_clients_headers() -> None:
    first = l360("GET", "/api/v2/users", response_headers={
        "Link": '</api/v2/users?page=2>; rel="next"'})
    second = logged("GET", "/api/v2/users?page=2", without(L360_HEADERS, "authorization"))
    assert_flags(problems("l360", first, second), "no Authorization header")


# flagged: query -----------------------------------------------------------------------------
def test_flags_an_undocumented_go1_query_parameter() -> None:
    assert_flags(problems("go1", go1("GET", "/learning-objects?foo=1")),
                 "GET /learning-objects?foo=1",
                 "query parameter 'foo' is not declared by GET /learning-objects")


def test_flags_a_deep_object_operator_the_parameter_does_not_declare() -> None:
    assert_flags(problems("l360", l360("GET", "/api/v2/users?mail[like]=x")),
                 "query parameter 'mail[like]': 'like' is not a property of the deepObject "
                 "parameter 'mail' (it declares eq, ne, in, nin)")
    assert_flags(problems("l360", l360("GET", "/api/v2/users?mail=x")),
                 "query parameter 'mail' is not declared by GET /api/v2/users "
                 "(a deepObject parameter")


def test_flags_a_value_outside_an_enum() -> None:
    assert_flags(problems("go1", go1("GET", "/enrollments?sort=nope")),
                 "query parameter 'sort'='nope': 'nope' is not one of")
    assert_flags(problems("l360", l360("GET", "/api/v2/users?status[eq]=gone")),
                 "query parameter 'status[eq]'='gone': 'gone' is not one of")


def test_flags_a_non_integer_limit() -> None:
    assert_flags(problems("go1", go1("GET", "/enrollments?limit=fifty")),
                 "query parameter 'limit'='fifty': not an integer literal")
    assert_flags(problems("go1", go1("GET", "/enrollments?limit=50.0")),
                 "query parameter 'limit'='50.0': not an integer literal")
    # /learning-objects declares limit as `type: number`: a number literal, still not words
    assert_flags(problems("go1", go1("GET", "/learning-objects?limit=lots")),
                 "query parameter 'limit'='lots': not a number literal")


def test_flags_a_non_date_iso8601_parameter() -> None:
    assert_flags(problems("go1", go1("GET", "/enrollments?update_time_gte=yesterday")),
                 "query parameter 'update_time_gte'='yesterday': not an RFC 3339 date-time "
                 "with an offset or Z")
    assert_flags(problems("go1", go1("GET", "/enrollments?update_time_lte=2026-01-01T00:00:00")),
                 "query parameter 'update_time_lte'='2026-01-01T00:00:00': not an RFC 3339")
    # the enum `sort` of /learning-objects says "ISO 8601" in its description: not a date
    assert_clean(check_log("go1", [go1("GET", "/learning-objects?sort=title")]))


def test_flags_a_bad_deep_object_date_and_object_id() -> None:
    assert_flags(problems("l360", l360("GET", "/api/v2/courses/stats?completedAt[gte]=today")),
                 "query parameter 'completedAt[gte]'='today': 'today' is not a 'date-time'")
    assert_flags(problems("l360", l360("GET", f"/api/v2/courses/stats?courseId[in]={COURSE_A},x")),
                 "query parameter 'courseId[in]'='x': 'x' does not match")


def test_flags_a_repeated_scalar_parameter_and_a_bad_array_item() -> None:
    assert_flags(problems("go1", go1("GET", "/enrollments?sort=updated_time&sort=created_time")),
                 "query parameter 'sort' is sent 2 times, but it is not an array")
    assert_flags(problems("l360", l360("GET", "/api/v2/users?mail[eq]=a@b.com&mail[eq]=c@d.com")),
                 "query parameter 'mail[eq]' is sent 2 times")
    assert_flags(problems("go1", go1("GET", "/learning-objects?type[]=course&type[]=book")),
                 "query parameter 'type[]'='book': 'book' is not one of")


def test_flags_the_openapi_server_form_of_enrollments_with_an_undocumented_parameter() -> None:
    report = check_log("go1", [go1("GET", "/report-data/enrolment/enrollments?foo=1")])
    assert_flags(report.messages(), "query parameter 'foo' is not declared by "
                                    "GET /report-data/enrolment/enrollments")
    assert report.undocumented_seen == {("go1", "GET", "/report-data/enrolment/enrollments")}
    assert_flags(problems("go1", go1("GET", "/report-data/enrolment/enrollments?sort=nope")),
                 "'nope' is not one of")  # the documented operation's own parameters apply


def test_flags_undocumented_account_list_parameters() -> None:
    assert_flags(problems("go1", go1("GET", "/user-accounts?limit=ten")),
                 "query parameter 'limit'='ten': not an integer literal")
    assert_flags(problems("go1", go1("GET", "/user-accounts/42?include=user")),
                 "query parameter 'include' is not declared by GET /user-accounts/{id}")


# flagged: path and method -------------------------------------------------------------------
def test_flags_an_unknown_path() -> None:
    assert_flags(problems("l360", l360("GET", "/api/v2/whatever")),
                 "GET /api/v2/whatever", "undocumented path: no operation of "
                 "360learning-core-api.json, 360learning-bulk-api.json")
    # an operation-level relative server is no path prefix: the gateway form is the documented
    assert_flags(problems("go1", go1("GET", "/report-data/enrolment/enrollments/123")),
                 "undocumented path")


def test_flags_a_wrong_method() -> None:
    assert_flags(problems("l360", l360("DELETE", "/api/v2/users")),
                 "DELETE /api/v2/users", "method DELETE is not declared for this path "
                 "(it declares GET, POST)")
    assert_flags(problems("go1", go1("POST", "/user-accounts")),
                 "method POST is not declared for this path (it declares GET)")


def test_flags_a_path_parameter_outside_its_pattern() -> None:
    assert_flags(problems("l360", l360("GET", "/api/v2/users/not-an-object-id")),
                 "path parameter 'userId'='not-an-object-id': 'not-an-object-id' does not match")
    assert_clean(check_log("l360", [l360("GET", f"/api/v2/groups/{COURSE_A}/catalog/course-ids")]))
    assert_flags(problems("l360", l360("GET", f"/api/v2/groups/{COURSE_A}/catalog/video-ids")),
                 "path parameter 'contentType'='video': 'video' is not one of")


# flagged: body ------------------------------------------------------------------------------
def test_flags_a_stats_body_with_no_time_spent() -> None:
    request = l360("POST", STATS_PATH, body={"input": [stats_record(timeSpent=0)]})
    assert_flags(problems("l360", request),
                 "body/input/0/timeSpent: 0 is less than the minimum of 1")


def test_flags_a_stats_body_without_user_identifier() -> None:
    record = stats_record()
    del record["userIdentifier"]
    assert_flags(problems("l360", l360("POST", STATS_PATH, body={"input": [record]})),
                 "body/input/0: 'userIdentifier' is a required property")


def test_flags_bad_dates_and_nested_references_in_a_body() -> None:
    request = l360("POST", STATS_PATH, body={"input": [stats_record(
        firstActivityAt="2026-01-01 09:00", userIdentifier={"type": "login", "value": "x"})]})
    assert_flags(problems("l360", request),
                 "body/input/0/firstActivityAt: '2026-01-01 09:00' is not a 'date-time'",
                 "body/input/0/userIdentifier/type: 'login' is not one of ['mail', 'internalId']")


def test_flags_missing_unexpected_and_mistyped_bodies() -> None:
    assert_flags(problems("l360", l360("POST", STATS_PATH)),
                 f"no body, but POST {STATS_PATH.replace(INTEGRATION, '{integrationId}')} "
                 "requires one (application/json)")
    assert_flags(problems("l360", l360("GET", "/api/v2/users", body={"mail": "a@b.com"})),
                 "byte body, but GET /api/v2/users takes none")
    assert_flags(problems("l360", l360("POST", STATS_PATH, raw_body=b"{not json",
                                       content_type="application/json")),
                 "body is not valid JSON")
    assert_flags(problems("l360", l360("POST", STATS_PATH, raw_body=b"input=1",
                                       content_type="application/x-www-form-urlencoded")),
                 "Content-Type application/x-www-form-urlencoded is not one")


def test_flags_a_360_token_body_with_a_wrong_grant() -> None:
    request = logged("POST", "/api/v2/oauth2/token", body={
        "grant_type": "password", "client_id": "id", "client_secret": "s"})
    assert_flags(problems("l360", request), "body/grant_type: 'password' is not one of")


# flagged: headers ---------------------------------------------------------------------------
def test_flags_a_missing_360_api_version() -> None:
    request = logged("GET", "/api/v2/users?mail[eq]=a@b.com",
                     without(L360_HEADERS, "360-api-version"))
    assert_flags(problems("l360", request),
                 "required header '360-api-version' is missing (GET /api/v2/users declares it)")
    wrong = logged("GET", "/api/v2/users", {**L360_HEADERS, "360-api-version": "v1"})
    assert_flags(problems("l360", wrong), "header '360-api-version'='v1': 'v1' is not one of")


def test_flags_a_missing_go1_api_version() -> None:
    for target in (LIBRARY, "/user-accounts/42"):
        request = logged("GET", target, without(GO1_HEADERS, "api-version"))
        assert_flags(problems("go1", request), "header 'Api-Version' is missing")
    wrong = logged("GET", LIBRARY, {**GO1_HEADERS, "Api-Version": "2024-01-01"})
    assert_flags(problems("go1", wrong), "expected '2025-01-01'")


def test_flags_a_missing_bearer_token() -> None:
    for api, target, headers in (("go1", ENROLLMENTS, GO1_HEADERS),
                                 ("go1", "/user-accounts?limit=1", GO1_HEADERS),
                                 ("l360", "/api/v2/users", L360_HEADERS)):
        request = logged("GET", target, without(headers, "authorization"))
        assert_flags(problems(api, request), "no Authorization header: the operation's "
                                             "security requires an OAuth2 bearer token")
    basic = logged("GET", "/api/v2/users", {**L360_HEADERS, "Authorization": "Basic abc"})
    assert_flags(problems("l360", basic), "Authorization header is not 'Bearer <token>'")


# flagged: Go1 token -------------------------------------------------------------------------
def test_flags_a_go1_token_request_sent_as_json() -> None:
    request = logged("POST", "/oauth/token", body={
        "grant_type": "client_credentials", "client_id": "id", "client_secret": "s"})
    assert_flags(problems("go1", request),
                 "POST /oauth/token", "token request sent as application/json: the token "
                 "endpoint takes a form-encoded body (application/x-www-form-urlencoded")


def test_flags_a_go1_token_form_with_other_fields() -> None:
    form = urlencode({"grant_type": "password", "client_id": "id", "scope": "lo.read"})
    request = logged("POST", "/oauth/token", raw_body=form.encode(),
                     content_type="application/x-www-form-urlencoded")
    assert_flags(problems("go1", request), "form field 'client_secret' is missing",
                 "form field 'scope' is not one the token endpoint takes",
                 "form field 'grant_type'='password': expected 'client_credentials'")


# the log as a whole -------------------------------------------------------------------------
def test_every_request_is_checked_whatever_the_sandbox_answered() -> None:
    report = check_log("go1", [go1("GET", "/learning-objects?foo=1", status=400),
                               go1("GET", "/learning-objects?bar=1", status=0),
                               go1("GET", LIBRARY, status=200)])
    assert report.checked == 3
    assert [problem.index for problem in report.problems] == [0, 1]
    assert str(report.problems[1]) == ("GET /learning-objects?bar=1 [#1, answered 0]: query "
                                       "parameter 'bar' is not declared by GET /learning-objects")
    assert "2 problem(s) in 3 requests" in str(report)


def test_an_unknown_api_is_an_error() -> None:
    with pytest.raises(ValueError, match="unknown api"):
        check_log("moodle", [])


def test_a_custom_undocumented_table_replaces_the_default() -> None:
    table = {**UNDOCUMENTED, ("l360", "GET", "/api/v2/ping"): oa.Undocumented(
        source="a test", query={"n": {"type": "integer", "minimum": 1}})}
    report = check_log("l360", [l360("GET", "/api/v2/ping?n=0")], table)
    assert_flags(report.messages(), "query parameter 'n'='0': 0 is less than the minimum of 1")
    assert report.undocumented_seen == {("l360", "GET", "/api/v2/ping")}
    # the default table applies when none is given; an empty one knows no undocumented call
    assert_clean(check_log("go1", [go1("GET", "/user-accounts")]))
    assert_flags(check_log("go1", [go1("GET", "/user-accounts")], {}).messages(),
                 "undocumented path")


# building blocks ----------------------------------------------------------------------------
@pytest.mark.parametrize(("text", "valid"), [
    ("2026-01-01T00:00:00Z", True), ("2026-01-01T00:00:00.123+02:00", True),
    ("2024-02-29T23:59:60z", True), ("2026-01-01t00:00:00-05:30", True),
    ("2026-01-01T00:00:00", False), ("2026-01-01", False), ("2026-02-30T00:00:00Z", False),
    ("2026-01-01T24:00:00Z", False), ("2026-01-01 00:00:00Z", False),
    ("2026-01-01T00:00:00+0000", False), ("2026-01-01T00:00:00Z\n", False),
])
def test_rfc3339_date_time(text: str, valid: bool) -> None:
    assert oa.is_rfc3339_date_time(text) is valid


def test_a_recursive_schema_resolves_lazily(tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """The shipped files have no recursive schema today; a tree of nodes proves the registry
    resolves one lazily (an eager inliner would never finish)."""
    document = {"openapi": "3.1.0", "paths": {}, "components": {"schemas": {"Node": {
        "type": "object", "required": ["name"],
        "properties": {"name": {"type": "string", "nullable": True},
                       "children": {"type": "array",
                                    "items": {"$ref": "#/components/schemas/Node"}}}}}}}
    (tmp_path / "recursive.json").write_text(json.dumps(document))
    monkeypatch.setattr(oa, "CONTRACTS_DIR", tmp_path)
    loaded = oa.load_document("recursive.json")
    try:
        schema = oa.SchemaAt(loaded.at("/components/schemas/Node"), loaded,
                             "/components/schemas/Node")
        good = {"name": "a", "children": [{"name": None, "children": [{"name": "c"}]}]}
        assert schema.errors(good) == []
        bad = {"name": "a", "children": [{"children": [{"name": 3}]}]}
        assert schema.errors(bad) == ["/children/0: 'name' is a required property",
                                      "/children/0/children/0/name: 3 is not of type "
                                      "'string', 'null'"]
    finally:
        oa.load_document.cache_clear()
        oa._document_validator.cache_clear()


# The documents' own examples ---------------------------------------------------------------
#: Backticked code in a parameter's description: Go1 writes its examples as query strings
#: (`type[]=course&type[]=video`); one with an ellipsis is a format (`status=value[,value...]`).
_CODE = re.compile(r"`([^`\s]+)`")

#: Published examples the validator refuses, each for a fault of the document, not of the
#: validator. go1sync never sends any of these; the strict reading is the schema's.
DOCUMENT_FAULTS = {
    # the prose describes comma-separated lists; the schemas are single enum strings
    ("go1", "GET /learning-objects", "sort", "price,title"): "comma list against an enum",
    ("go1", "GET /learning-objects", "order", "asc,desc"): "comma list against an enum",
    ("go1", "GET /enrollments", "status", "not-started,in-progress"):
        "comma list against an enum",
    # `providers[]=150&providers[]2000`: the second pair lacks its `=`
    ("go1", "GET /learning-objects", "providers[]", "150"): "a typo in the example",
}


def _text(value: Any) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)


def _published_examples(api: str) -> Iterator[tuple[oa.Operation, str, dict[str, list[str]]]]:
    """Each query parameter example the files publish, as the query a client would send: the
    parameter's or its schema's ``example``, a deepObject operator's ``example`` (or its items'),
    and the query-string examples of its description."""
    contract = oa.load_contract(api)
    for document in contract.documents:
        for template, item in document.content["paths"].items():
            for method, operation in item.items():
                if method not in oa.HTTP_METHODS or not isinstance(operation, dict):
                    continue
                for raw in [*(item.get("parameters") or []), *(operation.get("parameters") or [])]:
                    raw, _ = document.deref(raw, "")
                    if raw.get("in") != "query":
                        continue
                    name, schema = raw["name"], raw.get("schema") or {}
                    queries: list[dict[str, list[str]]] = []
                    for example in (raw.get("example"), schema.get("example")):
                        if example is not None:
                            queries.append({name: [_text(example).removeprefix(f"{name}=")]})
                    for key, node in (schema.get("properties") or {}).items():
                        example = node.get("example", (node.get("items") or {}).get("example"))
                        if example is not None and raw.get("style") == "deepObject":
                            queries.append({f"{name}[{key}]": [_text(example)]})
                    for found in _CODE.finditer(raw.get("description") or ""):
                        code = found.group(1)
                        if code.startswith(f"{name}=") and "..." not in code:
                            queries.append(parse_qs(code, keep_blank_values=True))
                    for query in queries:
                        yield contract.operation(method, template), name, query


@pytest.mark.parametrize("api", ["go1", "l360"])
def test_the_documents_own_examples_pass_but_where_the_document_is_at_fault(
        api: str) -> None:
    """The validator holds requests to the files; the files' own examples are the first thing it
    must accept. Pinned both ways: every example passes, except exactly the listed ones."""
    contract = oa.load_contract(api)
    checked, refused = 0, set()
    for operation, name, query in _published_examples(api):
        checked += 1
        found = [m for m in oa._check_query(contract, operation, query)
                 if not m.startswith("required query parameter")]
        if found:
            refused.add((api, operation.label, name, query[name][0] if name in query else ""))
    assert checked > 30
    assert refused == {fault for fault in DOCUMENT_FAULTS if fault[0] == api}
