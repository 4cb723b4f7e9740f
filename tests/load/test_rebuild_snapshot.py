"""A lost warehouse, rebuilt from 360Learning: no duplicate attempt and no missed archive."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from go1sync.settings import load_config
from sandbox.go1 import Go1Sandbox
from sandbox.l360 import L360Sandbox
from tests.helpers import run_cli, sync
from warehouse import open_warehouse


def writes(l360: L360Sandbox) -> list[tuple[str, str]]:
    return [(r.method, r.path) for r in l360.requests
            if r.method != "GET" and not r.path.endswith("/oauth2/token")]


def per_enrollment(l360: L360Sandbox) -> Counter[tuple[str, str, str]]:
    return Counter((a["externalCourseId"], a["mail"].lower(), a["firstActivityAt"])
                   for a in l360.attempts)


def lose_warehouse(env: dict[str, str]) -> None:
    path = Path(env["GO1SYNC_WAREHOUSE"])
    for stale in path.parent.glob(path.name + "*"):
        stale.unlink()


def test_a_lost_warehouse_is_refused_then_rebuilt_without_duplicates(
        sync_env: dict[str, str], go1: Go1Sandbox, l360: L360Sandbox) -> None:
    config = load_config(env=sync_env)
    assert sync(config).failed == 0
    pushed_attempts = len(l360.attempts)
    assert pushed_attempts and max(per_enrollment(l360).values()) == 1
    # while the warehouse is gone, Go1 retires two courses and a learner finishes one
    live = sorted(e for (_, e), c in l360.courses.items() if not c["archived"])
    retired = live[:2]
    for lo_id in retired:
        go1.retire(lo_id)
    lose_warehouse(sync_env)
    l360.clear_requests()

    refused = run_cli("run", env=sync_env)
    assert refused.returncode != 0
    assert "rebuild-snapshot" in refused.stderr and "Traceback" not in refused.stderr
    assert writes(l360) == []  # refused before any write

    rebuilt = run_cli("rebuild-snapshot", env=sync_env, timeout=300)
    assert rebuilt.returncode == 0, rebuilt.stderr
    assert "snapshot rebuilt" in rebuilt.stdout
    con = open_warehouse(config.warehouse_path())
    try:
        counts = con.execute("SELECT (SELECT count(*) FROM meta.pushed_courses), "
                             "(SELECT count(*) FROM meta.pushed_attempts)").fetchone()
    finally:
        con.close()
    assert counts == (len(l360.courses), pushed_attempts)

    l360.clear_requests()
    resumed = run_cli("run", env=sync_env, timeout=300)
    assert resumed.returncode == 0, resumed.stderr
    archived = {e for (_, e), c in l360.courses.items() if c["archived"]}
    assert set(retired) <= archived
    assert max(per_enrollment(l360).values()) == 1
    assert len(l360.attempts) == pushed_attempts
    stats = [item for r in l360.requests if r.method == "POST" and r.path.endswith("/stats")
             for item in r.json()["input"]]
    assert not [i for i in stats if i.get("progress") == 100], "a closed attempt was resent"

    l360.clear_requests()
    assert run_cli("run", env=sync_env).returncode == 0
    assert writes(l360) == []  # and then nothing is left to send
