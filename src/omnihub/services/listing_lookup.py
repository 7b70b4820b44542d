"""Which hub SKU each of a page of channel item ids is, without the catalog in memory.

Jobs that walk what a channel shows (the level snapshot, reconciliation) see the channel's
items in the channel's order, a page at a time. The channel's listings are copied once per
run into the run's spool (job_spool.py), read from the hub in keyset pages, keyed by the
item's number; each page of the channel's items is then one indexed lookup there.

An item id is matched whatever form the hub stored it in (a Shopify gid or its number, an
Amazon seller SKU as is): a listing maps by its inventory item, or (when asked, as on
Amazon) by its external id when it has no inventory item.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from omnihub.adapters.db import tables as t
from omnihub.services.job_spool import JobSpool

PAGE = 2000  # listings read from the hub per statement


def item_number(ext: str | None) -> str:
    """`gid://shopify/InventoryItem/123` or 123 → '123' (an id without a slash is itself)."""
    return (ext or "").rsplit("/", 1)[-1]


class ListingIndex:
    def __init__(self, spool: JobSpool, engine: Engine, channel: str, *, by_external_id: bool = True) -> None:
        self.spool = spool
        spool.db.execute("CREATE TABLE IF NOT EXISTS listing_items (number TEXT PRIMARY KEY, sku TEXT NOT NULL)")
        spool.db.execute("CREATE INDEX IF NOT EXISTS listing_items_sku ON listing_items (sku)")
        li = t.channel_listings
        after = ""
        while True:
            with engine.connect() as conn:
                rows = conn.execute(sa.select(li.c.sku, li.c.external_id, li.c.external_inventory_item_id)
                                    .where(li.c.channel == channel, li.c.sku > after)
                                    .order_by(li.c.sku).limit(PAGE)).all()
            if not rows:
                return
            spool.put("INSERT OR REPLACE INTO listing_items VALUES (?, ?)",
                      [(item_number(inv or ext), sku) for sku, ext, inv in rows if inv or by_external_id])
            after = rows[-1].sku

    def skus(self, item_ids: Sequence[str]) -> dict[str, str]:
        """item id as given → hub SKU, for the ids a listing maps."""
        numbers = sorted({item_number(i) for i in item_ids})
        found = dict(self.spool.lookup("SELECT number, sku FROM listing_items WHERE number", numbers))
        return {i: found[item_number(i)] for i in item_ids if item_number(i) in found}
