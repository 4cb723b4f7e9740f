"""The HTTP bounds reach the clients every command builds: a setting changed is the bound applied.

The bounds themselves are tested on each client against a scripted stub
(``tests/extract/test_client.py``, ``tests/load/test_client.py``); here the sandboxes ask for a
5-second wait and ``GO1SYNC_MAX_RETRY_AFTER=1`` must refuse it at once, so a command that
built its client with the default bound (120 s) would wait and pass instead.
"""

from __future__ import annotations

import pytest

from commands.check import run_checks
from commands.extract import run_extract
from commands.push import run_push
from commands.run import run_pipeline
from commands.transform import run_transform
from go1sync.settings import load_config
from load.errors import LoadError
from sandbox.go1 import Go1Sandbox
from sandbox.l360 import L360Sandbox

REFUSED = "asks to wait 5 s: run again after "
BOUND = "(GO1SYNC_MAX_RETRY_AFTER is 1 s)"


def test_extract_applies_the_retry_after_bound(go1: Go1Sandbox,
                                               go1_env: dict[str, str]) -> None:
    go1.faults.add("429", path="/learning-objects", retry_after=5)
    report = run_extract(load_config(env={**go1_env, "GO1SYNC_MAX_RETRY_AFTER": "1"}),
                         ["learning_objects"])
    [problem] = report.problems()
    assert REFUSED in problem and problem.endswith(BOUND)


def test_run_applies_the_retry_after_bound(go1: Go1Sandbox,
                                           go1_env: dict[str, str]) -> None:
    go1.faults.add("429", path="/learning-objects", retry_after=5)
    report = run_pipeline(load_config(env={**go1_env, "GO1SYNC_MAX_RETRY_AFTER": "1"}),
                          only="catalog", dry_run=True)
    assert any(REFUSED in p and p.endswith(BOUND) for p in report.problems())


def test_push_applies_the_retry_after_bound(l360: L360Sandbox,
                                            sync_env: dict[str, str]) -> None:
    config = load_config(env={**sync_env, "GO1SYNC_MAX_RETRY_AFTER": "1"})
    assert run_extract(config, ["learning_objects"]).ok
    run_transform(config)
    l360.faults.add("429", retry_after=5)  # the first request push sends, whichever it is
    with pytest.raises(LoadError, match=REFUSED):
        run_push(config)


def test_check_applies_the_retry_after_bound(go1: Go1Sandbox, l360: L360Sandbox,
                                             sync_env: dict[str, str]) -> None:
    go1.faults.add("429", retry_after=5)
    l360.faults.add("429", retry_after=5)
    checks = run_checks(load_config(env={**sync_env, "GO1SYNC_MAX_RETRY_AFTER": "1"}))
    failed = [c for c in checks if not c.ok]
    assert {c.name.split()[0] for c in failed} == {"Go1", "360Learning"}
    assert all(REFUSED in c.detail and BOUND in c.detail for c in failed)
