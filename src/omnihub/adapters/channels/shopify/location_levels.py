"""Every inventory level Shopify shows at one location, page by page (Admin GraphQL
`location(id) { inventoryLevels }`, 250 a page: ~750 points, under the 1,000-point limit).

Three readers need it and read it the same way, so the document and the paging live
here once: reconciliation (reconciliation_reads.py), the level snapshot poll
(services/channel_polling.py) and the opening stock at set-up (services/channel_setup.py).
Every level is read, mapped or not (an item the hub does not know is a reconciliation
finding), with its SKU and `committed`; the poll and the set-up keep the mapped items'
`available`. Each page is validated with pydantic before it becomes levels.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

from pydantic import BaseModel, ValidationError

from omnihub.adapters.channels.shopify import documents as docs
from omnihub.adapters.channels.shopify.order_mapping import ShopifyPayloadError, numeric_id

PAGE = 250


@dataclass(frozen=True, slots=True)
class LocationLevel:
    item_id: str  # the inventory item number (not its gid)
    sku: str | None  # the SKU Shopify shows for it
    available: int | None  # None: Shopify did not say
    committed: int | None  # units set aside for online orders Shopify assigned here
    # When the page was asked for: Shopify's figure is at least this recent, and a push
    # the hub saw acknowledged after it is newer than this figure (services/channel_polling).
    read_at: datetime | None = None


class _Quantity(BaseModel):
    name: str
    quantity: int


class _Item(BaseModel):
    id: str
    sku: str | None = None


class _Level(BaseModel):
    item: _Item
    quantities: list[_Quantity]


class _PageInfo(BaseModel):
    hasNextPage: bool
    endCursor: str | None = None


class _Levels(BaseModel):
    nodes: list[_Level]
    pageInfo: _PageInfo


def location_gid(location_id: str) -> str:
    """The hub stores a location's Shopify id as a gid or as its number; Shopify wants the gid."""
    return location_id if location_id.startswith("gid://") else f"gid://shopify/Location/{location_id}"


def location_levels(client, location_id: str, *, page: int = PAGE) -> Iterator[LocationLevel]:
    """Every level at the location, `page` a call; none if the location is gone from Shopify.
    Raises ShopifyPayloadError on a page it does not understand."""
    gid = location_gid(location_id)
    after = None
    while True:
        asked = datetime.now(UTC)
        data = client.execute(docs.RECONCILE_LOCATION_LEVELS, {"id": gid, "first": page, "after": after})
        location = data.get("location")
        if location is None:  # the location is gone from Shopify: nothing shown there
            return
        try:
            levels = _Levels.model_validate(location["inventoryLevels"])
        except (ValidationError, KeyError, TypeError) as exc:
            raise ShopifyPayloadError(f"inventory levels of {gid} not understood: {exc}") from exc
        for node in levels.nodes:
            q = {x.name: x.quantity for x in node.quantities}
            yield LocationLevel(numeric_id(node.item.id), node.item.sku, q.get("available"), q.get("committed"), asked)
        if not levels.pageInfo.hasNextPage:
            return
        after = levels.pageInfo.endCursor
