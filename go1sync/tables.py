"""The summary tables the commands print (streams, models, plan), drawn with rich.

Why rich, as for the progress bars: column widths from the content, numbers right-aligned,
colour and a header rule on a terminal, and no hand-kept padding in every printer. Off a
terminal (cron, a pipe, a test) the table is plain text, no colour, no borders and never
wrapped, so a log or ``grep`` reads one row a line.
"""

from __future__ import annotations

import io
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import click

WIDTH_OFF_TERMINAL = 10_000  # a table is never wrapped in a log


@dataclass(frozen=True)
class Column:
    header: str
    numeric: bool = False  # right-aligned


Cell = str | tuple[str, str]  # text, or (text, rich style such as "green" or "bold red")


def render(columns: Sequence[Column], rows: Iterable[Sequence[Cell]], *,
           terminal: bool | None = None) -> str:
    """The table as text; ``terminal``: styled for one (default: whether stdout is one)."""
    from rich import box
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    live = sys.stdout.isatty() if terminal is None else terminal
    table = Table(box=box.SIMPLE_HEAD if live else None, show_edge=False, pad_edge=False,
                  header_style="bold" if live else "", padding=(0, 1), collapse_padding=True)
    for column in columns:
        table.add_column(column.header, justify="right" if column.numeric else "left",
                         no_wrap=True)
    for row in rows:
        table.add_row(*(Text(c[0], style=c[1] if live else "") if isinstance(c, tuple)
                        else Text(c) for c in row))
    out = io.StringIO()
    console = Console(file=out, width=None if live else WIDTH_OFF_TERMINAL,
                      force_terminal=live, color_system="auto" if live else None,
                      highlight=False, soft_wrap=False)
    console.print(table)
    return "\n".join(line.rstrip() for line in out.getvalue().rstrip("\n").split("\n"))


def echo_table(columns: Sequence[Column], rows: Iterable[Sequence[Cell]]) -> None:
    click.echo(render(columns, rows))
