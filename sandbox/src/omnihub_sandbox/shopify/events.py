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
    "APP_UNINSTALLED": "app/uninstalled",
    "BULK_OPERATIONS_FINISH": "bulk_operations/finish",
    "FULFILLMENTS_CREATE": "fulfillments/create",
    "FULFILLMENT_ORDERS_CANCELLED": "fulfillment_orders/cancelled",
    "FULFILLMENT_ORDERS_HOLD_RELEASED": "fulfillment_orders/hold_released",
    "FULFILLMENT_ORDERS_MOVED": "fulfillment_orders/moved",
    "FULFILLMENT_ORDERS_ORDER_ROUTING_COMPLETE": "fulfillment_orders/order_routing_complete",
    "FULFILLMENT_ORDERS_PLACED_ON_HOLD": "fulfillment_orders/placed_on_hold",
    "INVENTORY_ITEMS_CREATE": "inventory_items/create",
    "INVENTORY_ITEMS_DELETE": "inventory_items/delete",
    "INVENTORY_ITEMS_UPDATE": "inventory_items/update",
    "INVENTORY_LEVELS_CONNECT": "inventory_levels/connect",
    "INVENTORY_LEVELS_DISCONNECT": "inventory_levels/disconnect",
    "INVENTORY_LEVELS_UPDATE": "inventory_levels/update",
    "LOCATIONS_ACTIVATE": "locations/activate",
    "LOCATIONS_CREATE": "locations/create",
    "LOCATIONS_DEACTIVATE": "locations/deactivate",
    "LOCATIONS_DELETE": "locations/delete",
    "LOCATIONS_UPDATE": "locations/update",
    "ORDERS_CANCELLED": "orders/cancelled",
    "ORDERS_CREATE": "orders/create",
    "ORDERS_EDITED": "orders/edited",
    "ORDERS_FULFILLED": "orders/fulfilled",
    "ORDERS_UPDATED": "orders/updated",
    "PRODUCTS_CREATE": "products/create",
    "PRODUCTS_DELETE": "products/delete",
    "PRODUCTS_UPDATE": "products/update",
    "REFUNDS_CREATE": "refunds/create",
    "RETURNS_APPROVE": "returns/approve",
    "RETURNS_CANCEL": "returns/cancel",
    "RETURNS_CLOSE": "returns/close",
    "RETURNS_DECLINE": "returns/decline",
    "RETURNS_PROCESS": "returns/process",
    "RETURNS_REOPEN": "returns/reopen",
    "RETURNS_REQUEST": "returns/request",
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
