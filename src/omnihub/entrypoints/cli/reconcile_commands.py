"""`omnihub sync reconcile <channel>`: compare a channel with the hub now (the worker does
it on its schedule), repair what can be repaired, and show every difference with its
class and what was done; `omnihub sync reconciliations` lists past runs."""

from __future__ import annotations

from typing import Annotated, Optional

import typer
from rich.markup import escape
from rich.table import Table

from omnihub.entrypoints.cli.terminal import console

DbOpt = Annotated[Optional[str], typer.Option("--database-url", help="overrides OMNIHUB_DATABASE_URL")]
STYLE = {"drift_repaired": "yellow", "missed_order": "yellow", "missed_order_update": "yellow", "missed_pos_sale": "yellow",
         "dead_letter": "red", "unknown_sku": "magenta", "unsold_on_channel": "magenta", "order_not_understood": "red",
         "order_parked": "yellow", "push_pending": "dim", "shipment_unmarked": "yellow", "missed_cancellation": "yellow",
         "cancelled_after_shipment": "red"}


def _findings_table(run: dict) -> Table:
    table = Table(title=f"run {run['id']} of {run['channel']}: {len(run['findings'])} differences")
    for col in ("class", "sku", "location", "channel id", "hub", "channel", "repaired", "action"):
        table.add_column(col)
    for f in run["findings"]:
        style = STYLE.get(f["kind"], "")
        table.add_row(f"[{style}]{f['kind']}[/]" if style else f["kind"], f["sku"] or "", f["location"] or "",
                      f["external_id"] or "", "" if f["hub_quantity"] is None else str(f["hub_quantity"]),
                      "" if f["channel_quantity"] is None else str(f["channel_quantity"]),
                      "yes" if f["repaired"] else "no", f["action"])
    return table


def reconcile(channel: Annotated[str, typer.Argument(help="a connected channel: shopify, amazon_seller, ...")],
              database_url: DbOpt = None) -> None:
    """Reconcile one channel now: read its levels and orders, classify and repair differences."""
    from omnihub.entrypoints.cli.sync_commands import _hub
    from omnihub.entrypoints.reconciliation_wiring import connect

    hub = _hub(database_url)
    close = lambda: None  # noqa: E731
    out = console()
    try:  # not connected (UnknownChannel), a run already going (RunInProgress): errors.py says so in one line
        job, close = connect(hub, channel)
        with out.status(f"reconciling {channel}"):
            run = job.run(channel, trigger="cli")
    finally:
        close()
        hub.close()
    if run is None:
        raise RuntimeError(f"the reconciliation run of {channel} was gone when it ended")
    out.print(_findings_table(run))
    summary = ", ".join(f"{k} {v}" for k, v in run["summary"].items()) or "no differences"
    out.print(f"[bold]{run['state']}[/]: {run['levels_compared']} levels and {run['orders_compared']} orders compared; "
              f"{summary}")
    if run["error"]:
        out.print(f"[red]{escape(str(run['error']))}[/]")
        raise typer.Exit(2)


def reconciliations(channel: Optional[str] = None, limit: int = 20, database_url: DbOpt = None) -> None:
    """Past reconciliation runs, newest first."""
    from omnihub.entrypoints.cli.sync_commands import _hub
    from omnihub.services.reconciliation import Reconciliation

    hub = _hub(database_url)
    try:
        rows = Reconciliation(hub.engine, hub.sync, hub.orders.ingest_many, hub.inventory.record_sale).runs(channel, limit)
    finally:
        hub.close()
    table = Table(title=f"{len(rows)} reconciliation runs")
    for col in ("id", "channel", "state", "trigger", "started", "levels", "orders", "findings"):
        table.add_column(col)
    for r in rows:
        table.add_row(str(r["id"]), r["channel"], r["state"], r["trigger"], r["started_at"].isoformat(timespec="seconds"),
                      str(r["levels_compared"]), str(r["orders_compared"]),
                      ", ".join(f"{k} {v}" for k, v in (r["summary"] or {}).items()))
    console().print(table)


def register(sync_app: typer.Typer) -> None:
    sync_app.command("reconcile")(reconcile)
    sync_app.command("reconciliations")(reconciliations)
