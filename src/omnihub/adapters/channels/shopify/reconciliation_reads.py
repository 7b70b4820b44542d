"""Reading what Shopify shows, for reconciliation: every inventory level of each mapped
location (a large estate in one bulk query, bulk_levels.py; a small one page by page,
location_levels.py: Admin GraphQL, 250 a page, the read the level snapshot poll and the
set-up share), and the orders updated since the window opened (the same paged query and
mapping the order poll uses; `cancelledAt` and `cancelReason` say which the channel
cancelled), and the orders it still shows unfulfilled."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime

from pydantic import BaseModel, ValidationError

from omnihub.adapters.channels.shopify import documents as docs
from omnihub.adapters.channels.shopify.bulk_levels import bulk_levels
from omnihub.adapters.channels.shopify.location_levels import PAGE, location_gid, location_levels
from omnihub.adapters.channels.shopify.order_mapping import ShopifyPayloadError, numeric_id, order_from_graphql
from omnihub.adapters.channels.snapshots import OrderHeader, ShownLevel
from omnihub.domain.orders import SHOPIFY, SHOPIFY_POS, Order


class _OrderHead(BaseModel):
    id: str
    updatedAt: datetime
    cancelledAt: datetime | None = None
    cancelReason: str | None = None


class ShopifyReader:
    order_channels: tuple[str, ...] = (SHOPIFY, SHOPIFY_POS)
    inbox_source = "shopify"

    def __init__(self, client, *, channel: str = SHOPIFY, page: int = PAGE, order_page: int = 5,
                 bulk_from: int | None = None) -> None:
        # 5 orders a page: each costs ~150 points (50 line items), under the 1,000-point limit.
        self.client = client
        self.channel = channel
        self.page = page
        self.order_page = order_page
        self.bulk_from = bulk_from  # levels expected from which one bulk query reads them (None: never; the
        # entry points set bulk_levels.BULK_FROM)

    def levels(self, location_ids: list[str], expected: int = 0) -> Iterator[ShownLevel]:
        """Every level at each location, read as it is consumed: by one bulk query when
        about `expected` levels are at least `bulk_from` (started at once, so Shopify
        works while the caller reads the hub), else page by page."""
        if self.bulk_from is not None and expected >= self.bulk_from:
            return bulk_levels(self.client, location_ids)
        return self._paged_levels(location_ids)

    def _paged_levels(self, location_ids: list[str]) -> Iterator[ShownLevel]:
        for ext in location_ids:
            gid = location_gid(ext)
            for lv in location_levels(self.client, gid, page=self.page):
                yield ShownLevel(lv.item_id, gid, lv.available or 0, lv.committed or 0, lv.sku)

    def order_headers(self, since: datetime) -> Iterator[OrderHeader]:
        """The orders updated since `since`, page by page as they are consumed."""
        search = f"updated_at:>'{since.astimezone(UTC).strftime('%Y-%m-%dT%H:%M:%SZ')}'"
        after = None
        while True:
            conn = self.client.execute(docs.ORDERS_UPDATED, {"first": self.order_page, "after": after, "query": search})["orders"]
            for node in conn["nodes"]:
                try:
                    head = _OrderHead.model_validate(node)
                except ValidationError as exc:
                    raise ShopifyPayloadError(f"order not understood: {exc}") from exc
                yield OrderHeader(numeric_id(head.id), head.updatedAt, node, cancelled=head.cancelledAt is not None,
                                  cancel_reason=head.cancelReason)
            if not conn["pageInfo"]["hasNextPage"]:
                return
            after = conn["pageInfo"]["endCursor"]

    def order(self, header: OrderHeader, locate: Callable[[str], int | None]) -> Order:
        return order_from_graphql(header.raw, locate)

    def unshipped(self, since: datetime) -> Iterator[str]:
        """The ids of the orders placed since `since` that Shopify shows unfulfilled or
        partly fulfilled, page by page as they are consumed."""
        search = f"fulfillment_status:unfulfilled created_at:>'{since.astimezone(UTC).strftime('%Y-%m-%dT%H:%M:%SZ')}'"
        after = None
        while True:
            conn = self.client.execute(docs.ORDERS_UNFULFILLED, {"first": 250, "after": after, "query": search})["orders"]
            for node in conn["nodes"]:
                if not isinstance(node, dict) or not isinstance(node.get("id"), str):
                    raise ShopifyPayloadError(f"order not understood: {node!r}"[:300])
                yield numeric_id(node["id"])
            if not conn["pageInfo"]["hasNextPage"]:
                return
            after = conn["pageInfo"]["endCursor"]
