"""The `omnihub` command line (typer + rich)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.table import Table

from omnihub.logs import configure_logging
from omnihub.settings import Settings, get_settings

app = typer.Typer(help="omnihub: the omnichannel order and inventory hub.", no_args_is_help=True)
bench_app = typer.Typer(help="Benchmarks; each writes JSON (with peak RSS).", no_args_is_help=True)
app.add_typer(bench_app, name="bench")
from omnihub.entrypoints.cli.orders import orders_app, rules_app  # noqa: E402

app.add_typer(orders_app, name="orders")
app.add_typer(rules_app, name="rules")
console = Console()


def _settings(database_url: str | None) -> Settings:
    s = get_settings()
    return s.model_copy(update={"database_url": database_url}) if database_url else s


DbOpt = Annotated[Optional[str], typer.Option("--database-url", help="overrides OMNIHUB_DATABASE_URL")]


@app.command()
def serve(
    host: str = "127.0.0.1",
    port: int = 8000,
    sample: Annotated[bool, typer.Option(help="load a small sample catalog if the database is empty")] = False,
    database_url: DbOpt = None,
    workers: Annotated[int, typer.Option(min=1, help="API processes, each with its own stock writer "
                                                 "(2 uses both cores of a 2-core machine)")] = 1,
) -> None:
    """Run the HTTP API (OpenAPI docs at /api/v1/docs)."""
    import os

    import uvicorn

    from omnihub.entrypoints.api.app import create_app
    from omnihub.gc_tuning import tune_for_throughput
    from omnihub.hub import Hub
    from omnihub.sample_catalog import load_sample_catalog

    settings = _settings(database_url)
    configure_logging(settings.log_level, settings.log_json)
    hub = Hub.open(settings)
    if sample:
        with console.status("loading the sample catalog"):
            load_sample_catalog(hub)
    console.print(f"[bold]omnihub[/] API on http://{host}:{port}/api/v1  (docs: /api/v1/docs, db: {settings.database_url}"
                  f"{f', {workers} workers' if workers > 1 else ''})")
    if workers > 1:
        # The workers open their own hubs from the environment (the schema is up to date).
        hub.close()
        os.environ["OMNIHUB_DATABASE_URL"] = settings.database_url
        uvicorn.run("omnihub.entrypoints.api.app:worker_app", factory=True, workers=workers, host=host, port=port,
                    log_level="warning")
        return
    tune_for_throughput()
    import signal  # uvicorn shuts down on SIGINT/SIGTERM, then raises the signal again: let it end here, and the hub close
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: None)
    try:
        uvicorn.run(create_app(settings, hub=hub), host=host, port=port, log_level="warning")
    finally:
        hub.close()


@app.command()
def migrate(database_url: DbOpt = None) -> None:
    """Bring the database schema up to date (SQLite or PostgreSQL)."""
    from omnihub.adapters.db.engine import migrate as run

    s = _settings(database_url)
    run(s.database_url)
    console.print(f"schema up to date on {s.database_url}")


@app.command()
def sample(database_url: DbOpt = None) -> None:
    """Load the sample catalog (locations, products, stock, channels) into an empty hub."""
    from omnihub.hub import Hub
    from omnihub.sample_catalog import load_sample_catalog

    hub = Hub.open(_settings(database_url), relay=False)
    try:
        load_sample_catalog(hub)
        console.print(f"{len(hub.catalog.list_locations())} locations, {len(hub.catalog.list_channels())} channels")
    finally:
        hub.close()


@app.command()
def atp(sku: str, channel: Optional[str] = None, explain: bool = False, database_url: DbOpt = None) -> None:
    """Show what may be sold of a SKU (online or on one channel), and why."""
    from omnihub.hub import Hub

    hub = Hub.open(_settings(database_url), relay=False)
    try:
        exp = hub.queries.explain(sku, channel)
    finally:
        hub.close()
    table = Table(title=f"ATP of {sku} {'on ' + channel if channel else 'online'}: {exp['atp']}")
    per_location = any(t.get("shown") is not None for t in exp["locations"])
    for col in ("location", "on_hand", "reserved", "damaged", "QC", "safety", "threshold", "ATP", "counted",
                *(("shown there",) if per_location else ()), "note"):
        table.add_column(col)
    for t in exp["locations"]:
        shown = ("" if t.get("shown") is None else str(t["shown"]),) if per_location else ()
        table.add_row(t["location"], str(t["on_hand"]), str(t["reserved"]), str(t["damaged"]), str(t["quality_control"]),
                      f"{t['safety_stock']} ({t['safety_stock_from']})", f"{t['threshold']} ({t['threshold_from']})",
                      str(t["atp"]), str(t["counted"]), *shown, t["note"])
    console.print(table)
    if explain:
        console.print(f"pool {exp['pool']} − brokering queue {exp['brokering_queue']} → {exp['allocation']} "
                      f"− buffer {exp['buffer']} = [bold]{exp['atp']}[/]")
        if per_location:
            console.print("a per-location channel sells the sum of its locations: the queue, allocation and buffer "
                          "are taken off the least preferred locations first ('shown there')")


@app.command("import-snapshot")
def import_snapshot_cmd(file: Path, database_url: DbOpt = None) -> None:
    """Apply an ERP snapshot CSV (sku,location,on_hand[,damaged]); bad rows are listed
    with their line and column, good rows apply."""
    from omnihub.hub import Hub
    from omnihub.services.erp_snapshot import import_snapshot

    hub = Hub.open(_settings(database_url), relay=False)
    try:
        report = import_snapshot(hub.writer, file.read_text(encoding="utf-8-sig"), actor="cli")
    finally:
        hub.close()
    console.print(f"{report.rows} rows: {report.applied} changed stock ({report.movements} movements), "
                  f"{report.unchanged} unchanged, {len(report.errors)} failed")
    for e in report.errors:
        console.print(f"  [red]{file}:{e.line}:{e.column}[/] {e.field}: {e.message}")
    if report.errors:
        raise typer.Exit(1)


def _write_json(path: Optional[Path], result: dict) -> None:
    text = json.dumps(result, indent=2)
    if path:
        path.write_text(text + "\n")
    console.print_json(text)


@bench_app.command("orders")
def bench_orders_cmd(
    backend: Annotated[str, typer.Option(help="sqlite or postgresql")] = "sqlite",
    json_file: Annotated[Optional[Path], typer.Option("--json", help="write the result here")] = None,
    orders: int = 20_000,
    skus: int = 10_000,
    locations: int = 50,
    callers: int = 8,
    window: Annotated[int, typer.Option(help="orders each caller keeps in flight: 8 × 8 callers = 64, a busy "
                                             "hub's load, where the p99 target is judged; 64 (512 in flight) "
                                             "shows the most the writers take, at several times the latency")] = 8,
    rate: Annotated[Optional[float], typer.Option(min=1, help="open loop: send this many orders a second whatever "
                                                  "the answers (latency at that load); default: closed loop, "
                                                  "callers × window in flight")] = None,
    per_sku: Annotated[int, typer.Option(help="locations stocked per SKU (50 with 100,000 SKUs: 5 M positions)")] = 10,
    processes: Annotated[int, typer.Option(min=1, help="hub processes sharing the database and the callers, each "
                                                       "with its own writer (as `serve --workers 2`)")] = 2,
    postgres_url: Annotated[Optional[str], typer.Option(help="server to create the scratch database on")] = None,
) -> None:
    """The full order path (ingest → route → reserve → events): orders/s, latency, oversells."""
    from rich.progress import Progress

    from omnihub.benchmarks.orders import bench_orders

    with Progress(console=console, transient=True) as bar:
        task = bar.add_task("orders", total=orders)
        result = bench_orders(backend, orders=orders, skus=skus, locations=locations, per_sku=per_sku, callers=callers,
                              window=window, rate=rate, base_url=postgres_url, processes=processes,
                              progress=lambda n: bar.advance(task, n))
    _write_json(json_file, result)


@bench_app.command("ledger")
def bench_ledger_cmd(
    backend: Annotated[str, typer.Option(help="sqlite or postgresql")] = "sqlite",
    json_file: Annotated[Optional[Path], typer.Option("--json", help="write the result here")] = None,
    skus: int = 10_000,
    locations: int = 50,
    movements: int = 200_000,
    callers: int = 8,
    writers: int = 8,
    hot_attempts: int = 40_000,
    channels: Annotated[int, typer.Option(help="then again with this many channels, whose availability every "
                                               "movement updates (0-2; 0 skips that run)")] = 2,
    callers_per_writer: Annotated[int, typer.Option(help="hot SKU: caller threads batched by each writer process")] = 32,
    processes: Annotated[int, typer.Option(help="spread: hub processes sharing the callers, each with its own writer (as `serve --workers 2`)")] = 2,
    window: Annotated[int, typer.Option(help="spread: requests each caller keeps in flight")] = 256,
    postgres_url: Annotated[Optional[str], typer.Option(help="server to create the scratch database on")] = None,
) -> None:
    """Ledger throughput: movements spread over SKUs × locations, and one hot SKU under
    concurrent writer processes (lost updates counted); then the same with channels."""
    from rich.progress import Progress

    from omnihub.benchmarks.ledger import bench_ledger

    with Progress(console=console, transient=True) as bar:
        task = bar.add_task("spread movements", total=movements * (2 if channels else 1))
        result = bench_ledger(backend, skus=skus, locations=locations, movements=movements, callers=callers,
                              writers=writers, hot_attempts=hot_attempts, channels=channels,
                              callers_per_writer=callers_per_writer, processes=processes, window=window,
                              base_url=postgres_url,
                              progress=lambda n: bar.advance(task, n))
    _write_json(json_file, result)
from omnihub.sandbox.cli import sandbox_app
app.add_typer(sandbox_app, name="sandbox")
from omnihub.entrypoints.cli.sync_commands import register as register_sync_commands
register_sync_commands(app, bench_app)
from omnihub.entrypoints.cli.reconcile_commands import register as register_reconcile  # noqa: E402
from omnihub.entrypoints.cli.sync_commands import sync_app as _sync_app  # noqa: E402

register_reconcile(_sync_app)
from omnihub.entrypoints.cli.demo import demo as _demo  # noqa: E402
app.command("demo")(_demo)
