"""CLI for the channel connectors and the sync engine: `omnihub worker`, `omnihub bench
sync`, `omnihub sync status|dead-letters|retry|inbox-failures [show|retry ID]`, and `omnihub channels
connect-shopify|connect-amazon|import-shopify` (credentials stored encrypted)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.markup import escape
from rich.table import Table

from omnihub.entrypoints.cli.errors import CliError
from omnihub.entrypoints.cli.terminal import console

sync_app = typer.Typer(help="The sync engine: queue, dead letters, inbox failures.", no_args_is_help=True)
channels_app = typer.Typer(help="Connect channels (credentials are stored encrypted).", no_args_is_help=True)
DbOpt = Annotated[Optional[str], typer.Option("--database-url", help="overrides OMNIHUB_DATABASE_URL")]


def _hub(database_url: str | None, *, relay: bool = False, must_exist: bool = True):
    """The hub the command means (which_hub); it must exist, but for the worker, a service
    that (like `serve`) sets its hub up where it is started."""
    from omnihub.entrypoints.cli.which_hub import open_hub

    return open_hub(database_url, relay=relay, must_exist=must_exist)


def worker(database_url: DbOpt = None,
           new_orders_s: float = 900, order_updates_s: float = 1800, new_products_s: float = 900,
           product_updates_s: float = 21600, level_snapshot_s: float = 900, amazon_orders_s: float = 900,
           fulfilments_s: float = 1800, queue_retry_s: float = 60, sweep_s: float = 60,
           lease_s: Annotated[Optional[float], typer.Option(
               help="how long a claim holds; what a killed worker held waits this long (default 60 s inbox, 30 s sync)")] = None,
           ) -> None:
    """Run the background worker: outbox relay, inbox, sync senders and schedules (Ctrl-C stops it gracefully; SIGUSR1 prints every thread's stack)."""
    from omnihub.entrypoints.worker import Schedules, Worker
    from omnihub.logs import configure_logging
    from omnihub.settings import get_settings

    configure_logging(get_settings().log_level, get_settings().log_json)
    import faulthandler
    import signal

    faulthandler.register(signal.SIGUSR1, all_threads=True)  # `kill -USR1 <pid>`: every thread's stack on stderr
    hub = _hub(database_url, must_exist=False)
    try:
        w = Worker.from_vault(hub, schedules=Schedules(new_orders_s, order_updates_s, new_products_s, product_updates_s,
                                                       level_snapshot_s, amazon_orders_s, queue_retry_s=queue_retry_s,
                                                       sweep_s=sweep_s, fulfilments_s=fulfilments_s, lease_s=lease_s))
        console().print(f"[bold]omnihub worker[/]: channels {sorted(hub.sync.pushers) or 'none connected'}")
        from omnihub.gc_tuning import tune_for_throughput

        tune_for_throughput()
        w.run_forever()
    finally:
        hub.close()
    from omnihub.entrypoints.exit_deadline import exit_now

    exit_now(0)  # not through the interpreter's finalization, where a thread left mid-call can hang it


def bench_sync_cmd(
    backend: Annotated[str, typer.Option(help="sqlite or postgresql")] = "sqlite",
    json_file: Annotated[Optional[Path], typer.Option("--json", help="write the result here")] = None,
    changes_per_s: float = 500, duration_s: float = 20, skus: int = 5000,
    amazon_changes_per_s: float = 10, amazon_duration_s: float = 60, amazon_skus: int = 500,
    postgres_url: Annotated[Optional[str], typer.Option(help="server to create the scratch database on")] = None,
) -> None:
    """Stock changes → channel pushes over HTTP (sandboxes in child processes): lag, calls, throttles, budget."""
    from omnihub.benchmarks.sync import bench_sync

    out = console()
    with out.status("benchmarking the sync engine"):
        result = bench_sync(backend, shopify_changes_per_s=changes_per_s, shopify_duration_s=duration_s, skus=skus,
                            amazon_changes_per_s=amazon_changes_per_s, amazon_duration_s=amazon_duration_s,
                            amazon_skus=amazon_skus, base_url=postgres_url)
    text = json.dumps(result, indent=2)
    if json_file:
        json_file.write_text(text + "\n")
    out.print_json(text)


@sync_app.command("status")
def status(database_url: DbOpt = None) -> None:
    """Intents pending and parked, per channel."""
    hub = _hub(database_url)
    try:
        console().print_json(json.dumps(hub.sync.pending()))
    finally:
        hub.close()


@sync_app.command("dead-letters")
def dead_letters(channel: Optional[str] = None, database_url: DbOpt = None) -> None:
    """Intents parked after repeated failures."""
    hub = _hub(database_url)
    try:
        rows = hub.sync.dead_letters(channel, 1000)
    finally:
        hub.close()
    table = Table(title=f"{len(rows)} dead letters")
    for col in ("id", "channel", "sku", "location", "target", "attempts", "last error"):
        table.add_column(col)
    for r in rows:
        table.add_row(str(r["id"]), r["channel"], r["sku"], r["location"] or "(total)", str(r["target"]),
                      str(r["attempts"]), (r["last_error"] or "")[:80])
    console().print(table)


@sync_app.command("retry")
def retry(intent_id: int, database_url: DbOpt = None) -> None:
    """Put a dead letter back in the queue."""
    hub = _hub(database_url)
    try:
        ok = hub.sync.retry_dead_letter(intent_id)
    finally:
        hub.close()
    if not ok:
        raise CliError(f"no dead letter {intent_id}")
    console().print(f"dead letter {intent_id} queued again")


inbox_app = typer.Typer(help="What the inbox did not take in: list (no command), show ID, retry ID.")
sync_app.add_typer(inbox_app, name="inbox-failures")


@inbox_app.callback(invoke_without_command=True)
def inbox_failures(ctx: typer.Context,
                   after: Annotated[int, typer.Option(help="start after this row id (the last of a page)", min=0)] = 0,
                   limit: Annotated[int, typer.Option(help="rows to list", min=1, max=1000)] = 1000,
                   database_url: DbOpt = None) -> None:
    """What did not go in: deliveries parked with their reason or retrying, orders refused
    for what they say (unknown SKU, beyond the limits...) with how often seen, polled
    orders that failed. `show ID` prints one with its stored body, `retry ID` sends it
    through again."""
    if ctx.invoked_subcommand is not None:
        return
    hub = _hub(database_url)
    try:
        rows = hub.inbox.failures(limit, after=after)
    finally:
        hub.close()
    out = console()
    for r in rows:
        seen = f" (seen {r['attempts']}x)" if r["state"] == "parked" else ""
        if r["next_attempt_at"] is not None:
            seen = f" (attempt {r['attempts']}, next at {r['next_attempt_at'].isoformat()})"
        out.print(f"{r['id']} {r['state']} {r['source']} {r['topic']} {escape(r['delivery_id'])}{seen}: "
                  f"[red]{escape(str(r['error']))}[/]")
    if len(rows) == limit:
        out.print(f"[dim]more: --after {rows[-1]['id']}[/]")


@inbox_app.command("show")
def inbox_failure(row_id: Annotated[int, typer.Argument(min=0)], database_url: DbOpt = None) -> None:
    """One inbox row with its headers and stored body, as JSON."""
    hub = _hub(database_url)
    try:
        row = hub.inbox.failure(row_id)
    finally:
        hub.close()
    if row is None:
        raise CliError(f"no inbox row {row_id}")
    console().print_json(json.dumps(row, default=lambda v: v.isoformat() if hasattr(v, "isoformat") else str(v)))


@inbox_app.command("retry")
def inbox_retry(row_id: Annotated[int, typer.Argument(min=0)], database_url: DbOpt = None) -> None:
    """Send a parked or retrying inbox row through again (the worker processes it next)."""
    hub = _hub(database_url)
    try:
        queued = hub.inbox.retry(row_id)
    finally:
        hub.close()
    if queued is None:
        raise CliError(f"no parked or retrying inbox row {row_id}")
    also = "" if queued == row_id else f" (as delivery {queued}, which brought it)"
    console().print(f"inbox row {row_id} queued again{also}")


def _note_credentials(hub, channel: str, **shown) -> None:
    """The audit trail's before and after of a channel's credentials: that they changed,
    never what they are (the non-secret settings beside them are shown)."""
    from omnihub.services.audit_trail import note_change

    note_change(target=f"channel={channel}", before={"connected": channel in hub.vault.channels()},
                after={"connected": True, "credentials": "changed", **{k: v for k, v in shown.items() if v is not None}})


@channels_app.command("connect-shopify")
def connect_shopify(shop_url: str, access_token: str, client_secret: str,
                    plan: Annotated[str, typer.Option(help="standard, advanced, plus or enterprise")] = "standard",
                    shop_domain: Annotated[Optional[str], typer.Option(
                        help="the shop's <name>.myshopify.com, which its webhooks name in X-Shopify-Shop-Domain, "
                             "when SHOP_URL has another host (a proxy, a sandbox)")] = None,
                    channel: str = "shopify", database_url: DbOpt = None) -> None:
    """Store a Shopify shop's credentials (encrypted with OMNIHUB_SECRET_KEY). Webhooks are
    taken only from this shop: the host of SHOP_URL, or --shop-domain."""
    if plan not in ("standard", "advanced", "plus", "enterprise"):
        raise typer.BadParameter("plan is standard, advanced, plus or enterprise")
    hub = _hub(database_url)
    try:
        _note_credentials(hub, channel, shop_url=shop_url, plan=plan, shop_domain=shop_domain)
        hub.vault.put(channel, {"shop_url": shop_url, "access_token": access_token, "client_secret": client_secret,
                                "plan": plan, **({"shop_domain": shop_domain} if shop_domain else {})})
    finally:
        hub.close()
    console().print(f"{channel}: credentials stored")


@channels_app.command("connect-amazon")
def connect_amazon(endpoint: str, lwa_url: str, client_id: str, client_secret: str, refresh_token: str, seller_id: str,
                   marketplace_id: str = "ATVPDKIKX0DER", channel: str = "amazon_seller",
                   notification_secret: Annotated[Optional[str], typer.Option(
                       help="HMAC secret of the SQS-to-HTTP forwarder (X-Omnihub-Hmac-Sha256); generated when omitted")] = None,
                   database_url: DbOpt = None) -> None:
    """Store an Amazon seller's SP-API credentials and notification secret (encrypted)."""
    import secrets as random_secrets

    generated = notification_secret is None
    notification_secret = notification_secret or random_secrets.token_urlsafe(32)
    hub = _hub(database_url)
    try:
        _note_credentials(hub, channel, endpoint=endpoint, lwa_url=lwa_url, client_id=client_id, seller_id=seller_id,
                          marketplace_id=marketplace_id)
        hub.vault.put(channel, {"endpoint": endpoint, "lwa_url": lwa_url, "client_id": client_id,
                                "client_secret": client_secret, "refresh_token": refresh_token, "seller_id": seller_id,
                                "marketplace_id": marketplace_id, "notification_secret": notification_secret})
    finally:
        hub.close()
    console().print(f"{channel}: credentials stored")
    if generated:  # shown once: the forwarder that posts to /webhooks/amazon must sign with it
        console().print(f"notification secret for the forwarder (X-Omnihub-Hmac-Sha256): {notification_secret}")


@channels_app.command("import-shopify")
def import_shopify(channel: str = "shopify",
                   history_months: Annotated[int, typer.Option(help="open orders to import: those created in the last 1, 2 or 6 months")] = 1,
                   database_url: DbOpt = None) -> None:
    """Initial set-up: map locations, import the whole catalog (bulk operation), import open orders."""
    from omnihub.adapters.channels.connectors import build_shopify
    from omnihub.entrypoints.cli.shop_import import run_import
    from omnihub.services.order_history import HISTORY_MONTHS

    if history_months not in HISTORY_MONTHS:
        raise typer.BadParameter("the order history window is 1, 2 or 6 months", param_hint="--history-months")
    hub = _hub(database_url, relay=True)
    try:
        secrets = hub.vault.get(channel)
        if not secrets:
            raise CliError(f"{channel} is not connected: run `omnihub channels connect-shopify` first")
        conn = build_shopify(channel, secrets)
        try:
            run_import(hub, conn.client, channel=channel, history_months=history_months, console=console())
        finally:
            conn.client.close()
    finally:
        hub.close()


def register(app: typer.Typer, bench_app: typer.Typer) -> None:
    app.command("worker")(worker)
    bench_app.command("sync")(bench_sync_cmd)
    from omnihub.entrypoints.cli.fulfilment_commands import register as register_fulfilments

    register_fulfilments(sync_app)
    app.add_typer(sync_app, name="sync")
    app.add_typer(channels_app, name="channels")
