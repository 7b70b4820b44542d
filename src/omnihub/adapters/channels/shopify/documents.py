"""Every GraphQL document the Shopify connector sends, in one place so that one test can
validate them all against Shopify's official Admin schema (2025-09 + the 2026 changes)."""

from __future__ import annotations

INVENTORY_SET_QUANTITIES = """
mutation SetAvailable($input: InventorySetQuantitiesInput!, $key: String!) {
  inventorySetQuantities(input: $input) @idempotent(key: $key) {
    inventoryAdjustmentGroup { id }
    userErrors { field message code }
  }
}
"""

LOCATIONS = """
query Locations($first: Int!, $after: String) {
  locations(first: $first, after: $after) {
    nodes { id name isActive fulfillsOnlineOrders address { zip latitude longitude } }
    pageInfo { hasNextPage endCursor }
  }
}
"""

VARIANTS = """
query Variants($first: Int!, $after: String, $query: String) {
  productVariants(first: $first, after: $after, query: $query) {
    nodes {
      id sku barcode title updatedAt
      product { id title vendor productType }
      inventoryItem { id }
    }
    pageInfo { hasNextPage endCursor }
  }
}
"""

LEVEL_FIELDS = "quantities(names: [\"available\"]) { name quantity }"


def levels_query(count: int) -> str:
    """Read `count` inventory levels by id in one call (`nodes(ids:)`, cost ~1 per level)."""
    if not 1 <= count <= 250:
        raise ValueError("between 1 and 250 levels per read")
    return (
        "query Levels($ids: [ID!]!) { nodes(ids: $ids) { ... on InventoryLevel { id "
        f"item {{ id }} location {{ id }} {LEVEL_FIELDS} }} }} }}"
    )


LOCATION_LEVELS = """
query LocationLevels($id: ID!, $first: Int!, $after: String) {
  location(id: $id) {
    inventoryLevels(first: $first, after: $after) {
      nodes { id item { id } quantities(names: ["available"]) { name quantity } }
      pageInfo { hasNextPage endCursor }
    }
  }
}
"""

ORDER_FIELDS = """
      id legacyResourceId name createdAt updatedAt processedAt cancelledAt closed email phone
      sourceName tags note currencyCode
      retailLocation { id }
      shippingAddress { address1 address2 city provinceCode zip countryCodeV2 latitude longitude }
      lineItems(first: 50) {
        nodes { id sku quantity currentQuantity originalUnitPriceSet { shopMoney { amount currencyCode } } }
        pageInfo { hasNextPage }
      }
"""

ORDERS_UPDATED = """
query OrdersUpdated($first: Int!, $after: String, $query: String) {
  orders(first: $first, after: $after, query: $query, sortKey: UPDATED_AT) {
    nodes {""" + ORDER_FIELDS + """    }
    pageInfo { hasNextPage endCursor }
  }
}
"""

WEBHOOK_SUBSCRIBE = """
mutation Subscribe($topic: WebhookSubscriptionTopic!, $uri: String!) {
  webhookSubscriptionCreate(topic: $topic, webhookSubscription: {uri: $uri, format: JSON}) {
    webhookSubscription { id topic uri }
    userErrors { field message }
  }
}
"""

FULFILLMENT_CREATE = """
mutation Fulfil($fulfillment: FulfillmentInput!) {
  fulfillmentCreate(fulfillment: $fulfillment) {
    fulfillment { id status }
    userErrors { field message }
  }
}
"""

# What the fulfilment job must know before telling Shopify about a shipment: the order's
# open fulfillment orders (their line items map to the hub's line ids) and the tracking
# numbers already sent, so that a retry after a lost answer does not fulfil twice.
# Sized to stay well under the 1,000-point single-query cost limit (~300 points).
ORDER_FULFILMENT_STATE = """
query OrderFulfilmentState($id: ID!) {
  order(id: $id) {
    id cancelledAt
    fulfillments(first: 20) { id trackingInfo(first: 5) { number } }
    fulfillmentOrders(first: 5) {
      nodes {
        id status
        lineItems(first: 50) { nodes { id remainingQuantity lineItem { id } } }
      }
    }
  }
}
"""

ALL = {
    "INVENTORY_SET_QUANTITIES": INVENTORY_SET_QUANTITIES,
    "LOCATIONS": LOCATIONS,
    "VARIANTS": VARIANTS,
    "LEVELS": levels_query(250),
    "LOCATION_LEVELS": LOCATION_LEVELS,
    "ORDERS_UPDATED": ORDERS_UPDATED,
    "WEBHOOK_SUBSCRIBE": WEBHOOK_SUBSCRIBE,
    "FULFILLMENT_CREATE": FULFILLMENT_CREATE,
    "ORDER_FULFILMENT_STATE": ORDER_FULFILMENT_STATE,
}
