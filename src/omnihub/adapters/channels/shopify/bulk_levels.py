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
from omnihub.adapters.channels.shopify.location_levels import LocationLevel, location_gid
from omnihub.adapters.channels.shopify.order_mapping import ShopifyPayloadError, numeric_id

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


def bulk_levels(client, location_ids: list[str], *, bulk: BulkQuery | None = None
                ) -> Iterator[tuple[str, LocationLevel]]:
    """Starts the bulk query now (Shopify works on it while the caller does something
    else), and returns (location gid, level) for every level at the given locations (gids
    or numbers), in the order of Shopify's file, as they are consumed. Raises
    BulkOperationBusy if Shopify will not start another operation now; reading raises
    ShopifyPayloadError on a line it cannot read."""
    wanted = {location_gid(x) for x in location_ids}
    bulk = bulk or BulkQuery(client, max_poll_s=1.0)  # polls cost a point; a late look costs the run seconds
    operation_id = bulk.start(LEVELS_BULK_QUERY).id
    return _levels_of(bulk, operation_id, wanted)


def _levels_of(bulk: BulkQuery, operation_id: str, wanted: set[str]) -> Iterator[tuple[str, LocationLevel]]:
    operation = bulk.wait(operation_id)
    for line in bulk.lines(operation.url):
        parent = line.get("__parentId")
        if parent is None or parent not in wanted:  # a location's own line, or an unmapped location's level
            continue
        try:  # checked by hand, not by a model: a million lines take seconds fewer
            item = line["item"]
            q = {x["name"]: x["quantity"] for x in line["quantities"]}
            available, committed = q.get("available"), q.get("committed")
            if not isinstance(item["id"], str) or not all(v is None or type(v) is int for v in (available, committed)):
                raise TypeError("ids are strings and quantities integers")
            sku = item.get("sku")
            yield parent, LocationLevel(numeric_id(item["id"]), sku if isinstance(sku, str) else None, available,
                                        committed)
        except (KeyError, TypeError, AttributeError) as exc:
            raise ShopifyPayloadError(f"bulk inventory level not understood ({exc}): {str(line)[:300]}") from exc
