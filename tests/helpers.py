"""What end-to-end tests share: running the CLI as a user would, and a sync in process."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from go1sync.settings import Config
    from load.result import PushResult

ROOT = Path(__file__).resolve().parents[1]
# The suite runs against the checkout's code (the README's command, from a clone) or against
# an installed wheel (.ci/run: a copy of the tree without the packages' Python files, so every
# import and every `python cli.py` reaches site-packages). The few tests about where the code
# lives ask which.
INSTALLED = not (ROOT / "go1sync" / "__init__.py").is_file()


def sigint_as_at_a_terminal() -> None:
    """``preexec_fn`` for a child a test sends Ctrl-C (SIGINT) to: the default disposition, as
    a terminal's shell gives it. A suite started from a background job of a non-interactive
    shell (job control off: POSIX has such jobs ignore SIGINT) hands the ignore down, and a
    Python started with SIGINT ignored never raises KeyboardInterrupt: the test would see a
    run that does not stop, where a user at a terminal sees it stop."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def clean_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The caller's environment without its own GO1_*, GO1SYNC_* and L360_* variables, plus
    ``extra``: a child process sees only the settings a test gives it."""
    clean = {k: v for k, v in os.environ.items()
             if not k.startswith(("GO1_", "GO1SYNC_", "L360_"))}
    return {**clean, **(extra or {})}


def run_cli(*args: str, env: dict[str, str] | None = None,
            timeout: float = 180) -> subprocess.CompletedProcess[str]:
    """``python cli.py ARGS`` from the repository, with only the given go1sync settings."""
    return subprocess.run([sys.executable, "cli.py", *args], cwd=ROOT, env=clean_env(env),
                          capture_output=True, text=True, timeout=timeout)


def readings(config: Config) -> dict[str, str]:
    """What go1sync found on the live APIs (``meta.api_readings``): reading -> value."""
    from warehouse import open_warehouse

    con = open_warehouse(config.warehouse_path())
    try:
        return dict(con.execute("SELECT reading, value FROM meta.api_readings").fetchall())
    finally:
        con.close()


def push(config: Config) -> PushResult:
    """``push`` in this process: what it did."""
    from commands.push import run_push

    report = run_push(config)
    assert report.pushed is not None
    return report.pushed


def sync(config: Config) -> PushResult:
    """What a scheduled run does, in this process: extract every stream, map, push."""
    from commands.extract import run_extract
    from commands.transform import run_transform
    from extract.streams import STREAMS

    assert run_extract(config, list(STREAMS)).ok
    run_transform(config)
    return push(config)
