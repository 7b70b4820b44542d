"""`omnihub chaos`: the chaos day (entrypoints/chaos/), with rich progress, JSON and HTML."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Optional

import typer


def chaos(
    hours: Annotated[int, typer.Option(min=1, max=24, help="simulated hours from midnight")] = 24,
    speed: Annotated[float, typer.Option(min=1, help="simulated seconds per real second (1440: a day in 60 s)")]
    = 1440,
    seed: Annotated[int, typer.Option(help="draws the faults' times and the shoppers")] = 1,
    json_file: Annotated[Optional[Path], typer.Option("--json", help="write the figures here")] = None,
    html_file: Annotated[Optional[Path], typer.Option("--html", help="write the charts here")] = None,
    backend: Annotated[str, typer.Option(help="sqlite or postgresql")] = "sqlite",
    skus: Annotated[int, typer.Option(min=10, max=20_000, help="Shopify SKUs (also listed on Amazon)")] = 2000,
    peak_orders_per_s: Annotated[float, typer.Option(min=0.1, max=200, help="shoppers at the peak, real seconds")]
    = 20.0,
    settle_s: Annotated[float, typer.Option(min=10, help="at most this long to settle after the day")] = 300,
    state_dir: Annotated[Optional[Path], typer.Option(
        help="keep the day's files here (each process's log, the simulators' and SQLite's databases); "
             "default: a temporary folder, removed at the end")] = None,
) -> None:
    """Run the whole system as processes through a Black-Friday day of faults; count from the simulators."""
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from omnihub.entrypoints.chaos.day import run_chaos_day

    if html_file:  # before the day, not after it: the charts need matplotlib (pip install 'omnihub[charts]')
        from omnihub.entrypoints.chaos.report import write_html

    import faulthandler
    import signal

    faulthandler.register(signal.SIGUSR1, all_threads=True)  # `kill -USR1 <pid>`: where the day is stuck

    def stopped(signum, frame):  # SIGTERM (a timeout, a CI runner): stop the day's processes on the way out
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, stopped)
    if backend not in ("sqlite", "postgresql"):
        raise typer.BadParameter("sqlite or postgresql", param_hint="--backend")
    console = Console(stderr=True)
    with Progress(TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed:.1f}/{task.total} h"),
                  TimeElapsedColumn(), console=console) as bar:
        task = bar.add_task("setting up", total=hours)

        def say(what: str, done: float | None = None, total: float | None = None) -> None:
            if done is None:
                console.log(what)
            else:
                bar.update(task, description=what, completed=done)

        result = run_chaos_day(hours=hours, speed=speed, seed=seed, backend=backend, skus=skus,
                               peak_orders_per_s=peak_orders_per_s, settle_s=settle_s, say=say,
                               keep_dir=state_dir)
    text = json.dumps(result, indent=2)
    if json_file:
        json_file.write_text(text + "\n")
    if html_file:
        html_file.write_text(write_html(result))
    keys = ("orders_by_channel", "orders_lost", "orders_duplicated", "oversold_units", "discrepancies_found",
            "discrepancies_fixed", "discrepancies_open_at_end", "sync_lag_p50_ms", "sync_lag_p99_ms",
            "reconcile_runs", "faults_injected", "seconds")
    typer.echo(json.dumps({k: result[k] for k in keys}, indent=2))
