"""`omnihub customers redact|export|requests`: privacy requests that reach the merchant
outside Shopify's webhooks (CCPA, GDPR by mail, a store's counter), run by the same
service as the webhooks and the API (services/customer_privacy.py)."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.table import Table

from omnihub.entrypoints.cli.errors import CliError
from omnihub.entrypoints.cli.terminal import console

customers_app = typer.Typer(help="Customers' personal data: erase it, or export it for them (privacy requests).",
                            no_args_is_help=True)
DbOpt = Annotated[Optional[str], typer.Option("--database-url", help="overrides OMNIHUB_DATABASE_URL")]
EmailOpt = Annotated[Optional[list[str]], typer.Option("--email", help="the customer's e-mail (repeatable)")]
PhoneOpt = Annotated[Optional[list[str]], typer.Option("--phone", help="the customer's phone (repeatable)")]
ChannelIdOpt = Annotated[Optional[list[str]], typer.Option(
    "--channel-customer", help="CHANNEL:ID, the customer's id on a channel (repeatable)")]
OrderOpt = Annotated[Optional[list[str]], typer.Option("--order", help="CHANNEL:EXTERNAL_ID, an order of theirs (repeatable)")]
RefOpt = Annotated[Optional[str], typer.Option("--reference", help="your ticket or case number, kept with the request")]


def _pairs(values: list[str] | None, what: str) -> list[tuple[str, str]]:
    out = []
    for v in values or ():
        channel, sep, ident = v.partition(":")
        if not sep or not channel or not ident:
            raise CliError(f"{what} {v!r} is not CHANNEL:ID")
        out.append((channel, ident))
    return out


def _subject(email, phone, channel_customer, order):
    from omnihub.domain.personal_data import Subject

    subject = Subject.of(emails=email or (), phones=phone or (), channel_ids=_pairs(channel_customer, "--channel-customer"),
                         orders=_pairs(order, "--order"))
    if subject.is_empty:
        raise CliError("name the customer: --email, --phone, --channel-customer or --order")
    return subject


def _run(database_url, fn):
    from omnihub.entrypoints.cli.which_hub import open_hub
    from omnihub.services.customer_privacy import PrivacyRequestError

    hub = open_hub(database_url)
    try:
        return fn(hub)
    except PrivacyRequestError as exc:
        raise CliError(str(exc)) from exc
    finally:
        hub.close()


@customers_app.command("redact")
def redact(email: EmailOpt = None, phone: PhoneOpt = None, channel_customer: ChannelIdOpt = None, order: OrderOpt = None,
           reference: RefOpt = None,
           yes: Annotated[bool, typer.Option("--yes", help="do not ask for confirmation")] = False,
           database_url: DbOpt = None) -> None:
    """Erase a customer's personal data from orders, profiles and stored payloads (orders keep
    their lines, totals and ledger). This cannot be undone."""
    subject = _subject(email, phone, channel_customer, order)
    if not yes and not typer.confirm("Erase this customer's personal data everywhere in the hub? This cannot be undone"):
        raise typer.Exit(1)
    result = _run(database_url, lambda hub: hub.privacy.redact(subject, source="cli", reference=reference))
    console().print(f"request {result['id']}: erased from {result['orders']} orders, {result['customers']} customer "
                    f"profiles, {result['payloads']} stored payloads, {result['texts']} messages and "
                    f"{result['exports']} earlier exports")


@customers_app.command("export")
def export(email: EmailOpt = None, phone: PhoneOpt = None, channel_customer: ChannelIdOpt = None, order: OrderOpt = None,
           reference: RefOpt = None,
           out: Annotated[Optional[Path], typer.Option("--out", help="also copy the file here")] = None,
           database_url: DbOpt = None) -> None:
    """Export everything the hub holds about a customer as one JSON file (a data request)."""
    subject = _subject(email, phone, channel_customer, order)

    def run(hub):
        record = hub.privacy.export(subject, source="cli", reference=reference)
        return record, hub.privacy.export_path(record["id"])

    record, path = _run(database_url, run)
    if out:
        shutil.copyfile(path, out)
        path = out
    s = record["summary"]
    console().print(f"data request {record['id']}: {s['customers']} profiles, {s['orders']} orders, "
                    f"{s['payloads']} payloads → {path}")


@customers_app.command("requests")
def requests(limit: int = 50, database_url: DbOpt = None) -> None:
    """Privacy requests, newest first (never whom they were about)."""
    rows = _run(database_url, lambda hub: hub.privacy.list_requests(limit))
    table = Table(title=f"{len(rows)} privacy requests")
    for col in ("id", "kind", "source", "reference", "state", "when", "summary"):
        table.add_column(col)
    for r in rows:
        table.add_row(str(r["id"]), r["kind"], r["source"], r["reference"] or "", r["state"], str(r["created_at"])[:19],
                      ", ".join(f"{k} {v}" for k, v in (r["summary"] or {}).items()))
    console().print(table)
