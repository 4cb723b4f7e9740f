"""When a run may skip its transform, plan and push: each condition of warehouse.settled alone
turns the skip off, on a migrated warehouse holding what two catalog runs leave."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import duckdb
import pytest

from go1sync.settings import load_config
from warehouse import open_warehouse
from warehouse.runs import start_run
from warehouse.settled import record_settled, settled_stamp, unchanged_since
from warehouse.transform import MODELS_DIR, models_digest

STAMP = settled_stamp("models-a1", "https://l360", ["g2"])
BOTH = {"courses", "attempts"}
LISTED = [("lo-1", "published"), ("lo-2", "published")]


def _stream(con: duckdb.DuckDBPyConnection, run: int, stream: str = "learning_objects") -> None:
    con.execute("INSERT INTO meta.stream_runs (run_id, stream, status, started_at) "
                "VALUES (?, ?, 'success', now())", [run, stream])


def _listing(con: duckdb.DuckDBPyConnection, run: int,
             rows: list[tuple[str, str]] = LISTED) -> None:
    con.executemany("INSERT INTO raw.go1_library_listings VALUES (?, ?, ?)",
                    [[run, lo, state] for lo, state in rows])


@pytest.fixture
def world(tmp_path: Path) -> tuple[duckdb.DuckDBPyConnection, int]:
    """A settled run that read the catalog, then a run that read it again: the second's id."""
    con = open_warehouse(tmp_path / "w.duckdb")
    settled = start_run(con, "run", {})
    _stream(con, settled)
    _listing(con, settled)
    con.execute("INSERT INTO raw.go1_enrollments VALUES (?, now(), 'h', 'e1', '{}')", [settled])
    record_settled(con, settled, BOTH, STAMP)
    now = start_run(con, "run", {})
    _stream(con, now)
    _listing(con, now)
    return con, now


def test_a_run_that_landed_the_same_listing_and_nothing_else_is_unchanged(
        world: tuple[duckdb.DuckDBPyConnection, int]) -> None:
    con, run = world
    assert unchanged_since(con, run, BOTH, STAMP) == run - 1
    assert unchanged_since(con, run, {"attempts"}, STAMP) == run - 1  # a part of what settled


def _new_version(con: duckdb.DuckDBPyConnection, run: int) -> None:
    con.execute("INSERT INTO raw.go1_enrollments VALUES (?, now(), 'h2', 'e1', '{}')", [run])


def _listing_lost_one(con: duckdb.DuckDBPyConnection, run: int) -> None:
    con.execute("DELETE FROM raw.go1_library_listings WHERE _run_id = ? AND lo_id = 'lo-2'",
                [run])


def _listing_state_changed(con: duckdb.DuckDBPyConnection, run: int) -> None:
    con.execute("UPDATE raw.go1_library_listings SET listed_state = 'retired' "
                "WHERE _run_id = ? AND lo_id = 'lo-2'", [run])


def _catalog_rejects_before(con: duckdb.DuckDBPyConnection, run: int) -> None:
    con.execute("INSERT INTO raw.go1_rejects VALUES (?, now(), 'learning_objects', 'lo-9', "
                "'unreadable', '{')", [run - 1])


def _a_reject_now(con: duckdb.DuckDBPyConnection, run: int) -> None:
    con.execute("INSERT INTO raw.go1_rejects VALUES (?, now(), 'enrollments', 'e9', "
                "'unreadable', '{')", [run])


def _a_micro_run_between(con: duckdb.DuckDBPyConnection, run: int) -> None:
    con.execute("INSERT INTO meta.runs (run_id, command, started_at, status) "
                "VALUES (?, 'webhook', now(), 'success')", [run + 1])


@pytest.mark.parametrize("change", [_new_version, _listing_lost_one, _listing_state_changed,
                                    _catalog_rejects_before, _a_reject_now,
                                    _a_micro_run_between])
def test_anything_landed_or_run_since_means_a_full_run(
        world: tuple[duckdb.DuckDBPyConnection, int],
        change: Callable[[duckdb.DuckDBPyConnection, int], None]) -> None:
    con, run = world
    change(con, run)
    assert unchanged_since(con, run, BOTH, STAMP) is None


def test_other_models_platform_groups_or_parts_mean_a_full_run(
        world: tuple[duckdb.DuckDBPyConnection, int]) -> None:
    con, run = world
    for stamp in (settled_stamp("models-b3", "https://l360",
                                ["g2"]),
                  settled_stamp("models-a1", "https://other",
                                ["g2"]),
                  settled_stamp("models-a1", "https://l360",
                                ["g2", "g3"])):
        assert unchanged_since(con, run, BOTH, stamp) is None
    con.execute("DELETE FROM meta.settled")
    record_settled(con, run - 1, {"attempts"}, STAMP)  # a statistics job settled only those
    assert unchanged_since(con, run, BOTH, STAMP) is None


def test_a_warehouse_never_settled_runs_in_full(tmp_path: Path) -> None:
    con = open_warehouse(tmp_path / "w.duckdb")
    run = start_run(con, "run", {})
    assert unchanged_since(con, run, BOTH, STAMP) is None


def test_the_models_digest_follows_the_model_files_and_variables(tmp_path: Path) -> None:
    """A quiet run trusts the digest instead of loading the models: it must change with any
    byte of a model or seed and with the variables, and only then."""
    models = tmp_path / "models"
    shutil.copytree(MODELS_DIR, models)
    config = load_config(env={"GO1_PORTAL_URL": "https://acme.mygo1.com"})
    first = models_digest(config, models)
    assert models_digest(config, models) == first
    assert models_digest(config, MODELS_DIR) == first  # the place is not the version
    model = next(models.glob("marts/*.sql"))
    model.write_text(model.read_text() + "\n-- a comment\n")
    edited = models_digest(config, models)
    assert edited != first
    seed = next(models.glob("seeds/*.csv"))
    seed.write_bytes(seed.read_bytes() + b"\n")
    assert models_digest(config, models) not in (first, edited)
    other = load_config(env={"GO1_PORTAL_URL": "https://other.mygo1.com"})
    assert models_digest(other, MODELS_DIR) != first
