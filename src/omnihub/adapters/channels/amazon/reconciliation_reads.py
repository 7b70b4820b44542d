"""Reading what Amazon shows, for reconciliation: every listing's sellable quantity
(the merchant listings report, GET_MERCHANT_LISTINGS_ALL_DATA: listings_report.py), and
the orders updated since the window opened (getOrders by LastUpdatedAfter); items are
fetched only for the orders the run ingests (getOrderItems is 0.5/s).

searchListingsItems (20 a page, fulfillmentAvailability DEFAULT = merchant-fulfilled),
with each listing's summary (ASIN, title, product type), is how set-up imports the
seller's Amazon catalog (services/amazon_setup.py). Amazon pages through at most 1,000
listings that way, which is why reconciliation reads the report, which has them all."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime

from pydantic import BaseModel, ValidationError

from omnihub.adapters.channels.amazon.listings_report import LISTINGS_ALL, reported_listings
from omnihub.adapters.channels.amazon.order_mapping import AmazonPayloadError, order_from_sp_api
from omnihub.adapters.channels.snapshots import OrderHeader, ShownLevel
from omnihub.domain.orders import Order


class _Availability(BaseModel):
    fulfillmentChannelCode: str
    quantity: int | None = None


class _Summary(BaseModel):
    marketplaceId: str | None = None
    asin: str | None = None
    productType: str | None = None
    itemName: str | None = None


class _Listing(BaseModel):
    sku: str
    summaries: list[_Summary] = []
    fulfillmentAvailability: list[_Availability] = []


@dataclass(frozen=True, slots=True)
class AmazonListing:
    """One of the seller's listings as Amazon shows it."""

    sku: str
    quantity: int  # merchant-fulfilled (DEFAULT) sellable quantity
    asin: str | None = None
    title: str | None = None
    product_type: str | None = None


class _Pagination(BaseModel):
    nextToken: str | None = None


class _SearchResults(BaseModel):
    numberOfResults: int
    items: list[_Listing]
    pagination: _Pagination | None = None


class _OrderHead(BaseModel):
    AmazonOrderId: str
    LastUpdateDate: datetime
    OrderStatus: str | None = None


class AmazonReader:
    inbox_source = "amazon"

    def __init__(self, client, *, channel: str = "amazon_seller") -> None:
        self.client = client
        self.channel = channel
        self.order_channels: tuple[str, ...] = (channel,)

    def levels(self, location_ids: list[str], expected: int = 0) -> Iterator[ShownLevel]:
        """Every listing's merchant-fulfilled quantity from a listings report asked for
        now (Amazon makes it while the run copies the hub's side), read as it downloads."""
        report_id = self.client.create_report(LISTINGS_ALL)
        return (ShownLevel(x.sku, "", x.quantity, 0, x.sku) for x in reported_listings(self.client, report_id))

    def listings(self) -> list[AmazonListing]:
        """Every listing of the seller (searchListingsItems, 20 a page), validated."""
        return list(self.each_listing())

    def each_listing(self) -> Iterator[AmazonListing]:
        """The seller's listings, page by page as they are consumed."""
        token = None
        while True:
            try:
                page = _SearchResults.model_validate(self.client.search_listings(page_token=token))
            except ValidationError as exc:
                raise AmazonPayloadError(f"searchListingsItems answer not understood: {exc}") from exc
            for item in page.items:
                mfn = next((a.quantity for a in item.fulfillmentAvailability if a.fulfillmentChannelCode == "DEFAULT"), None)
                summary = item.summaries[0] if item.summaries else _Summary()
                yield AmazonListing(item.sku, mfn or 0, summary.asin, summary.itemName, summary.productType)
            token = page.pagination.nextToken if page.pagination else None
            if not token:
                return

    def order_headers(self, since: datetime) -> Iterator[OrderHeader]:
        """The orders updated since `since`, page by page as they are consumed."""
        payload = self.client.get_orders(last_updated_after=since)
        while True:
            for raw in payload.get("Orders") or []:
                try:
                    head = _OrderHead.model_validate(raw)
                except ValidationError as exc:
                    raise AmazonPayloadError(f"getOrders answer not understood: {exc}") from exc
                cancelled = head.OrderStatus == "Canceled"
                yield OrderHeader(head.AmazonOrderId, head.LastUpdateDate, raw, cancelled=cancelled,
                                  cancel_reason="Canceled on Amazon" if cancelled else None)
            token = payload.get("NextToken")
            if not token:
                return
            payload = self.client.get_orders(next_token=token)

    def unshipped(self, since: datetime) -> Iterator[str]:
        """The ids of the orders placed since `since` that Amazon shows Unshipped (a
        partly shipped order is left alone: confirming a package again is refused),
        page by page as they are consumed."""
        payload = self.client.get_orders(created_after=since, statuses=("Unshipped",))
        while True:
            for raw in payload.get("Orders") or []:
                order_id = raw.get("AmazonOrderId") if isinstance(raw, dict) else None
                if not isinstance(order_id, str):
                    raise AmazonPayloadError(f"getOrders answer not understood: {raw!r}"[:300])
                yield order_id
            token = payload.get("NextToken")
            if not token:
                return
            payload = self.client.get_orders(next_token=token)

    def order(self, header: OrderHeader, locate: Callable[[str], int | None]) -> Order:
        return order_from_sp_api(header.raw, self.client.get_order_items(header.external_id), channel=self.channel)
