"""The push under the strict reading of 360Learning's documents (the sandbox's default).

- an upsert is documented as replacing a course's data, not as restoring it: a course
  published again in Go1 is restored with its own call;
- whether ``userIdentifier.mail`` is matched case-sensitively is not documented: learners are
  matched locally against the user list and named by their user id;
- a bulk result's ``resourceId`` is only "the unique ID of the impacted resource": it is
  checked once against the course's ``courseId`` before sharing uses it;
- a learner without a 360Learning account waits, named once, and does not fail the run.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from go1sync.settings import Config, load_config
from load.errors import ScopeError
from sandbox.go1 import Go1Sandbox, Go1Seed
from sandbox.l360 import L360Sandbox
from sandbox.learners import learner_emails
from tests.helpers import readings, sync
from warehouse import open_warehouse


@pytest.fixture
def go1() -> Iterator[Go1Sandbox]:
    with Go1Sandbox(Go1Seed(seed=11, learning_objects=60, users=20, enrollments=250)).serve() \
            as sb:
        yield sb


@pytest.fixture
def config(sync_env: dict[str, str]) -> Config:
    """Both sandboxes (conftest's ``l360`` knows this module's Go1 learners) and a warehouse."""
    return load_config(env=sync_env)


def make_config(go1: Go1Sandbox, l360: L360Sandbox, tmp_path: Path) -> Config:
    """For a test whose 360Learning knows other learners than Go1's."""
    return load_config(env={**go1.env(), **l360.env(),
                            "GO1SYNC_WAREHOUSE": str(tmp_path / "w.duckdb")})


def course_of(l360: L360Sandbox, external_id: str) -> dict:
    return next(c for (_, e), c in l360.courses.items() if e == external_id)


def calls(l360: L360Sandbox, method: str, fragment: str) -> list:
    return [r for r in l360.requests if r.method == method and fragment in r.path]


def live_pushed(l360: L360Sandbox) -> str:
    return sorted(e for (_, e), c in l360.courses.items() if not c["archived"])[0]


def retire_a_pushed_course(go1: Go1Sandbox, l360: L360Sandbox, config: Config) -> str:
    """A first sync, then a course retired in Go1 and archived in 360Learning: its lo_id."""
    assert sync(config).failed == 0
    lo_id = live_pushed(l360)
    go1.retire(lo_id)
    assert sync(config).failed == 0
    assert course_of(l360, lo_id)["archived"] is True
    return lo_id


def test_a_course_retired_then_published_again_is_live_again(
        go1: Go1Sandbox, l360: L360Sandbox, config: Config) -> None:
    lo_id = retire_a_pushed_course(go1, l360, config)
    go1.publish(lo_id)
    l360.clear_requests()
    result = sync(config)
    assert result.failed == 0
    course = course_of(l360, lo_id)
    assert course["archived"] is False  # the sandbox does not restore on upsert
    restores = calls(l360, "PUT", "/archive")
    assert [(r.path, r.json()) for r in restores] == [
        (f"/api/v2/courses/{course['courseId']}/archive", {"archived": False})]
    assert result.counts["course_restore"].succeeded == 1

    con = open_warehouse(config.warehouse_path())
    assert con.execute("SELECT archived FROM meta.pushed_courses WHERE external_id = ?",
                       [lo_id]).fetchall() == [(False,)]
    assert con.execute("SELECT kind, status FROM meta.push_ledger WHERE key = ? AND "
                       "kind = 'course_restore'", [lo_id]).fetchall() == [
        ("course_restore", "success")]
    con.close()

    l360.clear_requests()  # nothing new now
    assert sync(config).counts == {}
    assert calls(l360, "PUT", "") == []


def test_a_republished_course_whose_title_changed_is_upserted_then_restored(
        go1: Go1Sandbox, l360: L360Sandbox, config: Config) -> None:
    lo_id = retire_a_pushed_course(go1, l360, config)
    go1.publish(lo_id)
    go1.edit_title(lo_id, "Back, and renamed")
    l360.clear_requests()
    assert sync(config).failed == 0
    writes = [(r.method, r.path.rsplit("/", 1)[-1]) for r in l360.requests
              if r.method != "GET" and "token" not in r.path]
    assert writes == [("PUT", "courses"), ("PUT", "archive")]
    assert course_of(l360, lo_id)["name"] == "Back, and renamed"
    assert course_of(l360, lo_id)["archived"] is False


def test_a_restore_without_courses_write_names_the_scope(
        go1: Go1Sandbox, l360: L360Sandbox, config: Config) -> None:
    lo_id = retire_a_pushed_course(go1, l360, config)
    go1.publish(lo_id)
    l360.scopes.discard("courses:write")
    with pytest.raises(ScopeError) as raised:
        sync(config)
    assert raised.value.scope == "courses:write"
    assert "the scope courses:write" in str(raised.value)
    l360.scopes.add("courses:write")
    assert sync(config).failed == 0  # the next run restores it
    assert course_of(l360, lo_id)["archived"] is False


def test_a_learner_whose_360_email_differs_only_in_case_gets_their_attempts(
        go1: Go1Sandbox, tmp_path: Path) -> None:
    emails = learner_emails(go1)
    shouted = emails[0].upper()
    with L360Sandbox(learner_emails=[shouted, *emails[1:]]) as l360:
        config = make_config(go1, l360, tmp_path)
        result = sync(config)
        assert result.failed == 0 and result.learners_without_account == 0
        user_id = l360.users[shouted]
        theirs = [a for a in l360.attempts if a["userId"] == user_id]
        con = open_warehouse(config.warehouse_path())
        expected = con.execute(  # their attempts on courses 360Learning has
            "SELECT count(*) FROM marts.attempts_360 AS a JOIN meta.pushed_courses AS c "
            "ON c.external_id = a.external_course_id WHERE a.user_email = ?",
            [emails[0]]).fetchone()
        pushed = con.execute("SELECT DISTINCT user_email FROM meta.pushed_attempts "
                             "WHERE payload ->> '$.userIdentifier.value' = ?",
                             [user_id]).fetchall()
        con.close()
        assert expected and expected[0] > 0 and len(theirs) == expected[0]
        assert pushed == [(emails[0],)]  # the snapshot keeps the learner's email
        sent = [item["userIdentifier"] for r in calls(l360, "POST", "/stats")
                for item in r.json()["input"]]
        assert {"type": "internalId", "value": user_id} in sent
        assert all(i["type"] == "internalId" for i in sent)


def test_learners_without_an_account_wait_named_once_and_do_not_fail_the_run(
        go1: Go1Sandbox, tmp_path: Path) -> None:
    emails = learner_emails(go1)
    missing = emails[:2]
    with L360Sandbox(learner_emails=emails[2:]) as l360:
        config = make_config(go1, l360, tmp_path)
        result = sync(config)
        assert result.failed == 0
        assert result.learners_without_account == 2
        con = open_warehouse(config.warehouse_path())
        waiting = con.execute("SELECT user_email FROM meta.learners_without_account "
                              "ORDER BY 1").fetchall()
        con.close()
        assert waiting == [(m,) for m in missing]
        sent = {item["userIdentifier"]["value"] for r in calls(l360, "POST", "/stats")
                for item in r.json()["input"]}
        assert not sent & set(missing) and not any(m in str(sent) for m in missing)

        l360.clear_requests()  # not resent while no user has the email
        again = sync(config)
        assert again.failed == 0 and again.learners_without_account == 2
        assert calls(l360, "POST", "/stats") == []

        l360.add_user(missing[0])  # the account appears: its attempts go out
        l360.clear_requests()
        later = sync(config)
        assert later.learners_without_account == 1 and later.failed == 0
        sent_now = [item["userIdentifier"]["value"] for r in calls(l360, "POST", "/stats")
                    for item in r.json()["input"]]
        assert sent_now and set(sent_now) == {l360.users[missing[0]]}


def test_sharing_uses_the_course_id_when_the_resource_id_is_not_it(l360: L360Sandbox,
                                                                     config: Config) -> None:
    l360.faults_360.resource_ids = "opaque"
    result = sync(config)
    assert result.failed == 0, result.errors[:3]
    host, *others = l360.group_ids
    course_ids = {c["courseId"] for c in l360.courses.values()}
    for group in others:
        assert l360.catalog[group] == course_ids and l360.library[group] == course_ids
    assert result.counts["share_catalog"].failed == 0
    assert readings(config)["resource_id_is_course_id"] == "false"
    con = open_warehouse(config.warehouse_path())
    pushed = dict(con.execute("SELECT external_id, course_id FROM meta.pushed_courses"
                              ).fetchall())
    con.close()
    assert pushed == {e: c["courseId"] for (_, e), c in l360.courses.items()}
    # each course's id was read through its integration, once
    reads = calls(l360, "GET", "/courses/")
    assert len(reads) == len(l360.courses) + 1  # and the one that checked the reading


def test_the_resource_id_is_checked_once_and_then_trusted(
        go1: Go1Sandbox, l360: L360Sandbox, config: Config) -> None:
    assert sync(config).failed == 0
    assert len([r for r in calls(l360, "GET", "/integrations/") if "/courses/" in r.path]) \
        == 1
    assert readings(config)["resource_id_is_course_id"] == "true"
    go1.add_to_library(sorted(set(go1.learning_objects) - go1.library)[0])
    l360.clear_requests()
    assert sync(config).failed == 0
    assert [r for r in calls(l360, "GET", "/integrations/") if "/courses/" in r.path] == []


def test_only_https_urls_go_out_as_image_and_logo(go1: Go1Sandbox, l360: L360Sandbox,
                                                  config: Config) -> None:
    """An image or a logo that is not an absolute https URL is not sent (360Learning would
    show a broken or mixed-content image); the provider's logo goes with the provider's
    source."""
    published = sorted(lo for lo in go1.library
                       if go1.learning_objects[lo]["lifecycle"]["state"] == "published"
                       and go1.learning_objects[lo]["core"]["type"] == "course")
    plain, relative, fine = published[:3]
    for lo_id, image in ((plain, "http://cdn.example.com/a.jpg"), (relative, "/img/b.png"),
                         (fine, "https://cdn.example.com/c.jpg")):
        doc = go1.learning_objects[lo_id]
        doc["core"] = {**doc["core"], "image": {**doc["core"].get("image", {}), "value": image}}
    for lo_id in (plain, fine):  # the provider as the only source, with an https logo
        doc = go1.learning_objects[lo_id]
        doc["relevance"] = {k: v for k, v in doc["relevance"].items() if k != "author"}
        doc["provider"] = {**doc["provider"], "logo": "https://cdn.example.com/logo.png"}
    doc = go1.learning_objects[relative]
    doc["provider"] = {**doc["provider"], "logo": "http://cdn.example.com/logo.png"}
    assert sync(config).failed == 0
    sent = {item["externalId"]: item for r in calls(l360, "PUT", "/courses")
            for item in r.json()["input"]}
    assert "imageUrl" not in sent[plain] and "imageUrl" not in sent[relative]
    assert sent[fine]["imageUrl"] == "https://cdn.example.com/c.jpg"
    provider = go1.learning_objects[fine]["provider"]["name"]
    assert sent[fine]["sources"] == [{"name": provider,
                                      "logoUrl": "https://cdn.example.com/logo.png"}]
    assert sent[plain]["sources"][0]["logoUrl"] == "https://cdn.example.com/logo.png"
    assert all("logoUrl" not in s for s in sent[relative]["sources"])
