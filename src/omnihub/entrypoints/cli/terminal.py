"""Where the CLI writes: a rich Console made when a command writes, never at import.

A rich `Console` measures the terminal (or reads COLUMNS) when it is constructed and binds
the stream it was given. A module-level `Console()` therefore keeps the width of whatever
was there when the module was first imported: under `pytest -n 2` that is the worker's
pipe (80 columns), and a table printed later with COLUMNS=200 is cut. Each command asks
for its console when it runs, so it measures the terminal it is actually writing to.
"""

from __future__ import annotations

import typer
from rich.console import Console


def console() -> Console:
    """Standard output: the command's answer (tables, JSON, summaries)."""
    return Console()


def err_console() -> Console:
    """Standard error: progress, notes, anything that is not the answer."""
    return Console(stderr=True)


def note(text: str) -> None:
    """One dim line on stderr (e.g. which hub a command used); plain text, no rich markup,
    so URLs and paths with brackets print as they are."""
    typer.echo(typer.style(text, dim=True), err=True)


def error_line(text: str) -> None:
    """The one line an expected error prints: `error: ...` on stderr."""
    typer.echo(typer.style("error:", fg="red", bold=True) + " " + " ".join(text.split()), err=True)
