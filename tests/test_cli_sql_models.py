"""`sql`, `models` and the demo's hints as a user runs them, with no Go1 setting at all.

pip's duckdb package has no shell, so the demo's hints are `sql` command lines: each is run
here as printed. `models` only shows the models: it takes `schema.name` and needs no setting.
"""

from __future__ import annotations

import json
import shlex
import sys
from pathlib import Path

import pytest

from tests.helpers import ROOT, run_cli
from warehouse import open_warehouse


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """The demo's warehouse and what the demo printed."""
    warehouse = tmp_path_factory.mktemp("demo") / "demo.duckdb"
    result = run_cli("demo", "--warehouse", str(warehouse))
    assert result.returncode == 0, result.stderr
    return warehouse, result.stdout


def test_the_demo_hints_are_sql_commands_that_work_as_printed(demo: tuple[Path, str]) -> None:
    warehouse, out = demo
    # no DuckDB shell comes with pip's duckdb
    assert not [line for line in out.splitlines() if line.strip().startswith("duckdb")]
    lines = out.splitlines()
    start = lines.index("Look at the warehouse (read only; --format csv or json for files):")
    hints = [line.strip() for line in lines[start + 1:] if line.startswith("  python cli.py")]
    assert len(hints) == 4
    assert hints[2] == (f"python cli.py sql --warehouse {shlex.quote(str(warehouse))} "
                        '"SELECT entity, reason, count(*) FROM marts.rejects GROUP BY ALL '
                        'ORDER BY 3 DESC"')
    con = open_warehouse(warehouse, read_only=True)
    rejects = con.execute("SELECT entity, reason, count(*) FROM marts.rejects GROUP BY ALL "
                          "ORDER BY 3 DESC, 1, 2").fetchall()
    con.close()
    for hint in hints:
        words = shlex.split(hint)
        assert words[:2] == ["python", "cli.py"]
        result = run_cli(*words[2:])
        assert result.returncode == 0, (hint, result.stderr)
        assert result.stdout.splitlines()[-1].endswith(" rows)")
    shown = run_cli(*shlex.split(hints[2])[2:]).stdout.splitlines()
    assert shown[0].split() == ["entity", "reason", "count_star()"]
    assert sorted(tuple(line.split()) for line in shown[2:-1]) == sorted(
        (e, r, str(n)) for e, r, n in rejects)
    assert shown[-1] == f"({len(rejects):,} rows)"


def test_sql_prints_a_table_csv_or_json(demo: tuple[Path, str]) -> None:
    warehouse, _ = demo
    query = ("SELECT content_type, archived, count(*) AS n FROM marts.content_360 "
             "WHERE content_type = 'course' GROUP BY ALL ORDER BY ALL")
    con = open_warehouse(warehouse, read_only=True)
    expected = con.execute(query).fetchall()
    con.close()
    env = {"GO1SYNC_WAREHOUSE": str(warehouse)}  # the configured warehouse, no --warehouse
    table = run_cli("sql", query, env=env)
    assert table.returncode == 0, table.stderr
    assert len(expected) == 2  # live and archived courses
    width = max(len(str(n)) for *_, n in expected)  # numbers right-aligned, text left
    assert table.stdout.splitlines() == [
        f"content_type  archived  {'n':>{width}}",
        f"------------  --------  {'-' * width}",
        *(f"course        {str(a).lower():<8}  {n:>{width}}" for _, a, n in expected),
        "(2 rows)",
    ]
    csv = run_cli("sql", "--format", "csv", query, env=env)
    assert csv.stdout.splitlines() == ["content_type,archived,n",
                                       *(f"course,{str(a).lower()},{n}" for _, a, n in expected)]
    data = json.loads(run_cli("sql", query, "--format", "json", env=env).stdout)
    assert data == [{"content_type": "course", "archived": a, "n": n} for _, a, n in expected]


def test_sql_only_reads(demo: tuple[Path, str]) -> None:
    warehouse, _ = demo
    env = {"GO1SYNC_WAREHOUSE": str(warehouse)}
    refused = run_cli("sql", "DELETE FROM marts.rejects", env=env)
    assert refused.returncode == 2
    assert refused.stderr.startswith("Error: the query failed: ")
    assert refused.stderr.rstrip().endswith("(`sql` only reads the warehouse)")
    assert len(refused.stderr.splitlines()) == 1
    copied = run_cli("sql", f"COPY marts.rejects TO '{warehouse.parent / 'out.csv'}'", env=env)
    assert copied.returncode == 2 and not (warehouse.parent / "out.csv").exists()
    bad = run_cli("sql", "SELEC 1", env=env)
    assert bad.returncode == 2 and len(bad.stderr.splitlines()) == 1
    assert "syntax error" in bad.stderr
    missing = run_cli("sql", "SELECT 1", "--warehouse", str(warehouse.parent / "none.duckdb"))
    assert missing.returncode == 1
    assert missing.stderr.startswith("Error: no warehouse at ")


def test_sql_reads_the_query_from_stdin(demo: tuple[Path, str]) -> None:
    import subprocess

    warehouse, _ = demo
    result = subprocess.run([sys.executable, "cli.py", "sql", "-", "--warehouse", str(warehouse)],
                            cwd=ROOT, input="SELECT 41 + 1 AS answer", capture_output=True,
                            text=True, timeout=60)
    assert result.stdout.splitlines() == ["answer", "------", "    42", "(1 row)"]


def test_models_need_no_go1_setting_and_take_schema_dot_name(demo: tuple[Path, str]) -> None:
    warehouse, _ = demo
    env = {"GO1SYNC_WAREHOUSE": str(warehouse)}  # no GO1_PORTAL_URL, no credential
    bare = run_cli("models", "show", "content_360", env=env)
    qualified = run_cli("models", "show", "marts.content_360", env=env)
    assert bare.returncode == qualified.returncode == 0, qualified.stderr
    assert bare.stdout == qualified.stdout
    lines = qualified.stdout.splitlines()
    assert lines[0].startswith("-- marts.content_360 (table) from ")
    assert lines[2] == ("-- GO1_PORTAL_URL is unset: shown as <GO1_PORTAL_URL unset> "
                        "(the models need it only to run)")
    assert "rtrim('<GO1_PORTAL_URL unset>', '/')" in qualified.stdout
    # a model that reads no such setting shows no note
    staging = run_cli("models", "show", "staging.go1_enrollments", env=env).stdout
    assert staging.splitlines()[0].startswith("-- staging.go1_enrollments (table) from ")
    assert not staging.splitlines()[2].startswith("-- GO1_PORTAL_URL")

    wrong = run_cli("models", "show", "staging.content_360", env=env)
    assert wrong.returncode == 2
    assert wrong.stderr == ("Error: no model named 'staging.content_360'; `python cli.py models "
                            "list` lists them\n")

    listed = run_cli("models", "list", env=env)
    assert listed.returncode == 0, listed.stderr
    rows = {line.split()[0]: line for line in listed.stdout.splitlines()[1:-1]}
    # the demo ran with a portal URL: what reads it cannot be compared without it
    assert rows["marts.content_360"].endswith("unknown (a setting it reads is unset)")
    assert rows["staging.go1_enrollments"].endswith(" no")
    assert listed.stdout.splitlines()[-1] == ("GO1_PORTAL_URL is unset: shown as "
                                              "<GO1_PORTAL_URL unset> (the models need it only "
                                              "to run)")
    lineage = run_cli("models", "lineage")
    assert lineage.returncode == 0 and "<- marts.enrollment_mapping" in lineage.stdout


def test_global_options_also_come_after_the_command(tmp_path: Path) -> None:
    missing = tmp_path / "missing.toml"
    for args in (("--config", str(missing), "status"), ("status", "--config", str(missing)),
                 ("models", "list", "--config", str(missing))):
        result = run_cli(*args)
        assert result.returncode == 2, args
        assert result.stderr == (f"Error: config file {missing} does not exist (from --config "
                                 "or GO1SYNC_CONFIG)\n"), args
    config = tmp_path / "go1sync.toml"
    config.write_text('[profiles.test.warehouse]\npath = "x.duckdb"\n', encoding="utf-8")
    before = run_cli("--config", str(config), "--profile", "nope", "status")
    after = run_cli("status", "--config", str(config), "--profile", "nope")
    assert before.returncode == after.returncode == 2
    assert before.stderr == after.stderr and "nope" in after.stderr
    # the command's own wins over the group's, being later on the line
    later = run_cli("--profile", "test", "status", "--profile", "nope", "--config", str(config))
    assert later.stderr == after.stderr
    helped = run_cli("run", "--help").stdout
    assert "--config FILE" in helped and "--profile TEXT" in helped and "-v, --verbose" in helped
