"""What a channel shows, as reconciliation reads it: one shape for every channel, so the
service compares them all the same way (services/reconciliation.py). Each channel's
reader (adapters/channels/*/reconciliation_reads.py) validates the channel's answers
with pydantic before they become these."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from omnihub.domain.orders import Order


@dataclass(frozen=True, slots=True)
class ShownLevel:
    item_id: str  # the channel's id of the listing: Shopify inventory item number, Amazon seller SKU
    location_id: str  # the channel's location id ("" for a channel that sells one total)
    available: int
    committed: int = 0  # units set aside for the channel's own open orders there
    channel_sku: str | None = None  # the SKU the channel shows, to help an operator map it


@dataclass(frozen=True, slots=True)
class OrderHeader:
    external_id: str
    updated_at: datetime
    raw: dict  # what the reader needs to build the full order later
    cancelled: bool = False  # the channel shows the whole order cancelled
    cancel_reason: str | None = None  # the channel's words for why, for the person who may have to act


class ChannelReader(Protocol):
    channel: str
    order_channels: tuple[str, ...]  # the hub channels its orders land in (shopify, shopify_pos)
    inbox_source: str  # the inbox's name for the channel's deliveries ("shopify", "amazon"): where its orders park

    # Both are read lazily, page by page, as the run consumes them (memory: one page).
    # `expected`: about how many levels the hub maps (a reader may choose its road by it).
    def levels(self, location_ids: list[str], expected: int = 0) -> Iterable[ShownLevel]: ...

    def order_headers(self, since: datetime) -> Iterable[OrderHeader]: ...

    def order(self, header: OrderHeader, locate: Callable[[str], int | None]) -> Order: ...

    # The ids of the orders placed since `since` that the channel shows not shipped yet.
    def unshipped(self, since: datetime) -> Iterable[str]: ...
