"""Every inventory level of a shop in one Shopify bulk query, read as a stream.

Page by page (location_levels.py), a level costs about 3 points: a million levels are
3 M points, close to an hour of a Plus shop's bucket (1,000 points/s). A bulk query costs
no points per object: Shopify walks the connections itself and writes a JSONL file, each
location a line and its levels after it (groupObjects), each level with its item's id and
SKU and its `available` and `committed` (bulk_query.py streams the file, never whole).

Reconciliation takes this road for an estate of `BULK_FROM` levels or more; below that a
few paged calls cost less than the bulk operation's own start and polling.
"""

from __future__ import annotations

from collections.abc import Iterator

from omnihub.adapters.channels.shopify.bulk_query import BulkQuery
from omnihub.adapters.channels.shopify.location_levels import location_gid
from omnihub.adapters.channels.shopify.order_mapping import ShopifyPayloadError, numeric_id
from omnihub.adapters.channels.snapshots import ShownLevel

# Paged, 5,000 levels are 20 calls (~15,000 points, within a Plus bucket of 20,000): no
# wait. Beyond it each 250 levels wait ~0.75 s for points, and the bulk query is sooner.
BULK_FROM = 5_000

LEVELS_BULK_QUERY = """
{
  locations {
    edges { node { id
      inventoryLevels { edges { node {
        item { id sku }
        quantities(names: ["available", "committed"]) { name quantity }
      } } }
    } }
  }
}
"""


def bulk_levels(client, location_ids: list[str], *, bulk: BulkQuery | None = None) -> Iterator[ShownLevel]:
    """Starts the bulk query now (Shopify works on it while the caller does something
    else), and returns every level at the given locations (gids or numbers), in the order
    of Shopify's file, as they are consumed. Raises BulkOperationBusy if Shopify will not
    start another operation now; reading raises ShopifyPayloadError on a line it cannot
    read."""
    wanted = {location_gid(x) for x in location_ids}
    bulk = bulk or BulkQuery(client, max_poll_s=1.0)  # polls cost a point; a late look costs the run seconds
    operation_id = bulk.start(LEVELS_BULK_QUERY).id
    return _levels_of(bulk, operation_id, wanted)


def _levels_of(bulk: BulkQuery, operation_id: str, wanted: set[str]) -> Iterator[ShownLevel]:
    operation = bulk.wait(operation_id)
    for line in bulk.lines(operation.url):
        parent = line.get("__parentId")
        if parent is None or parent not in wanted:  # a location's own line, or an unmapped location's level
            continue
        try:  # checked by hand, not by a model: a million lines take seconds fewer
            item = line["item"]
            available = committed = None
            for q in line["quantities"]:
                if q["name"] == "available":
                    available = q["quantity"]
                elif q["name"] == "committed":
                    committed = q["quantity"]
            if type(item["id"]) is not str or type(available or 0) is not int or type(committed or 0) is not int:
                raise TypeError("ids are strings and quantities integers")
            sku = item.get("sku")
            yield ShownLevel(numeric_id(item["id"]), parent, available or 0, committed or 0,
                             sku if type(sku) is str else None)
        except (KeyError, TypeError, AttributeError) as exc:
            raise ShopifyPayloadError(f"bulk inventory level not understood ({exc}): {str(line)[:300]}") from exc
