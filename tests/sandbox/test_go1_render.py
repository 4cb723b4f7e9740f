"""The enrollment list's JSON text is written by hand (``Enrollment.render_json``) for speed.

These tests hold it to what it replaced: ``json.dumps(..., ensure_ascii=False,
separators=(",", ":"))`` of the dict rendering, byte for byte (same keys, key order, values and
separators), for every enrollment of seeded sandboxes, for pages of every kind the route serves,
over HTTP, and for strings that need escaping.
"""

from __future__ import annotations

import json
import random
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import requests

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:  # the project is not necessarily installed in the venv
    sys.path.insert(0, str(ROOT))

from sandbox.go1 import Go1Sandbox, Go1Seed  # noqa: E402
from sandbox.go1.data import generate  # noqa: E402
from sandbox.go1.model import Enrollment  # noqa: E402
from sandbox.go1.store import EnrollmentQuery, Go1Store  # noqa: E402
from sandbox.go1.timefmt import STYLES, format_us, from_us, json_us, parse_us  # noqa: E402

ENROLLMENTS = "/enrollments"  # the gateway's path, the sandbox's default
SEEDS = (Go1Seed(seed=11, learning_objects=120, users=30, enrollments=400),
         Go1Seed(seed=3, learning_objects=300, users=400, enrollments=6000))


def dumps(value: Any) -> str:
    """What ``Response.encode`` did with a dict body before the route sent text."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


@pytest.fixture(scope="module", params=SEEDS, ids=lambda seed: f"seed{seed.seed}")
def store(request: pytest.FixtureRequest) -> Go1Store:
    return Go1Store(generate(request.param))


@pytest.fixture(scope="module")
def served() -> Iterator[Go1Sandbox]:
    with Go1Sandbox(SEEDS[0]).serve() as sb:
        yield sb


# one record -----------------------------------------------------------------------------
@pytest.mark.parametrize("seed", SEEDS, ids=lambda seed: f"seed{seed.seed}")
def test_every_enrollment_renders_the_same_text_as_json_dumps_of_its_dict(seed: Go1Seed
                                                                          ) -> None:
    data = generate(seed)
    records = [*data.enrollments, *data.archived]
    for record in records:
        assert record.render_json() == dumps(record.render()), record.id
    # the seed plants the awkward values; make sure they were all compared above
    assert {r.passed for r in records} == {True, False, None}
    assert {r.assigner is None for r in records} == {True, False}
    assert {r.due_us is None for r in records} == {True, False}
    assert {r.end_us is None for r in records} == {True, False}
    assert {r.style for r in records} == set(STYLES)


@pytest.mark.parametrize("text", [
    'quote " and backslash \\', "newline\n tab\t nul\x00 unit-separator\x1f del\x7f",
    "line separator \u2028 paragraph \u2029", "caf\u00e9 \u6642\u9593 \U0001f680", "</script>",
    "", "0",
])
def test_strings_that_need_escaping_are_escaped_as_json_dumps_does(text: str) -> None:
    record = Enrollment(71_000_123, 1_735_689_600_000_000, 1_735_776_000_123_000, None, None,
                        user=text, lo=text, status=text, passed=None, result=0, kind=text,
                        assigner=text, assign_us=1_735_689_600_000_000)
    record.id = text
    record.settle()
    assert record.render_json() == dumps(record.render())
    assert json.loads(record.render_json()) == record.render()


def test_results_and_outcomes_of_every_kind() -> None:
    for passed in (True, False, None):
        for result in (0, 7, 100, -1, 10**20):
            record = Enrollment(71_000_124, 0, 86_399_999_999, 1, 2, "1", "2", "completed",
                                passed, result, "self-directed", "3", 3, 4)
            record.settle()
            assert record.render_json() == dumps(record.render())


# instants -------------------------------------------------------------------------------
def _spelled_by_datetime(us: int, style: int) -> str:
    moment = from_us(us)
    clock = moment.strftime("%Y-%m-%dT%H:%M:%S")
    return clock + ("Z", "+00:00", "+0000", f".{moment.microsecond // 1000:03d}Z")[style]


def test_format_us_and_json_us_spell_every_style_as_datetime_does() -> None:
    rng = random.Random(5)
    edges = [0, 999, 86_399_999_999, 86_400_000_000, 1_735_689_599_999_999,
             1_735_689_600_000_000, 4_102_444_799_999_999]
    for us in edges + [rng.randrange(0, 4_102_444_800_000_000) for _ in range(3000)]:
        for style in STYLES:
            assert format_us(us, style) == _spelled_by_datetime(us, style), (us, style)
            assert json_us(us, style) == dumps(format_us(us, style))
            assert parse_us(format_us(us, style)) == us - us % (1000 if style == 3 else 10**6)
    assert json_us(None, 0) == "null"


# pages ----------------------------------------------------------------------------------
def _queries(store: Go1Store) -> Iterator[EnrollmentQuery]:
    """Every path of ``Go1Store._enrollment_page``: both fast paths, the filtered one, each sort
    and order, windows, an offset past the end, and an empty result."""
    some = next(iter(store.enrollments.values()))
    middle = parse_us(some["updated_time"])
    for sort in ("updated_time", "created_time", "due_date", "assign_date"):
        for descending in (False, True):
            for offset in (0, 50, 10_000):
                yield EnrollmentQuery(limit=50, offset=offset, sort=sort, descending=descending)
            yield EnrollmentQuery(limit=50, sort=sort, descending=descending,
                                  update_gte=middle, update_lte=middle + 40 * 86_400_000_000)
            yield EnrollmentQuery(limit=17, offset=3, sort=sort, descending=descending,
                                  statuses=frozenset({"completed", "pending"}))
    yield EnrollmentQuery(limit=50, user=some["user_account_id"])
    yield EnrollmentQuery(limit=50, lo_ids=frozenset({some["lo_id"]}), due_exists=True)
    yield EnrollmentQuery(limit=50, update_gte=middle, update_lte=middle - 1)
    yield EnrollmentQuery(limit=1, offset=1, kind="assigned", sort="updated_time")


def test_every_kind_of_page_is_the_text_json_dumps_gave(store: Go1Store) -> None:
    for query in _queries(store):
        total, hits = store.list_enrollments(query)
        assert store.enrollment_page_json(query) == dumps({"total": total, "hits": hits}), query


def test_paging_through_everything_renders_every_enrollment_as_before(store: Go1Store) -> None:
    total = len(store.enrollments)
    for offset in range(0, total, 50):
        query = EnrollmentQuery(limit=50, offset=offset, sort="updated_time", descending=False)
        _, hits = store.list_enrollments(query)
        assert store.enrollment_page_json(query) == dumps({"total": total, "hits": hits})


def test_served_bytes_are_json_dumps_of_the_dicts_for_every_enrollment(served: Go1Sandbox
                                                                       ) -> None:
    """Over HTTP, against an oracle built from ``sb.enrollments`` (the dict rendering) alone."""
    session = requests.Session()
    token = session.post(served.auth_url, data={
        "client_id": served.client_id, "client_secret": served.client_secret,
        "grant_type": "client_credentials"}, timeout=5).json()["access_token"]
    session.headers.update({"Authorization": f"Bearer {token}", "Api-Version": "2025-01-01"})
    everything = sorted(served.enrollments.values(),
                        key=lambda e: (parse_us(e["updated_time"]), int(e["id"])))
    served_ids: list[str] = []
    for offset in range(0, len(everything) + 50, 50):
        params: dict[str, str | int] = {
            "sort": "updated_time", "order": "asc", "limit": 50, "offset": offset,
            "update_time_gte": datetime(2000, 1, 1, tzinfo=UTC).isoformat()}
        response = session.get(served.url + ENROLLMENTS, params=params, timeout=5)
        assert response.status_code == 200
        assert response.headers["Content-Type"] == "application/json; charset=utf-8"
        expected = {"total": len(everything), "hits": everything[offset:offset + 50]}
        assert response.content == dumps(expected).encode("utf-8")
        served_ids.extend(hit["id"] for hit in response.json()["hits"])
    assert served_ids == [e["id"] for e in everything]
    session.close()


def test_changed_enrollments_render_as_their_dicts() -> None:
    """Completion (``pass`` false or null) and re-enrolment change records in place."""
    sb = Go1Sandbox(SEEDS[0])
    sb.set_now(datetime(2026, 12, 1, 8, 30, 15, 123456, tzinfo=UTC))
    first, second = list(sb.enrollments)[:2]
    sb.complete_enrollment(first, passed=None)
    sb.complete_enrollment(second, passed=False)
    new = sb.reenroll(first)
    store = sb._store
    query = EnrollmentQuery(limit=50, sort="updated_time", descending=True)
    total, hits = store.list_enrollments(query)
    assert {hit["id"] for hit in hits[:2]} == {second, new}
    assert store.enrollment_page_json(query) == dumps({"total": total, "hits": hits})
