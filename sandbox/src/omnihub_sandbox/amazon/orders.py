"""Orders API v0: getOrders, getOrder, getOrderItems, confirmShipment, and order life.

An order is placed Pending (payment not yet authorised), becomes Unshipped after
``pending_to_unshipped_seconds``, and then Shipped (or PartiallyShipped) as the seller
confirms shipments; a buyer can cancel while it is Pending or Unshipped. getOrders
follows Amazon's rules: exactly one of CreatedAfter / LastUpdatedAfter, the matching
"Before" bound at least two minutes in the past (it defaults to now minus two minutes,
so the newest orders only show up two minutes later), and a NextToken that carries the
whole query and a keyset cursor, so paging is complete and stable while orders keep
arriving.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import sqlite3
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from ..spapi.lwa import data_elements, operation
from ..spapi.clock import iso, parse_iso
from .context import SandboxContext
from ..spapi.errors import invalid_input, not_found
from .notifications import ORDER_CHANGE
from ..spapi.query_params import csv_list, single

router = APIRouter()

ORDER_STATUSES = {
    "PendingAvailability", "Pending", "Unshipped", "PartiallyShipped", "Shipped",
    "Canceled", "Unfulfillable", "InvoiceUnconfirmed",
}
ORDER_ID = re.compile(r"^\d{3}-\d{7}-\d{7}$")
TWO_MINUTES = 120.0
SHIP_WINDOW = 2 * 86400.0


def new_order_id(sandbox: SandboxContext, db: sqlite3.Connection) -> str:
    """A 3-7-7 AmazonOrderId, derived from the seed and a durable counter."""
    while True:
        n = sandbox.store.next_sequence("order")
        digits = str(int(hashlib.sha256(f"{sandbox.config.seed}:order:{n}".encode()).hexdigest(), 16))[:14]
        order_id = f"11{digits[0]}-{digits[1:8]}-{digits[8:14].rjust(7, '0')}"
        if db.execute("SELECT 1 FROM orders WHERE amazon_order_id = ?", (order_id,)).fetchone() is None:
            return order_id


def new_order_item_id(sandbox: SandboxContext) -> str:
    n = sandbox.store.next_sequence("order_item")
    return str(int(hashlib.sha256(f"{sandbox.config.seed}:item:{n}".encode()).hexdigest(), 16))[:14]


# -- rendering -----------------------------------------------------------------------


def _money(cents: int) -> dict[str, str]:
    return {"CurrencyCode": "USD", "Amount": f"{cents / 100:.2f}"}


def _items(db: sqlite3.Connection, order_id: str) -> list[sqlite3.Row]:
    return db.execute(
        "SELECT * FROM order_items WHERE amazon_order_id = ? ORDER BY position", (order_id,)
    ).fetchall()


def relay_email(buyer: dict[str, Any]) -> str:
    """The buyer's anonymised marketplace address: Amazon never shows the real one."""
    return str(buyer.get("relay") or buyer["email"])


def shipping_address(row: sqlite3.Row, elements: frozenset[str] = frozenset()) -> dict[str, Any] | None:
    """The order's ``ShippingAddress`` as a seller sees it: none while Pending (payment not
    yet authorised); city, region, postal code and country otherwise; the name, street and
    phone only through a Restricted Data Token with ``shippingAddress``."""
    if row["status"] == "Pending":
        return None
    ship_to = json.loads(row["ship_to"])
    address = {k: v for k, v in {
        "City": ship_to.get("city"), "StateOrRegion": ship_to.get("state"),
        "PostalCode": ship_to.get("postal_code"), "CountryCode": ship_to.get("country_code", "US"),
    }.items() if v}
    if "shippingAddress" in elements:
        buyer = json.loads(row["buyer"])
        address.update({k: v for k, v in {"Name": ship_to.get("name") or buyer.get("name"),
                                           "AddressLine1": ship_to.get("address_line1"),
                                           "Phone": ship_to.get("phone"), "AddressType": "Residential"}.items() if v})
    return address


def buyer_info(row: sqlite3.Row, elements: frozenset[str] = frozenset()) -> dict[str, Any]:
    buyer = json.loads(row["buyer"])
    info = {"BuyerEmail": relay_email(buyer)}
    if "buyerInfo" in elements:
        info["BuyerName"] = buyer["name"]
    return info


def render_order(row: sqlite3.Row, items: list[sqlite3.Row], elements: frozenset[str] = frozenset()) -> dict[str, Any]:
    """An ``Order`` as SP-API shows it to a seller: what a Restricted Data Token's `elements`
    open (``buyerInfo``, ``shippingAddress``) and no more (:func:`shipping_address`)."""
    shipped = sum(i["quantity_shipped"] for i in items)
    ordered = sum(i["quantity"] for i in items)
    canceled = row["status"] == "Canceled"
    order: dict[str, Any] = {
        "AmazonOrderId": row["amazon_order_id"],
        "PurchaseDate": iso(row["purchase_date"]),
        "LastUpdateDate": iso(row["last_update"]),
        "OrderStatus": row["status"],
        "FulfillmentChannel": "MFN",
        "SalesChannel": "Amazon.com",
        "ShipServiceLevel": row["ship_service_level"],
        "NumberOfItemsShipped": shipped,
        "NumberOfItemsUnshipped": 0 if canceled else ordered - shipped,
        "PaymentMethod": "Other",
        "PaymentMethodDetails": ["Standard"],
        "MarketplaceId": row["marketplace_id"],
        "ShipmentServiceLevelCategory": "Standard",
        "OrderType": "StandardOrder",
        "EarliestShipDate": iso(row["earliest_ship"]),
        "LatestShipDate": iso(row["latest_ship"]),
        "IsBusinessOrder": False,
        "IsPrime": False,
        "IsPremiumOrder": False,
        "IsGlobalExpressEnabled": False,
        "IsReplacementOrder": False,
        "IsSoldByAB": False,
        "IsISPU": False,
        "IsAccessPointOrder": False,
        "HasRegulatedItems": False,
        "BuyerInfo": buyer_info(row, elements),
    }
    address = shipping_address(row, elements)
    if address is not None:
        order["ShippingAddress"] = address
    if not canceled and row["status"] != "Pending":
        order["OrderTotal"] = _money(sum(i["unit_price_cents"] * i["quantity"] for i in items))
    return order


def render_item(item: sqlite3.Row, status: str) -> dict[str, Any]:
    price = item["unit_price_cents"] * item["quantity"]
    rendered: dict[str, Any] = {
        "ASIN": item["asin"],
        "SellerSKU": item["sku"],
        "OrderItemId": item["order_item_id"],
        "Title": item["title"],
        "QuantityOrdered": item["quantity"],
        "QuantityShipped": item["quantity_shipped"],
        "ProductInfo": {"NumberOfItems": "1"},
        "IsGift": "false",
        "ConditionId": "New",
        "ConditionSubtypeId": "New",
        "IsTransparency": False,
        "SerialNumberRequired": False,
        "BuyerRequestedCancel": {"IsBuyerRequestedCancel": "true" if status == "Canceled" else "false"},
    }
    if status != "Pending":  # Amazon shows prices once payment is authorised
        rendered["ItemPrice"] = _money(price)
        rendered["ItemTax"] = _money(0)
    return rendered


def order_change(sandbox: SandboxContext, db: sqlite3.Connection, order_id: str, reason: str, when: float,
                 change_type: str = "OrderStatusChange") -> None:
    """Raise an ORDER_CHANGE notification for the order's current state."""
    row = db.execute("SELECT * FROM orders WHERE amazon_order_id = ?", (order_id,)).fetchone()
    items = _items(db, order_id)
    ship_to = json.loads(row["ship_to"])
    summary = {
        "MarketplaceId": row["marketplace_id"],
        "OrderStatus": row["status"],
        "PurchaseDate": iso(row["purchase_date"], millis=True),
        "DestinationPostalCode": ship_to.get("postal_code"),
        "FulfillmentType": "MFN",
        "OrderType": "StandardOrder",
        "NumberOfItemsShipped": sum(i["quantity_shipped"] for i in items),
        "NumberOfItemsUnshipped": 0 if row["status"] == "Canceled" else sum(i["quantity"] - i["quantity_shipped"] for i in items),
        "EarliestShipDate": iso(row["earliest_ship"], millis=True),
        "LatestShipDate": iso(row["latest_ship"], millis=True),
        "OrderItems": [{
            "OrderItemId": i["order_item_id"], "SellerSKU": i["sku"], "SupplySourceId": None,
            "OrderItemStatus": "Shipped" if i["quantity_shipped"] >= i["quantity"] else "Unshipped",
            "Quantity": i["quantity"], "QuantityShipped": i["quantity_shipped"],
            "IsBuyerRequestedCancel": row["status"] == "Canceled",
        } for i in items],
    }
    if row["status"] == "Canceled":
        summary["CancelNotifyDate"] = iso(when, millis=True)
    sandbox.notifier.emit(db, ORDER_CHANGE, {"OrderChangeNotification": {
        "NotificationLevel": "OrderLevel",
        "SellerId": sandbox.config.seller_id,
        "AmazonOrderId": order_id,
        "OrderChangeType": change_type,
        "OrderChangeTrigger": {"TimeOfOrderChange": iso(when, millis=True), "ChangeReason": reason},
        "Summary": summary,
    }}, when)


# -- life cycle ----------------------------------------------------------------------


def clear_pending_payments(sandbox: SandboxContext) -> None:
    """Pending orders whose payment delay has passed become Unshipped, at that moment."""
    delay = sandbox.config.pending_to_unshipped_seconds
    with sandbox.store.tx() as db:
        due = db.execute(
            "SELECT amazon_order_id, purchase_date FROM orders WHERE status = 'Pending' AND purchase_date <= ? "
            "ORDER BY purchase_date", (sandbox.now() - delay,),
        ).fetchall()
        for row in due:
            when = row["purchase_date"] + delay
            db.execute("UPDATE orders SET status = 'Unshipped', last_update = ? WHERE amazon_order_id = ?",
                       (when, row["amazon_order_id"]))
            order_change(sandbox, db, row["amazon_order_id"], "Payment Authorized", when)


# -- getOrders -----------------------------------------------------------------------


def _encode_token(query: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(query, separators=(",", ":")).encode()).decode().rstrip("=")


def _decode_token(token: str) -> dict[str, Any]:
    try:
        query = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        if not isinstance(query, dict) or query.get("v") != 1:
            raise ValueError
        return query
    except ValueError:
        raise invalid_input("Invalid NextToken.", "The NextToken is malformed or was not issued by this API.") from None


def _parse_time(request: Request, name: str) -> float | None:
    raw = single(request, name)
    if raw is None:
        return None
    try:
        return parse_iso(raw)
    except ValueError:
        raise invalid_input("Invalid Input", f"{name} is not a valid ISO 8601 date-time: {raw}") from None


def _query_from_params(sandbox: SandboxContext, request: Request) -> dict[str, Any]:
    created_after = _parse_time(request, "CreatedAfter")
    created_before = _parse_time(request, "CreatedBefore")
    updated_after = _parse_time(request, "LastUpdatedAfter")
    updated_before = _parse_time(request, "LastUpdatedBefore")
    if created_after is None and updated_after is None:
        raise invalid_input("Invalid Input", "Either CreatedAfter or LastUpdatedAfter must be specified.")
    if created_after is not None and (updated_after is not None or updated_before is not None):
        raise invalid_input("Invalid Input", "LastUpdatedAfter and LastUpdatedBefore cannot be set when CreatedAfter is set.")
    if updated_after is not None and created_before is not None:
        raise invalid_input("Invalid Input", "CreatedBefore cannot be set when LastUpdatedAfter is set.")
    by_update = updated_after is not None
    after = updated_after if by_update else created_after
    before = updated_before if by_update else created_before
    before_name = "LastUpdatedBefore" if by_update else "CreatedBefore"
    assert after is not None  # one of the two is required above
    latest = sandbox.now() - TWO_MINUTES
    if before is None:
        before = latest
    elif before > latest:
        raise invalid_input("Invalid Input", f"{before_name} must be at least 2 minutes before the current time.")
    if after > before:
        raise invalid_input("Invalid Input", f"{before_name} must be equal to or after {'LastUpdatedAfter' if by_update else 'CreatedAfter'}.")

    statuses = csv_list(request, "OrderStatuses")
    bad = [s for s in statuses if s not in ORDER_STATUSES]
    if bad:
        raise invalid_input("Invalid Input", f"Invalid OrderStatuses value(s): {', '.join(bad)}.")
    channels = csv_list(request, "FulfillmentChannels")
    if any(c not in ("AFN", "MFN") for c in channels):
        raise invalid_input("Invalid Input", "FulfillmentChannels values are AFN and MFN.")
    raw_max = single(request, "MaxResultsPerPage")
    per_page = 100
    if raw_max is not None:
        if not raw_max.isdigit() or not 1 <= int(raw_max) <= 100:
            raise invalid_input("Invalid Input", "MaxResultsPerPage must be an integer from 1 to 100.")
        per_page = int(raw_max)
    order_ids = csv_list(request, "AmazonOrderIds", max_items=50)
    return {
        "v": 1, "u": by_update, "a": after, "b": before, "s": statuses, "n": per_page,
        "c": channels, "ids": order_ids, "e": single(request, "BuyerEmail"), "so": single(request, "SellerOrderId"),
        "k": None,
    }


@router.get("/orders/v0/orders")
def get_orders(request: Request, sandbox: SandboxContext = operation("getOrders", restricted="withholds")) -> JSONResponse:
    marketplaces = csv_list(request, "MarketplaceIds", required=True, max_items=50)
    token = single(request, "NextToken")
    query = _decode_token(token) if token else _query_from_params(sandbox, request)

    column = "last_update" if query["u"] else "purchase_date"
    where = [f"{column} >= ?", f"{column} <= ?", "marketplace_id IN (%s)" % ",".join("?" * len(marketplaces))]
    args: list[Any] = [query["a"], query["b"], *marketplaces]
    if query["s"]:
        where.append("status IN (%s)" % ",".join("?" * len(query["s"])))
        args.extend(query["s"])
    if query["c"] and "MFN" not in query["c"]:
        where.append("0")  # every sandbox order is merchant-fulfilled
    if query["ids"]:
        where.append("amazon_order_id IN (%s)" % ",".join("?" * len(query["ids"])))
        args.extend(query["ids"])
    if query["e"]:
        where.append("coalesce(json_extract(buyer, '$.relay'), json_extract(buyer, '$.email')) = ?")
        args.append(query["e"])
    if query["so"]:
        where.append("0")  # the sandbox's orders carry no SellerOrderId
    if query["k"]:
        where.append(f"({column}, amazon_order_id) > (?, ?)")
        args.extend(query["k"])
    sql = (f"SELECT * FROM orders WHERE {' AND '.join(where)} "  # noqa: S608 - built from fixed fragments
           f"ORDER BY {column}, amazon_order_id LIMIT ?")
    with sandbox.store.tx() as db:
        rows = db.execute(sql, (*args, query["n"] + 1)).fetchall()
        page = rows[: query["n"]]
        orders = [render_order(r, _items(db, r["amazon_order_id"]), data_elements(request)) for r in page]
    payload: dict[str, Any] = {"Orders": orders}
    if len(rows) > query["n"]:
        last = page[-1]
        payload["NextToken"] = _encode_token({**query, "k": [last[column], last["amazon_order_id"]]})
    payload["LastUpdatedBefore" if query["u"] else "CreatedBefore"] = iso(query["b"])
    return JSONResponse({"payload": payload})


def _order_row(sandbox: SandboxContext, db: sqlite3.Connection, order_id: str) -> sqlite3.Row:
    if not ORDER_ID.match(order_id):
        raise invalid_input("Invalid Input", f"Invalid AmazonOrderId: {order_id}. An order id has the 3-7-7 format.")
    row = db.execute("SELECT * FROM orders WHERE amazon_order_id = ?", (order_id,)).fetchone()
    if row is None:
        raise not_found("Invalid order id", f"No order {order_id} for this seller.")
    return row


@router.get("/orders/v0/orders/{order_id}")
def get_order(order_id: str, request: Request,
              sandbox: SandboxContext = operation("getOrder", restricted="withholds")) -> JSONResponse:
    with sandbox.store.tx() as db:
        row = _order_row(sandbox, db, order_id)
        return JSONResponse({"payload": render_order(row, _items(db, order_id), data_elements(request))})


@router.get("/orders/v0/orders/{order_id}/address")
def get_order_address(order_id: str, request: Request,
                      sandbox: SandboxContext = operation("getOrderAddress", restricted="required")) -> JSONResponse:
    """The shipping address, in full: a restricted operation (a Restricted Data Token only)."""
    with sandbox.store.tx() as db:
        row = _order_row(sandbox, db, order_id)
    payload: dict[str, Any] = {"AmazonOrderId": order_id}
    address = shipping_address(row, frozenset({"shippingAddress"}))
    if address is not None:
        payload["ShippingAddress"] = address
    return JSONResponse({"payload": payload})


@router.get("/orders/v0/orders/{order_id}/buyerInfo")
def get_order_buyer_info(order_id: str, request: Request,
                         sandbox: SandboxContext = operation("getOrderBuyerInfo", restricted="required")) -> JSONResponse:
    """The buyer's name beside the relay address: a restricted operation."""
    with sandbox.store.tx() as db:
        row = _order_row(sandbox, db, order_id)
    return JSONResponse({"payload": {"AmazonOrderId": order_id, **buyer_info(row, frozenset({"buyerInfo"}))}})


@router.get("/orders/v0/orders/{order_id}/orderItems")
def get_order_items(order_id: str, sandbox: SandboxContext = operation("getOrderItems", restricted="withholds")) -> JSONResponse:
    with sandbox.store.tx() as db:
        row = _order_row(sandbox, db, order_id)
        items = [render_item(i, row["status"]) for i in _items(db, order_id)]
    return JSONResponse({"payload": {"AmazonOrderId": order_id, "OrderItems": items}})


def _validate_confirmation(body: Any, marketplace_id: str) -> dict[str, Any]:
    """Check a ConfirmShipmentRequest as the model defines it; return its packageDetail."""
    if not isinstance(body, dict):
        raise invalid_input("Invalid Input", "A ConfirmShipmentRequest body is required.")
    if not isinstance(body.get("marketplaceId"), str):
        raise invalid_input("Invalid Input", "marketplaceId is required.")
    if body["marketplaceId"] != marketplace_id:
        raise invalid_input("Invalid Input", f"The order was not placed in marketplace {body['marketplaceId']}.")
    if body.get("codCollectionMethod") not in (None, "DirectPayment"):
        raise invalid_input("Invalid Input", "codCollectionMethod must be DirectPayment.")
    pkg = body.get("packageDetail")
    if not isinstance(pkg, dict):
        raise invalid_input("Invalid Input", "packageDetail is required.")
    for name in ("packageReferenceId", "carrierCode", "trackingNumber", "shipDate"):
        if not isinstance(pkg.get(name), str) or not pkg[name]:
            raise invalid_input("Invalid Input", f"packageDetail.{name} is required.")
    for name in ("carrierName", "shippingMethod", "shipFromSupplySourceId"):
        if name in pkg and not isinstance(pkg[name], str):
            raise invalid_input("Invalid Input", f"packageDetail.{name} must be a string.")
    if not re.match(r"^\d{4}-\d{2}-\d{2}T", pkg["shipDate"]):
        raise invalid_input("Invalid Input", "packageDetail.shipDate must be an ISO 8601 date-time.")
    try:
        parse_iso(pkg["shipDate"])
    except ValueError:
        raise invalid_input("Invalid Input", "packageDetail.shipDate must be an ISO 8601 date-time.") from None
    items = pkg.get("orderItems")
    if not isinstance(items, list) or not items:
        raise invalid_input("Invalid Input", "packageDetail.orderItems must list at least one item.")
    for item in items:
        if not isinstance(item, dict) or not isinstance(item.get("orderItemId"), str):
            raise invalid_input("Invalid Input", "Each order item needs an orderItemId.")
        q = item.get("quantity")
        if isinstance(q, bool) or not isinstance(q, int) or q < 1:
            raise invalid_input("Invalid Input", "Each order item needs a quantity of at least 1.")
    return pkg


@router.post("/orders/v0/orders/{order_id}/shipmentConfirmation")
async def confirm_shipment(order_id: str, request: Request, sandbox: SandboxContext = operation("confirmShipment")) -> Response:
    try:
        body = json.loads(await request.body() or b"null")
    except ValueError:
        raise invalid_input("Invalid Input", "The request body is not valid JSON.") from None
    if not ORDER_ID.match(order_id):
        raise invalid_input("Invalid Input", f"Invalid AmazonOrderId: {order_id}. An order id has the 3-7-7 format.")
    pkg = _validate_confirmation(body, sandbox.config.marketplace_id)  # input first, as Amazon does
    with sandbox.store.tx() as db:
        row = _order_row(sandbox, db, order_id)
        if row["status"] not in ("Unshipped", "PartiallyShipped"):
            raise invalid_input("Invalid Input", f"Order {order_id} is {row['status']} and cannot be shipped.")
        items = {i["order_item_id"]: i for i in _items(db, order_id)}
        wanted: dict[str, int] = {}
        for line in pkg["orderItems"]:
            wanted[line["orderItemId"]] = wanted.get(line["orderItemId"], 0) + line["quantity"]
        for item_id, qty in wanted.items():
            item = items.get(item_id)
            if item is None:
                raise invalid_input("Invalid Input", f"Order item {item_id} is not part of order {order_id}.")
            if item["quantity_shipped"] + qty > item["quantity"]:
                raise invalid_input("Invalid Input", f"Order item {item_id} has only {item['quantity'] - item['quantity_shipped']} unit(s) left to ship.")
        now = sandbox.now()
        for item_id, qty in wanted.items():
            db.execute("UPDATE order_items SET quantity_shipped = quantity_shipped + ? WHERE order_item_id = ?", (qty, item_id))
        remaining = db.execute("SELECT SUM(quantity - quantity_shipped) AS r FROM order_items WHERE amazon_order_id = ?",
                               (order_id,)).fetchone()["r"]
        status = "Shipped" if remaining == 0 else "PartiallyShipped"
        db.execute("UPDATE orders SET status = ?, last_update = ? WHERE amazon_order_id = ?", (status, now, order_id))
        db.execute("INSERT INTO shipments (amazon_order_id, package, confirmed_at) VALUES (?, ?, ?)",
                   (order_id, json.dumps(pkg), now))
        order_change(sandbox, db, order_id, "Shipment Confirmed", now)
    return Response(status_code=204)
