"""`omnihub audit`: the audit trail as a table, newest first, with the API's filters
(GET /api/v1/audit). `--cursor` takes the id the previous page ended with."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated, Optional

import typer
from rich.table import Table

from omnihub.entrypoints.cli.errors import CliError
from omnihub.entrypoints.cli.terminal import console

DbOpt = Annotated[Optional[str], typer.Option("--database-url", help="overrides OMNIHUB_DATABASE_URL")]


def _when(value: str | None, option: str) -> datetime | None:
    if value is None:
        return None
    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        raise CliError(f"{option} {value!r}: an ISO date or time (2026-12-02, 2026-12-02T10:30+01:00)") from None
    if when.tzinfo is None:
        from datetime import UTC

        when = when.replace(tzinfo=UTC)  # a time without a zone is UTC, as the trail shows it
    return when


def _change(item: dict) -> str:
    before, after = item["before"], item["after"]
    if before is None and after is None:
        return ""
    if isinstance(before, dict) and isinstance(after, dict):
        keys = [k for k in dict.fromkeys([*before, *after]) if before.get(k) != after.get(k)]
        return "; ".join(f"{k}: {json.dumps(before.get(k))} → {json.dumps(after.get(k))}" for k in keys)[:300]
    return f"{json.dumps(before)} → {json.dumps(after)}"[:300]


def audit(actor: Annotated[Optional[str], typer.Option(help="token, user:3, a user's e-mail, local_admin ...")] = None,
          action: Annotated[Optional[str], typer.Option(help="stock.receive, or a family: stock")] = None,
          target: Annotated[Optional[str], typer.Option(help="the beginning of the target: sku=A, order_id=12")] = None,
          since: Annotated[Optional[str], typer.Option(help="from this time on (ISO; UTC without a zone)")] = None,
          until: Annotated[Optional[str], typer.Option(help="before this time")] = None,
          cursor: Annotated[Optional[int], typer.Option(min=1, help="the last id of the previous page")] = None,
          limit: Annotated[int, typer.Option(min=1, max=500)] = 50,
          database_url: DbOpt = None) -> None:
    """Who changed what, when, from where: the audit trail, newest first."""
    from omnihub.entrypoints.cli.which_hub import open_hub
    from omnihub.services.audit_trail import AuditFilter

    f = AuditFilter(actor=actor, action=action, target=target, since=_when(since, "--since"), until=_when(until, "--until"))
    hub = open_hub(database_url)
    try:
        items, next_id = hub.audit.page(f, after_id=cursor, limit=limit)
    finally:
        hub.close()
    table = Table("id", "when (UTC)", "who", "from", "action", "target", "change", title="audit trail")
    for item in items:
        who = item["actor"]
        table.add_row(str(item["id"]), item["at"].strftime("%Y-%m-%d %H:%M:%S"), f"{who['kind']} {who['name']}",
                      item["address"], item["action"], item["target"], _change(item))
    out = console()
    out.print(table)
    if next_id is not None:
        out.print(f"more: --cursor {next_id}")
