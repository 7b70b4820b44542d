"""`omnihub sync fulfilments`: tell the channels about the hub's shipments now (the worker
does it every 30 minutes); `fulfilment-failures` lists the ones that failed or are parked,
with the channel's last answer; `fulfilment-retry ID` makes one due again now (the
worker's next run, or `sync fulfilments`, sends it)."""

from __future__ import annotations

import json
from typing import Annotated, Optional

import typer
from rich.table import Table

from omnihub.entrypoints.cli.errors import CliError
from omnihub.entrypoints.cli.terminal import console

DbOpt = Annotated[Optional[str], typer.Option("--database-url", help="overrides OMNIHUB_DATABASE_URL")]


def _job(database_url: str | None):
    from omnihub.adapters.channels.connectors import build_amazon, build_shopify
    from omnihub.entrypoints.cli.sync_commands import _hub
    from omnihub.entrypoints.worker import fulfilment_sync

    hub = _hub(database_url)
    try:
        shopify = build_shopify("shopify", s) if (s := hub.vault.get("shopify")) else None
        amazon = build_amazon("amazon_seller", s) if (s := hub.vault.get("amazon_seller")) else None
    except BaseException:  # e.g. no OMNIHUB_SECRET_KEY: the hub is closed before the error is told
        hub.close()
        raise
    return hub, fulfilment_sync(hub, shopify=shopify, amazon=amazon), [c for c in (shopify, amazon) if c]


def fulfilments(retry_dead: Annotated[bool, typer.Option(help="give parked shipments fresh attempts first")] = False,
                database_url: DbOpt = None) -> None:
    """Send the shipments the channels have not been told about yet, now."""
    hub, job, connectors = _job(database_url)
    try:
        if not job.notifiers:
            raise CliError("no channel connected: run `omnihub channels connect-shopify|connect-amazon` first")
        revived = job.retry() if retry_dead else 0
        run = job.run_once()
    finally:
        for c in connectors:
            c.client.close()
        hub.close()
    console().print_json(json.dumps({"revived": revived, **run.__dict__}, default=str))
    if run.dead:
        raise typer.Exit(2)


def fulfilment_failures(database_url: DbOpt = None) -> None:
    """Shipments parked (dead) or waiting for a retry, with the channel's last answer."""
    from omnihub.entrypoints.cli.sync_commands import _hub
    from omnihub.services.fulfilment_sync import FulfilmentSync

    hub = _hub(database_url)
    try:
        rows = FulfilmentSync(hub.engine).failures()
    finally:
        hub.close()
    table = Table(title=f"{len(rows)} fulfilments not sent")
    for col in ("id", "channel", "order", "shipment", "state", "attempts", "last error"):
        table.add_column(col)
    for r in rows:
        table.add_row(str(r["id"]), r["channel"], str(r["order_id"]), r["shipment_id"], r["state"], str(r["attempts"]),
                      (r["last_error"] or "")[:80])
    console().print(table)


def fulfilment_retry(fulfilment_id: int, database_url: DbOpt = None) -> None:
    """Give a failed or parked shipment a fresh set of attempts, due now."""
    from omnihub.entrypoints.cli.sync_commands import _hub
    from omnihub.services.fulfilment_sync import FulfilmentSync

    hub = _hub(database_url)
    try:
        revived = FulfilmentSync(hub.engine).retry(fulfilment_id)
    finally:
        hub.close()
    if not revived:
        raise CliError(f"no failed or parked fulfilment {fulfilment_id}")
    console().print(f"fulfilment {fulfilment_id} due again")


def register(sync_app: typer.Typer) -> None:
    sync_app.command("fulfilments")(fulfilments)
    sync_app.command("fulfilment-failures")(fulfilment_failures)
    sync_app.command("fulfilment-retry")(fulfilment_retry)
