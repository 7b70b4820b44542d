"""Where each product poll of a channel has read up to: a durable cursor per poll.

"New products" follows `created_at`, "product updates" follows `updated_at`; each cursor
is Shopify's own timestamp (whole seconds, its clock) of the newest product applied, so
the hub's clock never enters the comparison. A full catalog read starts both cursors at
the moment Shopify began reading (the bulk operation's createdAt): whatever changed after
that is newer than the cursor. A cursor moves only after what was read was applied.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy.engine import Engine

from omnihub.services.channel_polling import read_cursor, write_cursor


@dataclass(frozen=True)
class ProductPoll:
    """One incremental product poll: its cursor, the search field, the product field."""

    kind: str
    cursor: str
    search_field: str
    node_field: str
    sort_key: str


NEW = ProductPoll("new", "products.created_at", "created_at", "created_at", "CREATED_AT")
UPDATED = ProductPoll("updated", "products.updated_at", "updated_at", "updated_at", "UPDATED_AT")
POLLS = {p.kind: p for p in (NEW, UPDATED)}


def shopify_time(moment: datetime) -> str:
    """Shopify's timestamp form: UTC, whole seconds, 'Z'."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_shopify_time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def catalog_read_at(engine: Engine, channel: str, started: str) -> None:
    """A full catalog read that began at `started` (Shopify's time) was applied: both polls
    go on from there."""
    for poll in POLLS.values():
        write_cursor(engine, channel, poll.cursor, started)


def cursor_of(engine: Engine, channel: str, poll: ProductPoll) -> str | None:
    return read_cursor(engine, channel, poll.cursor)


def advance(engine: Engine, channel: str, poll: ProductPoll, newest: str) -> None:
    """Move the cursor forward to `newest`; never back (an overlapping read may end older)."""
    stored = read_cursor(engine, channel, poll.cursor)
    if stored is None or parse_shopify_time(newest) > parse_shopify_time(stored):
        write_cursor(engine, channel, poll.cursor, newest)
