"""What happened in the shop, as webhook topics name it.

Business operations return ``Event``s; the caller hands them to the webhook dispatcher
only after the database transaction committed, so a webhook never announces a change that
was rolled back.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# GraphQL enum value -> REST topic (X-Shopify-Topic header).
TOPICS: dict[str, str] = {
    "BULK_OPERATIONS_FINISH": "bulk_operations/finish",
    "FULFILLMENTS_CREATE": "fulfillments/create",
    "FULFILLMENT_ORDERS_CANCELLED": "fulfillment_orders/cancelled",
    "FULFILLMENT_ORDERS_ORDER_ROUTING_COMPLETE": "fulfillment_orders/order_routing_complete",
    "INVENTORY_LEVELS_UPDATE": "inventory_levels/update",
    "ORDERS_CANCELLED": "orders/cancelled",
    "ORDERS_CREATE": "orders/create",
    "ORDERS_EDITED": "orders/edited",
    "ORDERS_FULFILLED": "orders/fulfilled",
    "ORDERS_UPDATED": "orders/updated",
    "PRODUCTS_CREATE": "products/create",
    "PRODUCTS_UPDATE": "products/update",
    "REFUNDS_CREATE": "refunds/create",
}
TOPIC_ENUMS = {rest: enum for enum, rest in TOPICS.items()}

# Mandatory privacy (compliance) topics: configured on the app, not subscribable over GraphQL.
COMPLIANCE_TOPICS = ("customers/data_request", "customers/redact", "shop/redact")


@dataclass(frozen=True)
class Event:
    topic: str
    body: dict[str, Any]
    # What triggered it, for X-Shopify-Triggered-At (ISO, UTC).
    triggered_at: str = ""
    extra: dict[str, Any] = field(default_factory=dict)
