"""Orders API 2026-01-01: searchOrders and getOrder, where Amazon points new integrations.

The same orders as Orders v0 (orders.py), drawn the new way: one ``Order`` with its items
inside, and datasets only when asked for (``includedData``: BUYER, RECIPIENT, PROCEEDS,
FULFILLMENT, PACKAGES, CANCELLATION; the others, which the sandbox has no data for, add
nothing). What is withheld is withheld as in v0: no recipient while an order is Pending,
the buyer's relay address only, and the name, street and phone only through a Restricted
Data Token with ``buyerInfo`` / ``shippingAddress``. searchOrders keeps v0's rules:
exactly one of ``createdAfter`` and ``lastUpdatedAfter``, the "before" bound at least two
minutes in the past (by default now minus two minutes), and a ``paginationToken`` that
carries the query and a keyset cursor.
"""

from __future__ import annotations

import base64
import json
import sqlite3
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from ..spapi.clock import iso, parse_iso
from ..spapi.errors import invalid_input, not_found
from ..spapi.lwa import data_elements, operation
from ..spapi.query_params import csv_list, single
from .context import SandboxContext
from .orders import ORDER_ID, TWO_MINUTES, buyer_info, shipping_address

router = APIRouter()

BASE = "/orders/2026-01-01/orders"
#: Orders v0's status -> this version's fulfillmentStatus
STATUSES = {"PendingAvailability": "PENDING_AVAILABILITY", "Pending": "PENDING", "Unshipped": "UNSHIPPED",
            "PartiallyShipped": "PARTIALLY_SHIPPED", "Shipped": "SHIPPED", "Canceled": "CANCELLED",
            "Unfulfillable": "UNFULFILLABLE"}
INCLUDED_DATA = {"BUYER", "RECIPIENT", "PROCEEDS", "EXPENSE", "PROMOTION", "CANCELLATION", "FULFILLMENT", "PACKAGES",
                 "TAX", "PAYMENT", "FULFILLMENT_ORDERS"}
V0_KEYS = {"Name": "name", "AddressLine1": "addressLine1", "City": "city", "StateOrRegion": "stateOrRegion",
           "PostalCode": "postalCode", "CountryCode": "countryCode", "Phone": "phone"}


def _money(cents: int) -> dict[str, str]:
    return {"amount": f"{cents / 100:.2f}", "currencyCode": "USD"}


def render(db: sqlite3.Connection, row: sqlite3.Row, included: set[str], elements: frozenset[str]) -> dict[str, Any]:
    order_id = row["amazon_order_id"]
    items = db.execute("SELECT * FROM order_items WHERE amazon_order_id = ? ORDER BY position", (order_id,)).fetchall()
    pending, cancelled = row["status"] == "Pending", row["status"] == "Canceled"
    order: dict[str, Any] = {
        "orderId": order_id, "createdTime": iso(row["purchase_date"]), "lastUpdatedTime": iso(row["last_update"]),
        "programs": [], "salesChannel": {"channelName": "AMAZON", "marketplaceId": row["marketplace_id"],
                                         "marketplaceName": "Amazon.com"},
    }
    rendered_items = []
    for item in items:
        rendered: dict[str, Any] = {
            "orderItemId": item["order_item_id"], "quantityOrdered": item["quantity"],
            "product": {"asin": item["asin"], "title": item["title"], "sellerSku": item["sku"],
                        "condition": {"conditionType": "NEW", "conditionSubtype": "NEW"},
                        **({} if pending else {"price": {"unitPrice": _money(item["unit_price_cents"])}})},
        }
        if "PROCEEDS" in included and not pending and not cancelled:
            rendered["proceeds"] = {"proceedsTotal": _money(item["unit_price_cents"] * item["quantity"])}
        if "FULFILLMENT" in included:
            rendered["fulfillment"] = {"quantityFulfilled": item["quantity_shipped"],
                                       "quantityUnfulfilled": 0 if cancelled else item["quantity"] - item["quantity_shipped"]}
        if "CANCELLATION" in included and row["cancel_requested"]:
            rendered["cancellation"] = {"cancellationRequest": {"requester": "BUYER", "cancelReason": "BUYER_CANCELED"}}
        rendered_items.append(rendered)
    order["orderItems"] = rendered_items
    if "BUYER" in included:
        v0 = buyer_info(row, elements)
        order["buyer"] = {"buyerEmail": v0["BuyerEmail"], **({"buyerName": v0["BuyerName"]} if "BuyerName" in v0 else {})}
    address = shipping_address(row, elements) if "RECIPIENT" in included else None
    if address is not None:
        delivery = {V0_KEYS[k]: v for k, v in address.items() if k in V0_KEYS}
        if "AddressType" in address:
            delivery["addressType"] = "RESIDENTIAL"
        order["recipient"] = {"deliveryAddress": delivery}
    if "PROCEEDS" in included and not pending and not cancelled:
        order["proceeds"] = {"grandTotal": _money(sum(i["unit_price_cents"] * i["quantity"] for i in items))}
    if "FULFILLMENT" in included:
        order["fulfillment"] = {"fulfillmentStatus": STATUSES[row["status"]], "fulfilledBy": "MERCHANT",
                                "fulfillmentServiceLevel": "STANDARD",
                                "shipByWindow": {"earliestDateTime": iso(row["earliest_ship"]),
                                                 "latestDateTime": iso(row["latest_ship"])}}
    if "PACKAGES" in included:
        order["packages"] = [{
            "packageReferenceId": package["packageReferenceId"], "createdTime": iso(shipment["confirmed_at"]),
            "packageStatus": {"status": "SHIPPED"}, "carrier": package["carrierCode"],
            "shipTime": package["shipDate"], "trackingNumber": package["trackingNumber"],
            "packageItems": [{"orderItemId": i["orderItemId"], "quantity": i["quantity"]} for i in package["orderItems"]],
        } for shipment in db.execute("SELECT * FROM shipments WHERE amazon_order_id = ? ORDER BY id", (order_id,))
            for package in [json.loads(shipment["package"])]]
    return order


def _included(request: Request) -> set[str]:
    values = set(csv_list(request, "includedData"))
    unknown = sorted(values - INCLUDED_DATA)
    if unknown:
        raise invalid_input("Invalid Input", f"includedData values are {', '.join(sorted(INCLUDED_DATA))}: not "
                                             f"{', '.join(unknown)}.")
    return values


def _time(request: Request, name: str) -> float | None:
    raw = single(request, name)
    if raw is None:
        return None
    try:
        return parse_iso(raw)
    except ValueError:
        raise invalid_input("Invalid Input", f"{name} is not an ISO 8601 date-time: {raw}") from None


def _query(sandbox: SandboxContext, request: Request) -> dict[str, Any]:
    created_after, created_before = _time(request, "createdAfter"), _time(request, "createdBefore")
    updated_after, updated_before = _time(request, "lastUpdatedAfter"), _time(request, "lastUpdatedBefore")
    if (created_after is None) == (updated_after is None):
        raise invalid_input("Invalid Input", "Exactly one of createdAfter and lastUpdatedAfter must be given.")
    by_update = updated_after is not None
    if (by_update and created_before is not None) or (not by_update and updated_before is not None):
        raise invalid_input("Invalid Input", "createdBefore goes with createdAfter, lastUpdatedBefore with "
                                             "lastUpdatedAfter.")
    after = updated_after if by_update else created_after
    before = updated_before if by_update else created_before
    assert after is not None
    latest = sandbox.now() - TWO_MINUTES
    if before is None:
        before = latest
    elif before > latest:
        raise invalid_input("Invalid Input", "The 'before' time must be at least 2 minutes before the current time.")
    if after > before:
        raise invalid_input("Invalid Input", "The 'before' time must be equal to or after the 'after' time.")
    statuses = csv_list(request, "fulfillmentStatuses")
    if set(statuses) - set(STATUSES.values()):
        raise invalid_input("Invalid Input", f"fulfillmentStatuses are {', '.join(STATUSES.values())}.")
    fulfilled_by = csv_list(request, "fulfilledBy")
    if set(fulfilled_by) - {"MERCHANT", "AMAZON"}:
        raise invalid_input("Invalid Input", "fulfilledBy values are MERCHANT and AMAZON.")
    raw_max = single(request, "maxResultsPerPage")
    if raw_max is not None and (not raw_max.isdigit() or not 1 <= int(raw_max) <= 100):
        raise invalid_input("Invalid Input", "maxResultsPerPage must be an integer from 1 to 100.")
    marketplaces = csv_list(request, "marketplaceIds", max_items=50) or [sandbox.config.marketplace_id]
    return {"v": 2026, "u": by_update, "a": after, "b": before, "m": marketplaces,
            "s": [v0 for v0, new in STATUSES.items() if new in statuses], "f": fulfilled_by,
            "n": int(raw_max) if raw_max else 100, "i": sorted(_included(request)), "k": None}


def _token(query: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(query, separators=(",", ":")).encode()).decode()


def _untoken(token: str) -> dict[str, Any]:
    try:
        query = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        if not isinstance(query, dict) or query.get("v") != 2026:
            raise ValueError(token)
        return query
    except ValueError:
        raise invalid_input("Invalid Input", "paginationToken is malformed or was not issued by this API.") from None


@router.get(BASE)
def search_orders(request: Request, sandbox: SandboxContext = operation("searchOrders", restricted="withholds")) -> JSONResponse:
    token = single(request, "paginationToken")
    query = _untoken(token) if token else _query(sandbox, request)
    column = "last_update" if query["u"] else "purchase_date"
    where = [f"{column} >= ?", f"{column} <= ?", "marketplace_id IN (%s)" % ",".join("?" * len(query["m"]))]
    args: list[Any] = [query["a"], query["b"], *query["m"]]
    if query["s"]:
        where.append("status IN (%s)" % ",".join("?" * len(query["s"])))
        args.extend(query["s"])
    if query["f"] and "MERCHANT" not in query["f"]:
        where.append("0")  # every sandbox order is merchant-fulfilled
    if query["k"]:
        where.append(f"({column}, amazon_order_id) > (?, ?)")
        args.extend(query["k"])
    sql = f"SELECT * FROM orders WHERE {' AND '.join(where)} ORDER BY {column}, amazon_order_id LIMIT ?"  # noqa: S608
    with sandbox.store.tx() as db:
        rows = db.execute(sql, (*args, query["n"] + 1)).fetchall()
        page = rows[: query["n"]]
        orders = [render(db, r, set(query["i"]), data_elements(request)) for r in page]
    body: dict[str, Any] = {"orders": orders, ("lastUpdatedBefore" if query["u"] else "createdBefore"): iso(query["b"])}
    if len(rows) > query["n"]:
        body["pagination"] = {"nextToken": _token({**query, "k": [page[-1][column], page[-1]["amazon_order_id"]]})}
    return JSONResponse(body)


@router.get(f"{BASE}/{{order_id}}")
def get_order(order_id: str, request: Request,
              sandbox: SandboxContext = operation("getOrder:2026-01-01", restricted="withholds")) -> JSONResponse:
    if not ORDER_ID.match(order_id):
        raise invalid_input("Invalid Input", f"Invalid orderId: {order_id}. An order id has the 3-7-7 format.")
    included = _included(request)
    with sandbox.store.tx() as db:
        row = db.execute("SELECT * FROM orders WHERE amazon_order_id = ?", (order_id,)).fetchone()
        if row is None:
            raise not_found("Invalid order id", f"No order {order_id} for this seller.")
        return JSONResponse({"order": render(db, row, included, data_elements(request))})
