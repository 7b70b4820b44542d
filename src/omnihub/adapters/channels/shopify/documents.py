"""Every GraphQL document the Shopify connector sends, in one place so that one test can
validate them all against Shopify's official Admin schema (2025-09 + the 2026 changes)."""

from __future__ import annotations

import json

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

# The paged catalog read, kept for when a bulk operation cannot start (see
# services/channel_setup.py). ~5 points a variant: pages of 150 stay under 1,000.
VARIANTS = """
query Variants($first: Int!, $after: String, $query: String) {
  productVariants(first: $first, after: $after, query: $query) {
    nodes {
      id sku barcode title updatedAt
      product { id title vendor productType featuredMedia { preview { image { url } } } }
      inventoryItem { id }
    }
    pageInfo { hasNextPage endCursor }
  }
}
"""

# The whole catalog in one bulk operation: Shopify pages through it itself, writes one
# JSON object per line (variants and media on their own lines, `__parentId` = the
# product) and hands back a URL. No `first:` - a bulk query reads every node. With a
# search (`updated_at:>'…'`) it reads only what changed: the incremental product polls.
def catalog_bulk_query(search: str | None = None) -> str:
    arguments = f"(query: {json.dumps(search)})" if search else ""
    return """
{
  products%s {
    edges {
      node {
        id title vendor productType createdAt updatedAt
        variants { edges { node { id sku barcode title inventoryItem { id } } } }
        media { edges { node { id mediaContentType ... on MediaImage { image { url altText } } } } }
      }
    }
  }
}
""" % arguments


CATALOG_BULK_QUERY = catalog_bulk_query()

# Products created or changed since a cursor, for the polls whose delta is usually a
# handful: one cheap page (~560 points at 10 products of up to 25 variants) instead of a
# bulk operation. A larger delta, or a product with more variants, goes to a filtered bulk
# query (services/catalog_polling.py).
PRODUCTS_CHANGED = """
query ProductsChanged($first: Int!, $after: String, $query: String!, $sortKey: ProductSortKeys!) {
  products(first: $first, after: $after, query: $query, sortKey: $sortKey) {
    nodes {
      id title vendor productType createdAt updatedAt
      featuredMedia { preview { image { url } } }
      variants(first: 25) { nodes { id sku barcode title inventoryItem { id } } pageInfo { hasNextPage } }
    }
    pageInfo { hasNextPage endCursor }
  }
}
"""

# groupObjects: children right after their parent, which lets the importer stitch a
# product as soon as the next one starts instead of holding the whole file.
BULK_RUN_QUERY = """
mutation RunBulkQuery($query: String!) {
  bulkOperationRunQuery(query: $query, groupObjects: true) {
    bulkOperation { id status }
    userErrors { field message code }
  }
}
"""

# A bulk mutation's variables file (JSONL, one line of variables per call) goes to a
# staged upload target first: a form POST of the target's parameters, then the file.
STAGED_UPLOADS_CREATE = """
mutation StageBulkVariables($input: [StagedUploadInput!]!) {
  stagedUploadsCreate(input: $input) {
    stagedTargets { url resourceUrl parameters { name value } }
    userErrors { field message }
  }
}
"""

# Runs `mutation` once per line of the uploaded file; the result file holds each line's
# answer with its `__lineNumber`. The hub's bulk mutation is INVENTORY_SET_QUANTITIES itself.
BULK_RUN_MUTATION = """
mutation RunBulkMutation($mutation: String!, $stagedUploadPath: String!, $clientIdentifier: String) {
  bulkOperationRunMutation(mutation: $mutation, stagedUploadPath: $stagedUploadPath,
                           clientIdentifier: $clientIdentifier) {
    bulkOperation { id status }
    userErrors { field message code }
  }
}
"""

# Polled by id (node), not with currentBulkOperation: several may run at once since 2026-01.
BULK_OPERATION = """
query BulkOperation($id: ID!) {
  node(id: $id) {
    ... on BulkOperation {
      id status errorCode objectCount rootObjectCount fileSize url partialDataUrl createdAt completedAt
    }
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


# Every level of a location, mapped or not (an item the hub does not know is a
# reconciliation finding), with `committed`: units Shopify set aside for online orders it
# assigned here, which a drop in `available` may be rather than a till sale. Reconciliation,
# the level snapshot poll and the set-up's opening stock all page through it
# (location_levels.py).
RECONCILE_LOCATION_LEVELS = """
query ReconcileLocationLevels($id: ID!, $first: Int!, $after: String) {
  location(id: $id) {
    inventoryLevels(first: $first, after: $after) {
      nodes { item { id sku } quantities(names: ["available", "committed"]) { name quantity } }
      pageInfo { hasNextPage endCursor }
    }
  }
}
"""

ORDER_FIELDS = """
      id legacyResourceId name createdAt updatedAt processedAt cancelledAt cancelReason closed email phone
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

# Reconciliation's check that the shipments the hub told were marked: the ids of the
# orders placed since a time that Shopify still shows unfulfilled (or partly), 250 a page
# (ids alone: a point or two a page).
ORDERS_UNFULFILLED = """
query OrdersUnfulfilled($first: Int!, $after: String, $query: String) {
  orders(first: $first, after: $after, query: $query, sortKey: CREATED_AT) {
    nodes { id }
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
        id status assignedLocation { location { id } }
        lineItems(first: 50) { nodes { id remainingQuantity lineItem { id } } }
      }
    }
  }
}
"""

# The hub shipped from another location than the one Shopify assigned: re-assign the
# units first (only those shipped), then fulfil the moved fulfillment order. Its line item
# ids may be new (Shopify creates a new fulfillment order when it moves a subset).
FULFILLMENT_ORDER_MOVE = """
mutation MoveFulfillmentOrder($id: ID!, $newLocationId: ID!, $items: [FulfillmentOrderLineItemInput!]) {
  fulfillmentOrderMove(id: $id, newLocationId: $newLocationId, fulfillmentOrderLineItems: $items) {
    movedFulfillmentOrder {
      id status assignedLocation { location { id } }
      lineItems(first: 50) { nodes { id remainingQuantity lineItem { id } } }
    }
    userErrors { field message }
  }
}
"""

ALL = {
    "INVENTORY_SET_QUANTITIES": INVENTORY_SET_QUANTITIES,
    "LOCATIONS": LOCATIONS,
    "VARIANTS": VARIANTS,
    "CATALOG_BULK_QUERY": CATALOG_BULK_QUERY,
    "CATALOG_BULK_QUERY_CHANGED": catalog_bulk_query("updated_at:>'2026-10-01T12:00:00Z'"),
    "PRODUCTS_CHANGED": PRODUCTS_CHANGED,
    "BULK_RUN_QUERY": BULK_RUN_QUERY,
    "BULK_OPERATION": BULK_OPERATION,
    "STAGED_UPLOADS_CREATE": STAGED_UPLOADS_CREATE,
    "BULK_RUN_MUTATION": BULK_RUN_MUTATION,
    "LEVELS": levels_query(250),
    "RECONCILE_LOCATION_LEVELS": RECONCILE_LOCATION_LEVELS,
    "ORDERS_UPDATED": ORDERS_UPDATED,
    "ORDERS_UNFULFILLED": ORDERS_UNFULFILLED,
    "WEBHOOK_SUBSCRIBE": WEBHOOK_SUBSCRIBE,
    "FULFILLMENT_CREATE": FULFILLMENT_CREATE,
    "ORDER_FULFILMENT_STATE": ORDER_FULFILMENT_STATE,
    "FULFILLMENT_ORDER_MOVE": FULFILLMENT_ORDER_MOVE,
}
