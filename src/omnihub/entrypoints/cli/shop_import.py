"""`omnihub channels import-shopify`: the initial set-up of a Shopify shop, on screen.

Locations, then the whole catalog (one bulk operation, streamed), then the open orders of
the chosen history window, each step with a live counter, and a summary at the end: what
was created, what was already there, and every row left out or imported without its
barcode, so the merchant can fix them in Shopify and run the import again (it is
idempotent).
"""

from __future__ import annotations

from rich.console import Console
from rich.progress import BarColumn, Progress, SpinnerColumn, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Table


def run_import(hub, client, *, channel: str, history_months: int, console: Console) -> dict:
    from omnihub.services.channel_setup import import_shopify_shop
    from omnihub.services.order_history import import_open_orders

    columns = (SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed:,}"),
               TimeElapsedColumn())
    with Progress(*columns, console=console, transient=False) as bar:
        tasks: dict[str, TaskID] = {}

        def progress(what: str, n: int) -> None:
            if what not in tasks:
                tasks[what] = bar.add_task(what, total=None)
            bar.update(tasks[what], completed=n)

        setup = import_shopify_shop(hub.catalog, client, channel=channel, read_levels=False, progress=progress)
        orders = import_open_orders(hub.engine, client, hub.orders.ingest_many, months=history_months, channel=channel,
                                    progress=progress)
        for task in tasks.values():
            bar.update(task, total=bar.tasks[task].completed or 1)
    summary = {**setup.as_dict(), **orders.as_dict()}
    console.print(summary_table(summary))
    if setup.skipped:
        console.print(rejected_table(setup.skipped))
    return summary


def summary_table(summary: dict) -> Table:
    table = Table(title="Shopify set-up", show_header=False)
    table.add_column("what", style="bold")
    table.add_column("count", justify="right")
    rows = [("locations mapped (created)", f"{summary['locations_mapped']} ({summary['locations_created']})"),
            ("catalog read by", summary["catalog_source"]),
            ("products read / created / updated",
             f"{summary['products_read']} / {summary['products_created']} / {summary['products_updated']}"),
            ("variants created / updated", f"{summary['variants_created']} / {summary['variants_updated']}"),
            ("listings (Shopify ids) mapped", str(summary["listings"])),
            ("images", str(summary["images"])),
            ("rows rejected or without barcode", str(summary["rejected"])),
            (f"open orders since {summary['since'][:10]} ({summary['months']} months)",
             f"{summary['orders_seen']} seen, {summary['orders_new']} new, {summary['orders_known']} known, "
             f"{summary['orders_failed']} failed")]
    for what, count in rows:
        table.add_row(what, count)
    return table


def rejected_table(messages: list[str], limit: int = 50) -> Table:
    table = Table(title=f"{len(messages)} catalog rows to fix in Shopify" + (f" (first {limit})" if len(messages) > limit else ""))
    table.add_column("row")
    for message in messages[:limit]:
        table.add_row(message)
    return table
