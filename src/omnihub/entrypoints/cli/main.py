"""The `omnihub` command line (typer + rich).

Every command that takes `--database-url` opens its hub through which_hub.open_hub (read
commands refuse a hub that is not there); errors are one line, mapped in errors.py;
consoles are made when a command writes (terminal.py)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any, Optional

import typer
from rich.table import Table

from omnihub.entrypoints.cli.errors import OneLineErrors
from omnihub.entrypoints.cli.terminal import console
from omnihub.entrypoints.cli.which_hub import choose_hub, open_hub
from omnihub.logs import configure_logging

app = typer.Typer(help="omnihub: the omnichannel order and inventory hub.", no_args_is_help=True, cls=OneLineErrors)
bench_app = typer.Typer(help="Benchmarks; each writes JSON (with peak RSS).", no_args_is_help=True)
app.add_typer(bench_app, name="bench")
from omnihub.entrypoints.cli.orders import orders_app, rules_app  # noqa: E402

app.add_typer(orders_app, name="orders")
app.add_typer(rules_app, name="rules")
from omnihub.entrypoints.cli.report_commands import report_app  # noqa: E402

app.add_typer(report_app, name="report")


def _show_version(value: bool) -> None:
    if value:
        from importlib.metadata import PackageNotFoundError, version

        try:
            typer.echo(f"omnihub {version('omnihub')}")
        except PackageNotFoundError:  # running from a source tree that was never installed
            from omnihub import __version__

            typer.echo(f"omnihub {__version__} (not installed)")
        raise typer.Exit()


@app.callback()
def _global_options(
    version: Annotated[bool, typer.Option("--version", callback=_show_version, is_eager=True,
                                          help="print the version and exit")] = False,
    debug: Annotated[bool, typer.Option("--debug", help="show the full traceback of an error (also OMNIHUB_DEBUG=1); "
                                                        "without it an error is one line on stderr")] = False,
) -> None:
    """omnihub: the omnichannel order and inventory hub."""


DbOpt = Annotated[Optional[str], typer.Option("--database-url", help="overrides OMNIHUB_DATABASE_URL")]


@app.command()
def serve(
    host: str = "127.0.0.1",
    port: int = 8000,
    sample: Annotated[bool, typer.Option(help="load a small sample catalog if the database is empty")] = False,
    database_url: DbOpt = None,
    workers: Annotated[int, typer.Option(min=1, help="API processes, each with its own stock writer "
                                                 "(2 uses both cores of a 2-core machine)")] = 1,
    ssl_certfile: Annotated[Optional[Path], typer.Option(help="TLS certificate (PEM): serve HTTPS")] = None,
    ssl_keyfile: Annotated[Optional[Path], typer.Option(help="TLS private key (PEM) of --ssl-certfile")] = None,
    behind_proxy: Annotated[bool, typer.Option("--behind-proxy", help="a TLS-terminating proxy is in front: "
                                               "bind beyond loopback without TLS here, and take clients' addresses from "
                                               "its X-Forwarded-For (FORWARDED_ALLOW_IPS: the proxy's)")] = False,
) -> None:
    """Run the HTTP API (OpenAPI docs at /api/v1/docs). Beyond loopback it needs TLS
    (--ssl-certfile/--ssl-keyfile) or --behind-proxy: tokens and passwords must not cross
    a network in clear text."""
    from omnihub.entrypoints.cli.serve_guard import refuse_clear_text

    refuse_clear_text(host, ssl_certfile, ssl_keyfile, behind_proxy)
    tls = {"ssl_certfile": str(ssl_certfile), "ssl_keyfile": str(ssl_keyfile)} if ssl_certfile else {}
    # A client's address (the sign-in throttle's, the audit trail's) comes from X-Forwarded-For
    # only behind the proxy that sets it (uvicorn trusts FORWARDED_ALLOW_IPS, 127.0.0.1 by
    # default); without one, any local process could name itself any address.
    served: dict[str, Any] = {**tls, "proxy_headers": behind_proxy}
    import json
    import os

    import uvicorn

    from omnihub.entrypoints.api.app import create_app
    from omnihub.gc_tuning import tune_for_throughput
    from omnihub.sample_catalog import load_sample_catalog

    from omnihub.entrypoints.cli.which_hub import shown_url
    from omnihub.settings import get_settings

    configure_logging(get_settings().log_level, get_settings().log_json)
    # The API never relays the outbox: its sync intake has no pushers, so it would mark
    # the events published unread; the worker relays them to its own (entrypoints/worker.py).
    hub = open_hub(database_url, must_exist=False, relay=False)
    settings = hub.settings
    out = console()
    if sample:
        with out.status("loading the sample catalog"):
            load_sample_catalog(hub)
    out.print(f"[bold]omnihub[/] API on {'https' if tls else 'http'}://{host}:{port}/api/v1  (docs: /api/v1/docs, "
              f"db: {shown_url(settings.database_url)}{f', {workers} workers' if workers > 1 else ''})")
    out.print(f"[bold]console[/] on {'https' if tls else 'http'}://{host}:{port}/console/  (sign in as a user: "
              "omnihub users create-admin / users add)")
    hosts = list(dict.fromkeys([*settings.allowed_hosts, host]))  # the name it binds to is one it answers to
    if host in ("0.0.0.0", "::", ""):
        out.print("[yellow]listening on every address: set allowed_hosts (OMNIHUB_ALLOWED_HOSTS) to the names the "
                  "hub is reached under; other Host headers are refused[/]")
    if workers > 1:
        # The workers open their own hubs from the environment (the schema is up to date).
        hub.close()
        os.environ["OMNIHUB_DATABASE_URL"] = settings.database_url
        os.environ["OMNIHUB_ALLOWED_HOSTS"] = json.dumps(hosts)
        uvicorn.run("omnihub.entrypoints.api.app:worker_app", factory=True, workers=workers, host=host, port=port,
                    log_level="warning", **served)
        return
    tune_for_throughput()
    import signal  # uvicorn shuts down on SIGINT/SIGTERM, then raises the signal again: let it end here, and the hub close
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: None)
    try:
        uvicorn.run(create_app(settings, hub=hub, extra_hosts=[host]), host=host, port=port, log_level="warning", **served)
    finally:
        hub.close()


@app.command()
def migrate(database_url: DbOpt = None) -> None:
    """Bring the database schema up to date (SQLite or PostgreSQL)."""
    from omnihub.adapters.db.engine import migrate as run
    from omnihub.entrypoints.cli.terminal import note
    from omnihub.entrypoints.cli.which_hub import shown_url

    target = choose_hub(database_url, follow_demo=False)  # sets a hub up where the user is
    if not target.is_default:
        note(target.describe())
    run(target.settings.database_url)
    from omnihub.entrypoints.cli.audited import opened

    opened(target.settings.database_url)
    console().print(f"schema up to date on {shown_url(target.settings.database_url)}")


@app.command()
def sample(database_url: DbOpt = None) -> None:
    """Load the sample catalog (locations, products, stock, channels) into an empty hub."""
    from omnihub.sample_catalog import load_sample_catalog

    hub = open_hub(database_url, must_exist=False)
    try:
        load_sample_catalog(hub)
        console().print(f"{len(hub.catalog.list_locations())} locations, {len(hub.catalog.list_channels())} channels")
    finally:
        hub.close()


@app.command()
def atp(sku: str, channel: Optional[str] = None, explain: bool = False, database_url: DbOpt = None) -> None:
    """Show what may be sold of a SKU (online or on one channel), and why."""
    hub = open_hub(database_url)
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
    out = console()
    out.print(table)
    if explain:
        out.print(f"pool {exp['pool']} − brokering queue {exp['brokering_queue']} → {exp['allocation']} "
                  f"− buffer {exp['buffer']} = [bold]{exp['atp']}[/]")
        if per_location:
            out.print("a per-location channel sells the sum of its locations: the queue, allocation and buffer "
                      "are taken off the least preferred locations first ('shown there')")


@app.command("import-snapshot")
def import_snapshot_cmd(
    file: Path,
    database_url: DbOpt = None,
    again: Annotated[bool, typer.Option("--again", help="import a file anew that was imported to its end before")] = False,
    chunk_rows: Annotated[Optional[int], typer.Option(min=1, hidden=True, help="rows per transaction")] = None,
) -> None:
    """Apply an ERP snapshot CSV (sku,location,on_hand[,damaged]); bad rows are listed
    with their line and column (1-based, the header is line 1), in line order; good rows
    apply. The file is UTF-8 (with or without BOM) or UTF-16 with BOM, of any size: it is
    streamed and applied in chunks, and a run stopped part-way resumes where it stopped
    when the same file is imported again."""
    from omnihub.entrypoints.cli.snapshot_import import import_snapshot_file

    import_snapshot_file(file, database_url, again=again, chunk_rows=chunk_rows)


def _write_json(path: Optional[Path], result: dict) -> None:
    text = json.dumps(result, indent=2)
    if path:
        path.write_text(text + "\n")
    console().print_json(text)


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
    locations_per_sku: Annotated[Optional[str], typer.Option(help="compare estates side by side: locations stocked "
                                                  "per SKU, e.g. 10,50, run alternately (A B A B) in this one run; "
                                                  "reports each and their throughput ratio (instead of --per-sku)")] = None,
    rounds: Annotated[int, typer.Option(min=1, help="with --locations-per-sku or --compare-token: runs of each side")] = 2,
    with_token: Annotated[bool, typer.Option("--with-token", help="each order first passes the API's token resolver "
                                             "(a real token; run beside one without to see what auth costs)")] = False,
    compare_token: Annotated[bool, typer.Option("--compare-token", help="without and with a token side by side: "
                                                "--rounds rounds, alternately (A B B A ...), and their ratio")] = False,
) -> None:
    """The full order path (ingest → route → reserve → events): orders/s, latency, oversells."""
    from rich.progress import Progress

    from omnihub.benchmarks.orders import bench_orders

    if compare_token:
        _bench_compare_token(bench_orders, backend, json_file, rounds, orders, orders=orders, skus=skus,
                             locations=locations, per_sku=per_sku, callers=callers, window=window, rate=rate,
                             base_url=postgres_url, processes=processes)
        return
    if locations_per_sku is not None:
        _bench_orders_compared(backend, json_file, locations_per_sku, rounds, orders=orders, skus=skus,
                               locations=locations, callers=callers, window=window, rate=rate, base_url=postgres_url,
                               processes=processes)
        return

    with Progress(console=console(), transient=True) as bar:
        task = bar.add_task("orders", total=orders)
        result = bench_orders(backend, orders=orders, skus=skus, locations=locations, per_sku=per_sku, callers=callers,
                              window=window, rate=rate, base_url=postgres_url, processes=processes,
                              progress=lambda n: bar.advance(task, n), with_token=with_token)
    _write_json(json_file, result)


def _bench_orders_compared(backend: str, json_file: Optional[Path], locations_per_sku: str, rounds: int,
                           **options) -> None:
    from rich.progress import Progress

    from omnihub.benchmarks.orders_compared import compare_estates, parse_locations_per_sku

    try:
        per_skus = parse_locations_per_sku(locations_per_sku)
    except ValueError as bad:
        raise typer.BadParameter(str(bad), param_hint="--locations-per-sku") from None
    if max(per_skus) > options["locations"]:
        raise typer.BadParameter(f"a SKU cannot be stocked at more than the {options['locations']} locations "
                                 "(--locations)", param_hint="--locations-per-sku")
    with Progress(console=console(), transient=True) as bar:
        task = bar.add_task("orders", total=options["orders"] * len(per_skus) * rounds)
        result = compare_estates(backend, per_skus, rounds=rounds, progress=lambda n: bar.advance(task, n), **options)
    _write_json(json_file, result)


def _bench_compare_token(run, backend: str, json_file: Optional[Path], rounds: int, per_run: int, **options) -> None:
    from rich.progress import Progress

    from omnihub.benchmarks.token_compared import compare_token

    with Progress(console=console(), transient=True) as bar:
        task = bar.add_task("without and with a token", total=per_run * 2 * rounds)
        result = compare_token(run, backend, rounds=rounds, progress=lambda n: bar.advance(task, n), **options)
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
    with_token: Annotated[bool, typer.Option("--with-token", help="each movement first passes the API's token resolver "
                                             "(a real token; run beside one without to see what auth costs)")] = False,
    compare_token: Annotated[bool, typer.Option("--compare-token", help="without and with a token side by side: "
                                                "--rounds rounds, alternately (A B B A ...), and their ratio")] = False,
    rounds: Annotated[int, typer.Option(min=1, help="with --compare-token: runs of each side")] = 2,
) -> None:
    """Ledger throughput: movements spread over SKUs × locations, and one hot SKU under
    concurrent writer processes (lost updates counted); then the same with channels."""
    from rich.progress import Progress

    from omnihub.benchmarks.ledger import bench_ledger

    if compare_token:
        _bench_compare_token(bench_ledger, backend, json_file, rounds, movements * (2 if channels else 1),
                             skus=skus, locations=locations, movements=movements, callers=callers, writers=writers,
                             hot_attempts=hot_attempts, channels=channels, callers_per_writer=callers_per_writer,
                             processes=processes, window=window, base_url=postgres_url)
        return

    with Progress(console=console(), transient=True) as bar:
        task = bar.add_task("spread movements", total=movements * (2 if channels else 1))
        result = bench_ledger(backend, skus=skus, locations=locations, movements=movements, callers=callers,
                              writers=writers, hot_attempts=hot_attempts, channels=channels,
                              callers_per_writer=callers_per_writer, processes=processes, window=window,
                              base_url=postgres_url, with_token=with_token,
                              progress=lambda n: bar.advance(task, n))
    _write_json(json_file, result)
@bench_app.command("snapshot")
def bench_snapshot_cmd(
    backend: Annotated[str, typer.Option(help="sqlite or postgresql")] = "sqlite",
    json_file: Annotated[Optional[Path], typer.Option("--json", help="write the result here")] = None,
    rows: Annotated[int, typer.Option(min=1, help="rows in the snapshot (one per position)")] = 1_000_000,
    locations: int = 50,
    postgres_url: Annotated[Optional[str], typer.Option(help="server to create the scratch database on")] = None,
) -> None:
    """ERP snapshot import (`omnihub import-snapshot` in a child process): rows/s and the
    import's peak RSS; then the same file again, which applies nothing."""
    from omnihub.benchmarks.snapshot import bench_snapshot

    with console().status(f"importing a snapshot of {rows:,} rows"):
        result = bench_snapshot(backend, rows=rows, locations=locations, base_url=postgres_url)
    _write_json(json_file, result)


def _stages(bar, task):
    """The progress the estate and reconcile benches report, stage by stage: (what, done,
    total) becomes the bar's description and count."""
    return lambda what, done=None, total=None: bar.update(task, description=what, completed=done or 0, total=total)


@bench_app.command("estate")
def bench_estate_cmd(
    backend: Annotated[str, typer.Option(help="sqlite or postgresql")] = "sqlite",
    json_file: Annotated[Optional[Path], typer.Option("--json", help="write the result here")] = None,
    skus: Annotated[int, typer.Option(min=1, max=1_000_000)] = 100_000,
    locations: Annotated[int, typer.Option(min=1, max=500)] = 50,
    changed_pct: Annotated[float, typer.Option(min=0.1, max=100, help="positions the morning snapshot changes")] = 10,
    atp_per_s: Annotated[float, typer.Option(min=0)] = 40,
    orders_per_s: Annotated[float, typer.Option(min=0)] = 5,
    level_snapshot_s: Annotated[float, typer.Option(min=1, help="the worker's level snapshot schedule")] = 120,
    max_catch_up_s: Annotated[float, typer.Option(min=1, help="give up waiting for the channel after this")] = 3600,
    postgres_url: Annotated[Optional[str], typer.Option(help="server to create the scratch database on")] = None,
) -> None:
    """A large estate (SKUs x locations in the Shopify sandbox and the hub), then a morning
    snapshot: API and worker RSS, ATP and order latency, time until Shopify shows it all."""
    from rich.progress import Progress

    from omnihub.benchmarks.estate import bench_estate

    with Progress(console=console(), transient=True) as bar:
        task = bar.add_task("estate", total=None)
        result = bench_estate(backend, skus=skus, locations=locations, changed_share=changed_pct / 100,
                              atp_per_s=atp_per_s, orders_per_s=orders_per_s, level_snapshot_s=level_snapshot_s,
                              max_catch_up_s=max_catch_up_s, base_url=postgres_url,
                              progress=_stages(bar, task))
    _write_json(json_file, result)


@bench_app.command("console")
def bench_console_cmd(
    backend: Annotated[str, typer.Option(help="sqlite or postgresql")] = "sqlite",
    json_file: Annotated[Optional[Path], typer.Option("--json", help="write the result here")] = None,
    orders: Annotated[int, typer.Option(min=1, max=5_000_000)] = 100_000,
    skus: Annotated[int, typer.Option(min=10, max=1_000_000)] = 10_000,
    requests: Annotated[int, typer.Option(min=1, max=10_000, help="requests per page")] = 30,
    postgres_url: Annotated[Optional[str], typer.Option(help="server to create the scratch database on")] = None,
) -> None:
    """Server-side render time of every console page (p50/p95/max, goal p95 ≤ 300 ms) with
    ORDERS orders and SKUS SKUs seeded in a scratch database, and the serving process's peak RSS."""
    from omnihub.benchmarks.console import bench_console

    with console().status("console bench") as status:
        result = bench_console(backend, orders=orders, skus=skus, requests=requests, base_url=postgres_url,
                               progress=lambda what: status.update(what))
    _write_json(json_file, result)


@bench_app.command("reconcile")
def bench_reconcile_cmd(
    backend: Annotated[str, typer.Option(help="sqlite or postgresql")] = "sqlite",
    json_file: Annotated[Optional[Path], typer.Option("--json", help="write the result here")] = None,
    skus: Annotated[int, typer.Option(min=2, max=1_000_000)] = 20_000,
    locations: Annotated[int, typer.Option(min=1, max=500)] = 50,
    per_class: Annotated[int, typer.Option(min=1, help="differences made of each class")] = 20,
    seed: int = 7,
    postgres_url: Annotated[Optional[str], typer.Option(help="server to create the scratch database on")] = None,
) -> None:
    """One reconciliation of SKUs x locations against the Shopify sandbox, with known
    differences of every class: seconds, peak RSS, missed and false findings."""
    from rich.progress import Progress, SpinnerColumn, TimeElapsedColumn

    from omnihub.benchmarks.reconcile import bench_reconcile

    with Progress(SpinnerColumn(), *Progress.get_default_columns(), TimeElapsedColumn(), console=console(),
                  transient=True) as bar:
        task = bar.add_task("reconcile", total=None)
        result = bench_reconcile(backend, skus=skus, locations=locations, per_class=per_class, seed=seed,
                                 base_url=postgres_url, progress=_stages(bar, task))
    _write_json(json_file, result)


from omnihub.entrypoints.cli.sandbox_alias import register as register_sandbox_alias  # noqa: E402

register_sandbox_alias(app)  # after the commands above, as before
from omnihub.entrypoints.cli.sync_commands import register as register_sync_commands  # noqa: E402
register_sync_commands(app, bench_app)
from omnihub.entrypoints.cli.reconcile_commands import register as register_reconcile  # noqa: E402
from omnihub.entrypoints.cli.sync_commands import sync_app as _sync_app  # noqa: E402

register_reconcile(_sync_app)
from omnihub.entrypoints.cli.chaos_command import chaos  # noqa: E402

app.command("chaos")(chaos)
from omnihub.entrypoints.cli.demo import demo as _demo  # noqa: E402
app.command("demo")(_demo)
from omnihub.entrypoints.cli.customer_commands import customers_app  # noqa: E402
from omnihub.entrypoints.cli.access_commands import register as register_access  # noqa: E402

register_access(app)
from omnihub.entrypoints.cli.audit_commands import audit as _audit  # noqa: E402

app.command("audit")(_audit)

app.add_typer(customers_app, name="customers")
