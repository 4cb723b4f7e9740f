"""`transform` and `models` as a user runs them, on a warehouse the demo extracted."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers import run_cli as cli
from warehouse import open_warehouse


@pytest.fixture(scope="module")
def extracted(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A warehouse holding the demo's two extracts (catalog, enrollments, learners)."""
    warehouse = tmp_path_factory.mktemp("transform") / "demo.duckdb"
    result = cli("demo", "--warehouse", str(warehouse), env={})
    assert result.returncode == 0, result.stderr
    return warehouse



def settings(warehouse: Path, **extra: str) -> dict[str, str]:
    return {"GO1SYNC_WAREHOUSE": str(warehouse), "GO1_PORTAL_URL": "https://acme.mygo1.com",
            **extra}


def test_transform_prints_rows_and_time_per_model(extracted: Path) -> None:
    result = cli("transform", env=settings(extracted))
    assert result.returncode == 0, result.stderr
    lines = {line.split()[0]: line.split() for line in result.stdout.splitlines()[1:-1]}
    assert set(lines) >= {"marts.content_360", "marts.attempts_360", "marts.rejects",
                          "seeds.language_map", "reconcile.differences"}
    con = open_warehouse(extracted)
    attempts = con.execute("SELECT count(*) FROM marts.attempts_360").fetchone()
    assert attempts is not None and lines["marts.attempts_360"][2] == f"{attempts[0]:,}"
    assert "audits passed" in result.stdout.splitlines()[-1]
    runs = con.execute("SELECT command, status FROM meta.runs WHERE command = 'transform'")
    assert runs.fetchall()[-1] == ("transform", "success")


def test_a_blocking_audit_stops_the_run_and_keeps_the_marts(extracted: Path) -> None:
    assert cli("transform", env=settings(extracted)).returncode == 0
    before = open_warehouse(extracted).execute(
        "SELECT count(*) FROM marts.content_360 WHERE lang = 'qq'").fetchone()
    result = cli("transform", env=settings(extracted, GO1SYNC_FALLBACK_LANGUAGE="qq"))
    assert result.returncode == 1
    message = result.stderr.strip()
    assert message.startswith("Error: a blocking audit failed")
    assert "content_360" in message and "relationships_lang" in message and "qq" in message
    assert len(message.splitlines()) == 1
    con = open_warehouse(extracted)
    assert con.execute("SELECT count(*) FROM marts.content_360 WHERE lang = 'qq'").fetchone() \
        == before == (0,)
    assert con.execute("SELECT status FROM meta.runs ORDER BY run_id DESC LIMIT 1").fetchone() \
        == ("failed",)


def test_transform_needs_the_portal_url(extracted: Path) -> None:
    result = cli("transform", env={"GO1SYNC_WAREHOUSE": str(extracted)})
    assert result.returncode == 2
    assert "missing setting GO1_PORTAL_URL" in result.stderr


def test_models_list_show_and_lineage(extracted: Path, tmp_path: Path) -> None:
    env = settings(extracted)
    assert cli("transform", env=env).returncode == 0
    listed = cli("models", "list", env=env)
    assert listed.returncode == 0
    rows = {line.split()[0]: line.split() for line in listed.stdout.splitlines()[1:]}
    assert rows["marts.attempts_360"][1] == "table" and rows["marts.attempts_360"][-1] == "no"
    changed = cli("models", "list", env={**env, "GO1_PORTAL_URL": "https://other.mygo1.com"})
    flags = {line.split()[0]: line.split()[-1] for line in changed.stdout.splitlines()[1:]}
    # the portal URL feeds content_360: it and everything downstream change, staging does not
    assert (flags["marts.content_360"], flags["marts.attempts_360"],
            flags["staging.go1_enrollments"]) == ("yes", "yes", "no")

    shown = cli("models", "show", "content_360", env=env)
    assert "'https://acme.mygo1.com'" in shown.stdout and "/play/" in shown.stdout

    lineage = cli("models", "lineage", env=env)
    assert "marts.attempts_360" in lineage.stdout
    assert "<- marts.enrollment_mapping" in lineage.stdout
    graph = tmp_path / "lineage.mmd"
    assert cli("models", "lineage", "--format", "mermaid", "--out", str(graph),
               env=env).returncode == 0
    assert graph.read_text().startswith("flowchart LR")
