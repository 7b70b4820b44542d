"""`omnihub report daily --date YYYY-MM-DD --out DIR`: the day's multi-marketplace report
(orders, units and revenue per channel and location, split rate, pickup against ship,
cancellations) as an offline HTML page with charts and CSV files, read from the database
directly as the local admin, the day taken in the retailer's time zone (setting `timezone`)."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated, Optional

import typer

from omnihub.entrypoints.cli.terminal import console

report_app = typer.Typer(help="Reports written to files: the daily multi-marketplace report", no_args_is_help=True)
DbOpt = Annotated[Optional[str], typer.Option("--database-url", help="overrides OMNIHUB_DATABASE_URL")]


def _day(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(f"{value!r} is not a date: write it as YYYY-MM-DD, e.g. 2026-12-03") from None


@report_app.command("daily")
def daily(day: Annotated[str, typer.Option("--date", help="the local day, YYYY-MM-DD")],
          out: Annotated[Path, typer.Option("--out", help="the folder to write index.html and the CSV files into")],
          database_url: DbOpt = None) -> None:
    """Write the day's report into a folder: index.html (charts inside, works offline) and CSV files."""
    from rich.progress import Progress

    from omnihub.entrypoints.cli.sync_commands import _hub
    from omnihub.reports.daily_html import MISSING_MATPLOTLIB, write_daily_report
    from omnihub.services.daily_report import daily_figures

    wanted = _day(day)
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        console().print(f"[red]{MISSING_MATPLOTLIB}[/]")
        raise typer.Exit(1) from None
    hub = _hub(database_url)
    try:
        with Progress(console=console(), transient=True) as progress:
            task = progress.add_task("reading the day's figures", total=2)
            figures = daily_figures(hub.engine, wanted, hub.settings.timezone)
            progress.update(task, advance=1, description="drawing the page and the CSV files")
            written = write_daily_report(figures, out)
            progress.update(task, advance=1)
    finally:
        hub.close()
    note = "no orders that day" if figures.empty else f"{figures.orders} orders"
    console().print(f"{note}; wrote {', '.join(p.name for p in written)} in {out}")
