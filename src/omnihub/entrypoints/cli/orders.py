"""`omnihub orders ...` and `omnihub rules ...`: the order desk from a terminal."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.table import Table
from rich.tree import Tree

from omnihub.entrypoints.cli.errors import CliError
from omnihub.entrypoints.cli.terminal import console
from omnihub.services.order_queries import latest_orders

orders_app = typer.Typer(help="Orders: list, show with the routing explanation, cancel, retry the queue.", no_args_is_help=True)
rules_app = typer.Typer(help="Routing rules: show the version in force, install a new one.", no_args_is_help=True)
DbOpt = Annotated[Optional[str], typer.Option("--database-url", help="overrides OMNIHUB_DATABASE_URL")]


def _hub(database_url: str | None):
    """The hub the command means (which_hub); it must exist: none of these commands sets one up."""
    from omnihub.entrypoints.cli.which_hub import open_hub

    return open_hub(database_url)


@orders_app.command("list")
def list_orders(state: Optional[str] = None, channel: Optional[str] = None, limit: int = 20, database_url: DbOpt = None) -> None:
    hub = _hub(database_url)
    try:
        rows = latest_orders(hub.engine, state=state, channel=channel, limit=limit)
    finally:
        hub.close()
    table = Table("id", "channel", "external id", "state", "value", "placed")
    for r in rows:
        table.add_row(str(r.id), r.channel, r.external_id, r.state, f"{r.order_value_minor / 100:.2f} {r.currency}", str(r.placed_at))
    console().print(table)


@orders_app.command("show")
def show(order_id: int, database_url: DbOpt = None) -> None:
    """An order, its assignments and why it was routed where it was."""
    from omnihub.entrypoints.api.routes_orders import read_order

    hub = _hub(database_url)
    try:
        o = read_order(order_id, hub)  # a local admin reads the whole order
    finally:
        hub.close()
    tree = Tree(f"[bold]order {o['id']}[/] {o['channel']}:{o['external_id']} — {o['state']}"
                + (f" (holds: {'; '.join(o['holds'])})" if o["holds"] else ""))
    lines = tree.add("lines")
    for ln in o["document"]["lines"]:
        lines.add(f"{ln['line_id']}: {ln['quantity']} × {ln['sku']}" + (f" ({ln['cancelled_quantity']} cancelled)" if ln["cancelled_quantity"] else ""))
    assigned = tree.add("assignments")
    for a in o["assignments"]:
        assigned.add(f"line {a['line_id']}: {a['quantity']} × {a['sku']} at {a['location']} — {a['state']}"
                     + (f" ({a['carrier']} {a['tracking_number']})" if a["tracking_number"] else ""))
    for d in o["routing"]:
        exp = d["explanation"] if isinstance(d["explanation"], dict) else json.loads(d["explanation"])
        node = tree.add(f"routing decision {d['id']}: {d['outcome']} by rule {exp['rule']!r} (rules v{d['rule_set_version']})")
        for tr in exp["trace"]:
            rn = node.add(f"rule {tr['rule']}: {tr['result']}")
            for r in tr["ranked"][:5]:
                rn.add(f"#{r['rank']} location {r['location_id']} {r['sort_keys']}")
            for r in tr["rejected"][:5]:
                rn.add(f"[dim]rejected location {r['location_id']}: {r['filter']} (wanted {r.get('expected')}, had {r.get('actual')})[/]")
        for u in exp["unassigned"]:
            node.add(f"[yellow]{u['quantity']} × {u['sku']} {u['disposition']}: {u['reason']}[/]")
    console().print(tree)


@orders_app.command("cancel")
def cancel(order_id: int, line: Annotated[Optional[list[str]], typer.Option(help="LINE_ID:UNITS; omit to cancel all")] = None,
           reason: str = "cancelled", database_url: DbOpt = None) -> None:
    lines = None
    if line:
        lines = {}
        for item in line:
            lid, _, n = item.partition(":")
            if n and not (n.isdigit() and int(n) > 0):
                raise typer.BadParameter(f"{item!r}: the units after ':' are a whole number > 0", param_hint="--line")
            lines[lid] = int(n or 1)
    hub = _hub(database_url)
    try:
        from omnihub.entrypoints.cli.access_commands import cli_principal

        console().print(hub.order_ops.cancel(order_id, lines, reason, actor=cli_principal().actor).as_dict())
    finally:
        hub.close()


@orders_app.command("retry-queue")
def retry_queue(limit: int = 500, database_url: DbOpt = None) -> None:
    """Route again the queued orders whose retry time has come."""
    from omnihub.entrypoints.cli.access_commands import cli_principal

    hub = _hub(database_url)
    try:
        results = hub.orders.retry_queue(limit=limit, actor=cli_principal().actor)
    finally:
        hub.close()
    console().print(f"{len(results)} order(s) retried")


@rules_app.command("show")
def rules_show(database_url: DbOpt = None) -> None:
    hub = _hub(database_url)
    try:
        console().print_json(json.dumps(hub.rules.get()))
    finally:
        hub.close()


@rules_app.command("set")
def rules_set(file: Path, comment: Optional[str] = None, database_url: DbOpt = None) -> None:
    """Install the rules in FILE (JSON) as a new version."""
    from omnihub.entrypoints.cli.input_files import read_json_file

    rules = read_json_file(file)
    if not isinstance(rules, dict):
        raise CliError(f"{file}: the rules are a JSON object ({{\"rules\": [...]}}), not a {type(rules).__name__}")
    hub = _hub(database_url)
    try:
        saved = hub.rules.save(rules, comment=comment, actor="cli")
    finally:
        hub.close()
    console().print(f"routing rules version {saved['version']} in force ({len(saved['rules'])} rules)")
