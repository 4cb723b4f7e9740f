"""``python -m go1sync``: the CLI, as ``go1sync`` and ``python cli.py`` run it."""

from go1sync.cli import main

main(prog_name="go1sync")
