"""Row -> GraphQL object for every type the sandbox serves, and loaders by numeric id."""

from __future__ import annotations

import json
import sqlite3
from decimal import Decimal

from graphql import GraphQLError

from ..clock import iso_api
from ..config import API_VERSION
from ..gid import inventory_level_gid, number_of, to_gid
from ..inventory_activation import can_deactivate
from ..search_syntax import contains_rule, date_rule, id_rule, text_rule
from ..stock import QUANTITY_NAMES, quantity_of
from .connections import sort_column, sql_connection


def _one(info, sql: str, params: tuple) -> sqlite3.Row | None:
    return info.context.store.one(sql, params)


def _row(info, sql: str, params: tuple) -> sqlite3.Row:
    return info.context.store.row(sql, params)


def _money_bag(amount: Decimal, currency: str = "USD") -> dict:
    money = {"amount": f"{amount:.2f}", "currencyCode": currency}
    return {"shopMoney": money, "presentmentMoney": dict(money)}


# -- locations -------------------------------------------------------------------------

LOCATION_RULES = {"name": text_rule("name"), "id": id_rule("id"), "created_at": date_rule("created_at"),
                  "updated_at": date_rule("updated_at")}


def location(row: sqlite3.Row) -> dict:
    lid = row["id"]
    formatted = [row["address1"], f"{row['city']} {row['province_code']} {row['zip']}", row["country"]]
    return {
        "__typename": "Location", "_id": lid, "id": to_gid("Location", lid), "legacyResourceId": str(lid),
        "name": row["name"], "isActive": bool(row["active"]), "fulfillsOnlineOrders": bool(row["fulfills_online_orders"]),
        "shipsInventory": bool(row["fulfills_online_orders"]), "hasActiveInventory": True,
        "isFulfillmentService": False, "createdAt": iso_api(row["created_at"]), "updatedAt": iso_api(row["updated_at"]),
        "address": {"address1": row["address1"], "address2": None, "city": row["city"], "country": row["country"],
                    "countryCode": row["country_code"], "formatted": [f for f in formatted if f],
                    "latitude": row["latitude"], "longitude": row["longitude"], "phone": row["phone"],
                    "province": row["province"], "provinceCode": row["province_code"], "zip": row["zip"]},
        "inventoryLevel": lambda info, inventoryItemId: _level_for(info, number_of(inventoryItemId, "InventoryItem"), lid),
        "inventoryLevels": lambda info, **args: sql_connection(
            info, source="inventory_levels", where="location_id = ?", params=[lid], args=args,
            sort_expr="inventory_item_id", id_expr="inventory_item_id", to_node=inventory_level, rules=LEVEL_RULES),
    }


def load_location(info, lid: int | None) -> dict | None:
    row = _one(info, "SELECT * FROM locations WHERE id = ?", (lid,)) if lid is not None else None
    return location(row) if row else None


# -- products and variants --------------------------------------------------------------

PRODUCT_RULES = {
    "title": contains_rule("title"), "handle": text_rule("handle"), "vendor": text_rule("vendor"),
    "product_type": text_rule("product_type"), "status": text_rule("status"), "id": id_rule("id"),
    "created_at": date_rule("created_at"), "updated_at": date_rule("updated_at"), "tag": contains_rule("tags"),
    "sku": lambda op, value: ("EXISTS (SELECT 1 FROM variants v WHERE v.product_id = products.id AND lower(v.sku) "
                              + ("LIKE ?)" if value.endswith("*") else "= ?)"),
                              [value[:-1].lower() + "%" if value.endswith("*") else value.lower()]),
}
PRODUCT_SORT = {"ID": "id", "TITLE": "title", "UPDATED_AT": "updated_at", "CREATED_AT": "created_at"}
VARIANT_RULES = {
    "sku": text_rule("sku"), "barcode": text_rule("barcode"), "title": contains_rule("title"), "id": id_rule("id"),
    "product_id": id_rule("product_id"), "created_at": date_rule("created_at"), "updated_at": date_rule("updated_at"),
    "inventory_item_id": id_rule("inventory_item_id"),
}
VARIANT_SORT = {"ID": "id", "SKU": "sku", "POSITION": "position"}


def product(row: sqlite3.Row) -> dict:
    pid = row["id"]

    def total_inventory(info) -> int:
        got = _row(info, "SELECT coalesce(sum(l.available), 0) AS n FROM inventory_levels l JOIN variants v"
                   " ON v.inventory_item_id = l.inventory_item_id WHERE v.product_id = ?", (pid,))
        return got["n"]

    return {
        "__typename": "Product", "_id": pid, "id": to_gid("Product", pid), "legacyResourceId": str(pid),
        "title": row["title"], "handle": row["handle"], "vendor": row["vendor"], "productType": row["product_type"],
        "status": row["status"], "tags": [t for t in row["tags"].split(",") if t], "tracksInventory": True,
        "createdAt": iso_api(row["created_at"]), "updatedAt": iso_api(row["updated_at"]),
        "totalInventory": total_inventory,
        "variantsCount": lambda info: {"count": _row(info, "SELECT count(*) AS n FROM variants WHERE product_id = ?",
                                                     (pid,))["n"], "precision": "EXACT"},
        "variants": lambda info, **args: sql_connection(
            info, source="variants", where="product_id = ?", params=[pid], args=args,
            sort_expr=sort_column(args, VARIANT_SORT, "position"), to_node=variant),
        "media": lambda info, **args: sql_connection(
            info, source="product_media", where="product_id = ?", params=[pid], args=args,
            sort_expr=sort_column(args, MEDIA_SORT, "position"), to_node=media_image),
        "featuredMedia": lambda info: _featured_media(info, pid),
    }


MEDIA_SORT = {"ID": "id", "POSITION": "position"}


def media_image(row: sqlite3.Row) -> dict:
    """A product image as Shopify serves it: the image itself, and the same image as the preview."""
    image = {"id": to_gid("ImageSource", row["id"]), "url": row["url"], "altText": row["alt"], "width": row["width"],
             "height": row["height"]}
    return {
        "__typename": "MediaImage", "id": to_gid("MediaImage", row["id"]), "alt": row["alt"],
        "mediaContentType": "IMAGE", "status": "READY", "mimeType": "image/jpeg", "image": image,
        "preview": {"image": image, "status": "READY"},
        "createdAt": iso_api(row["created_at"]), "updatedAt": iso_api(row["updated_at"]),
    }


def load_media_image(info, mid) -> dict | None:
    row = _one(info, "SELECT * FROM product_media WHERE id = ?", (mid,)) if mid is not None else None
    return media_image(row) if row else None


def _featured_media(info, pid) -> dict | None:
    row = _one(info, "SELECT * FROM product_media WHERE product_id = ? ORDER BY position, id LIMIT 1", (pid,))
    return media_image(row) if row else None


def load_product(info, pid) -> dict | None:
    row = _one(info, "SELECT * FROM products WHERE id = ?", (pid,)) if pid is not None else None
    return product(row) if row else None


def variant(row: sqlite3.Row) -> dict:
    vid, item_id = row["id"], row["inventory_item_id"]

    def available_sum(info, online_only: bool = False) -> int:
        sql = "SELECT coalesce(sum(l.available), 0) AS n FROM inventory_levels l"
        if online_only:
            sql += " JOIN locations loc ON loc.id = l.location_id AND loc.fulfills_online_orders = 1 AND loc.active = 1"
        return _row(info, sql + " WHERE l.inventory_item_id = ?", (item_id,))["n"]

    def display_name(info) -> str:
        prod = _row(info, "SELECT title FROM products WHERE id = ?", (row["product_id"],))
        return f"{prod['title']} - {row['title']}"

    return {
        "__typename": "ProductVariant", "_id": vid, "id": to_gid("ProductVariant", vid), "legacyResourceId": str(vid),
        "title": row["title"], "sku": row["sku"], "barcode": row["barcode"], "price": row["price"],
        "position": row["position"], "inventoryPolicy": row["inventory_policy"],
        "createdAt": iso_api(row["created_at"]), "updatedAt": iso_api(row["updated_at"]),
        "displayName": display_name,
        "inventoryQuantity": lambda info: available_sum(info),
        "sellableOnlineQuantity": lambda info: max(available_sum(info, online_only=True), 0),
        "availableForSale": lambda info: row["inventory_policy"] == "CONTINUE" or available_sum(info, True) > 0,
        "product": lambda info: load_product(info, row["product_id"]),
        "inventoryItem": lambda info: load_inventory_item(info, item_id),
    }


def load_variant(info, vid) -> dict | None:
    row = _one(info, "SELECT * FROM variants WHERE id = ?", (vid,)) if vid is not None else None
    return variant(row) if row else None


# -- inventory ----------------------------------------------------------------------------

ITEM_RULES = {"sku": text_rule("sku"), "id": id_rule("id"), "created_at": date_rule("created_at"),
              "updated_at": date_rule("updated_at")}
LEVEL_RULES = {"updated_at": date_rule("updated_at"), "created_at": date_rule("created_at"),
               "inventory_item_id": id_rule("inventory_item_id"), "location_id": id_rule("location_id")}


def inventory_item(row: sqlite3.Row) -> dict:
    iid = row["id"]
    return {
        "__typename": "InventoryItem", "_id": iid, "id": to_gid("InventoryItem", iid), "legacyResourceId": str(iid),
        "sku": row["sku"], "tracked": bool(row["tracked"]), "requiresShipping": bool(row["requires_shipping"]),
        "createdAt": iso_api(row["created_at"]), "updatedAt": iso_api(row["updated_at"]),
        "variant": lambda info: load_variant(info, row["variant_id"]),
        "inventoryLevel": lambda info, locationId: _level_for(info, iid, number_of(locationId, "Location")),
        "inventoryLevels": lambda info, **args: sql_connection(
            info, source="inventory_levels", where="inventory_item_id = ?", params=[iid], args=args,
            sort_expr="location_id", id_expr="location_id", to_node=inventory_level, rules=LEVEL_RULES),
    }


def load_inventory_item(info, iid) -> dict | None:
    memo = info.context.loaded if info.context.bulk else None
    if memo is not None and ("InventoryItem", iid) in memo:
        return memo[("InventoryItem", iid)]
    row = _one(info, "SELECT * FROM inventory_items WHERE id = ?", (iid,)) if iid is not None else None
    item = inventory_item(row) if row else None
    if memo is not None:
        memo[("InventoryItem", iid)] = item
    return item


def inventory_level(row: sqlite3.Row) -> dict:
    item_id, location_id = row["inventory_item_id"], row["location_id"]
    snapshot = {k: row[k] for k in row.keys()}

    def quantities(info, names: list[str]) -> list[dict]:
        unknown = [n for n in names if n not in QUANTITY_NAMES]
        if unknown:
            raise GraphQLError(f"Invalid quantity name(s): {', '.join(unknown)}. Valid names are: "
                               f"{', '.join(QUANTITY_NAMES)}.", extensions={"code": "BAD_REQUEST"})
        return [{"__typename": "InventoryQuantity",
                 "id": f"gid://shopify/InventoryQuantity/{location_id}?inventory_item_id={item_id}&name={n}",
                 "name": n, "quantity": quantity_of(snapshot, n), "updatedAt": iso_api(row["updated_at"])}
                for n in names]

    return {
        "__typename": "InventoryLevel", "id": inventory_level_gid(location_id, item_id),
        "canDeactivate": can_deactivate(row),
        "createdAt": iso_api(row["created_at"]), "updatedAt": iso_api(row["updated_at"]),
        "item": lambda info: load_inventory_item(info, item_id),
        "location": lambda info: load_location(info, location_id),
        "quantities": quantities,
    }


def _level_for(info, item_id, location_id) -> dict | None:
    if item_id is None or location_id is None:
        return None
    row = _one(info, "SELECT * FROM inventory_levels WHERE inventory_item_id = ? AND location_id = ?",
               (item_id, location_id))
    return inventory_level(row) if row else None


def load_inventory_level(info, gid: str) -> dict | None:
    from ..gid import InvalidGlobalId, parse_gid

    try:
        _, location_id, params = parse_gid(gid, "InventoryLevel")
        item_id = int(params.get("inventory_item_id", ""))
    except (InvalidGlobalId, ValueError):
        return None
    return _level_for(info, item_id, location_id)


def adjustment_group(row: sqlite3.Row) -> dict:
    gid_ = row["id"]

    def changes(info, inventoryItemIds=None, locationIds=None, quantityNames=None) -> list[dict]:
        rows = info.context.store.all("SELECT * FROM adjustment_changes WHERE group_id = ? ORDER BY seq", (gid_,))
        items = {number_of(i, "InventoryItem") for i in inventoryItemIds} if inventoryItemIds else None
        locations = {number_of(i, "Location") for i in locationIds} if locationIds else None
        out = []
        for c in rows:
            if items is not None and c["inventory_item_id"] not in items:
                continue
            if locations is not None and c["location_id"] not in locations:
                continue
            if quantityNames and c["name"] not in quantityNames:
                continue
            out.append({"name": c["name"], "delta": c["delta"], "quantityAfterChange": c["quantity_after"],
                        "ledgerDocumentUri": c["ledger_document_uri"],
                        "item": (lambda i: lambda info: load_inventory_item(info, i))(c["inventory_item_id"]),
                        "location": (lambda i: lambda info: load_location(info, i))(c["location_id"])})
        return out

    return {"__typename": "InventoryAdjustmentGroup", "id": to_gid("InventoryAdjustmentGroup", gid_),
            "reason": row["reason"], "referenceDocumentUri": row["reference_document_uri"],
            "createdAt": iso_api(row["created_at"]), "changes": changes}


def load_adjustment_group(info, gid_) -> dict | None:
    row = _one(info, "SELECT * FROM adjustment_groups WHERE id = ?", (gid_,)) if gid_ is not None else None
    return adjustment_group(row) if row else None


# -- orders ------------------------------------------------------------------------------

def _status_rule(op: str, value: str):
    value = value.lower()
    if value == "open":
        return "cancelled_at IS NULL AND closed_at IS NULL", []
    if value == "closed":
        return "closed_at IS NOT NULL", []
    if value == "cancelled":
        return "cancelled_at IS NOT NULL", []
    return "1=1", []


def _fulfillment_status_rule(op: str, value: str):
    value = value.lower()
    mapping = {"shipped": ["FULFILLED"], "fulfilled": ["FULFILLED"], "partial": ["PARTIALLY_FULFILLED"],
               "unshipped": ["UNFULFILLED"], "unfulfilled": ["UNFULFILLED", "PARTIALLY_FULFILLED"]}
    wanted = mapping.get(value)
    if wanted is None:
        return "1=1", []
    return f"fulfillment_status IN ({','.join('?' * len(wanted))})", wanted


ORDER_RULES = {
    "updated_at": date_rule("updated_at"), "created_at": date_rule("created_at"),
    "processed_at": date_rule("processed_at"), "status": _status_rule, "fulfillment_status": _fulfillment_status_rule,
    "financial_status": text_rule("financial_status"), "name": text_rule("name"), "id": id_rule("id"),
    "source_name": text_rule("source_name"), "location_id": id_rule("retail_location_id"), "email": text_rule("email"),
    "sku": lambda op, value: ("EXISTS (SELECT 1 FROM line_items li WHERE li.order_id = orders.id AND li.sku = ?)", [value]),
}
ORDER_SORT = {"ID": "id", "CREATED_AT": "created_at", "UPDATED_AT": "updated_at", "PROCESSED_AT": "processed_at"}
FO_RULES = {"status": text_rule("status"), "assigned_location_id": id_rule("location_id"), "id": id_rule("id"),
            "updated_at": date_rule("updated_at"), "created_at": date_rule("created_at"),
            "order_id": id_rule("order_id"), "request_status": text_rule("request_status")}
FO_SORT = {"ID": "id", "UPDATED_AT": "updated_at"}


def order(row: sqlite3.Row) -> dict:
    oid = row["id"]

    def totals(info) -> sqlite3.Row:
        return _row(info, "SELECT coalesce(sum(quantity), 0) AS q, coalesce(sum(current_quantity), 0) AS cq,"
                    " group_concat(price || ':' || quantity || ':' || current_quantity) AS prices"
                    " FROM line_items WHERE order_id = ?", (oid,))

    def amounts(info, current: bool) -> Decimal:
        got = totals(info)["prices"] or ""
        total = Decimal(0)
        for part in filter(None, got.split(",")):
            price, qty, cqty = part.split(":")
            total += Decimal(price) * int(cqty if current else qty)
        return total

    address = json.loads(row["shipping_address"]) if row["shipping_address"] else None
    return {
        "__typename": "Order", "_id": oid, "id": to_gid("Order", oid), "legacyResourceId": str(oid),
        "name": row["name"], "number": row["number"] - 1000, "email": row["email"], "phone": row["phone"],
        "note": row["note"], "tags": [t for t in row["tags"].split(",") if t], "test": False, "confirmed": True,
        "edited": bool(row["edited"]), "sourceName": row["source_name"], "sourceIdentifier": None,
        "currencyCode": row["currency"], "cancelReason": row["cancel_reason"],
        "cancellation": lambda info: order_cancellation(info, oid) if row["cancelled_at"] else None,
        "cancelledAt": iso_api(row["cancelled_at"]), "closed": row["closed_at"] is not None,
        "closedAt": iso_api(row["closed_at"]), "createdAt": iso_api(row["created_at"]),
        "updatedAt": iso_api(row["updated_at"]), "processedAt": iso_api(row["processed_at"]),
        "displayFinancialStatus": row["financial_status"], "displayFulfillmentStatus": row["fulfillment_status"],
        "subtotalLineItemsQuantity": lambda info: totals(info)["q"],
        "currentSubtotalLineItemsQuantity": lambda info: totals(info)["cq"],
        "totalPriceSet": lambda info: _money_bag(amounts(info, False), row["currency"]),
        "currentTotalPriceSet": lambda info: _money_bag(amounts(info, True), row["currency"]),
        "retailLocation": lambda info: load_location(info, row["retail_location_id"]),
        "shippingAddress": None if address is None else {
            "__typename": "MailingAddress", "id": f"gid://shopify/MailingAddress/{oid}?model_name=Address",
            "address1": address.get("address1"), "address2": address.get("address2"), "city": address.get("city"),
            "countryCodeV2": address.get("country_code"), "firstName": address.get("first_name"),
            "lastName": address.get("last_name"), "latitude": address.get("latitude"),
            "longitude": address.get("longitude"),
            "name": " ".join(filter(None, [address.get("first_name"), address.get("last_name")])) or None,
            "phone": address.get("phone"), "province": address.get("province"),
            "provinceCode": address.get("province_code"), "zip": address.get("zip")},
        "lineItems": lambda info, **args: sql_connection(
            info, source="line_items", where="order_id = ?", params=[oid], args=args, to_node=line_item),
        "fulfillmentOrders": lambda info, **args: sql_connection(
            info, source="fulfillment_orders", where="order_id = ?", params=[oid], args=args, to_node=fulfillment_order,
            rules=FO_RULES),
        "fulfillments": lambda info, first=None, query=None: [
            fulfillment(r) for r in info.context.store.all(
                "SELECT * FROM fulfillments WHERE order_id = ? ORDER BY id" + (f" LIMIT {int(first)}" if first else ""),
                (oid,))],
        # returns, refunds and payments: return_views.py
        "refunds": lambda info, first=None: _return_views().order_refunds(info, oid, first),
        "returns": lambda info, **args: _return_views().order_returns(info, oid, args),
        "returnStatus": lambda info: _return_views().order_return_status(info, oid),
        "transactions": lambda info, first=None: _return_views().order_transactions(info, row, first),
    }


def _return_views():
    from . import return_views  # it builds on this module's views

    return return_views


def order_cancellation(info, oid: int) -> dict:
    row = _one(info, "SELECT staff_note FROM order_cancellations WHERE order_id = ?", (oid,))
    return {"__typename": "OrderCancellation", "staffNote": row["staff_note"] if row else None}


def order_cancel_job_result(job_id: int, oid: int) -> dict:
    """The cancellation's job result: the work is done within the call (cancellations.py)."""
    return {"__typename": "OrderCancelJobResult", "id": to_gid("Job", job_id), "done": True, "status": "SUCCEEDED",
            "errors": [], "order": lambda info: load_order(info, oid)}


def load_order(info, oid) -> dict | None:
    row = _one(info, "SELECT * FROM orders WHERE id = ?", (oid,)) if oid is not None else None
    return order(row) if row else None


def line_item(row: sqlite3.Row) -> dict:
    lid = row["id"]
    unit = Decimal(row["price"])
    unfulfilled = max(row["current_quantity"] - row["fulfilled_quantity"], 0)
    return {
        "__typename": "LineItem", "id": to_gid("LineItem", lid), "title": row["title"], "sku": row["sku"],
        "name": f"{row['title']} - {row['variant_title']}" if row["variant_title"] else row["title"],
        "variantTitle": row["variant_title"], "vendor": row["vendor"], "quantity": row["quantity"],
        "currentQuantity": row["current_quantity"], "unfulfilledQuantity": unfulfilled,
        "refundableQuantity": max(row["fulfilled_quantity"] - row["refunded_quantity"], 0) + unfulfilled,
        "nonFulfillableQuantity": row["quantity"] - row["current_quantity"], "requiresShipping": True,
        "originalUnitPriceSet": _money_bag(unit), "originalTotalSet": _money_bag(unit * row["quantity"]),
        "variant": lambda info: load_variant(info, row["variant_id"]),
        "product": lambda info: load_product(info, row["product_id"]),
    }


def load_line_item(info, lid) -> dict | None:
    row = _one(info, "SELECT * FROM line_items WHERE id = ?", (lid,)) if lid is not None else None
    return line_item(row) if row else None


def fulfillment_order(row: sqlite3.Row) -> dict:
    fid = row["id"]

    def assigned(info) -> dict:
        loc = _one(info, "SELECT * FROM locations WHERE id = ?", (row["location_id"],))
        where = loc or _row(info, "SELECT * FROM deleted_locations WHERE id = ?", (row["location_id"],))
        return {"address1": where["address1"], "address2": None, "city": where["city"],
                "countryCode": where["country_code"], "name": where["name"], "phone": where["phone"],
                "province": where["province"], "zip": where["zip"],
                "location": (lambda info: location(loc)) if loc else None}

    def order_field(info, key):
        got = _one(info, "SELECT * FROM orders WHERE id = ?", (row["order_id"],))
        return {"name": got["name"], "processed": iso_api(got["processed_at"])}[key]

    return {
        "__typename": "FulfillmentOrder", "id": to_gid("FulfillmentOrder", fid), "status": row["status"],
        "requestStatus": row["request_status"], "createdAt": iso_api(row["created_at"]),
        "updatedAt": iso_api(row["updated_at"]), "orderId": to_gid("Order", row["order_id"]),
        "orderName": lambda info: order_field(info, "name"),
        "orderProcessedAt": lambda info: order_field(info, "processed"),
        "assignedLocation": assigned,
        "fulfillmentHolds": lambda info: [fulfillment_hold(h) for h in info.context.store.all(
            "SELECT * FROM fulfillment_holds WHERE fulfillment_order_id = ? AND released_at IS NULL ORDER BY id", (fid,))],
        "order": lambda info: load_order(info, row["order_id"]),
        "lineItems": lambda info, **args: sql_connection(
            info, source="fulfillment_order_line_items", where="fulfillment_order_id = ?", params=[fid], args=args,
            to_node=fulfillment_order_line_item),
        "fulfillments": lambda info, **args: sql_connection(
            info, source="fulfillments", where="id IN (SELECT fulfillment_id FROM fulfillment_line_items"
            " WHERE fulfillment_order_id = ?)", params=[fid], args=args, to_node=fulfillment),
    }


def fulfillment_hold(row: sqlite3.Row) -> dict:
    from ..fulfillment_holds import display_reason

    return {"__typename": "FulfillmentHold", "id": to_gid("FulfillmentHold", row["id"]), "reason": row["reason"],
            "reasonNotes": row["reason_notes"], "handle": row["handle"], "heldByRequestingApp": True,
            "displayReason": display_reason(row["reason"]), "releaseWarning": None}


def load_fulfillment_hold(info, hold_id) -> dict | None:
    row = _one(info, "SELECT * FROM fulfillment_holds WHERE id = ?", (hold_id,)) if hold_id is not None else None
    return fulfillment_hold(row) if row else None


def load_fulfillment_order(info, fid) -> dict | None:
    row = _one(info, "SELECT * FROM fulfillment_orders WHERE id = ?", (fid,)) if fid is not None else None
    return fulfillment_order(row) if row else None


def fulfillment_order_line_item(row: sqlite3.Row) -> dict:
    def line(info) -> sqlite3.Row:
        return _row(info, "SELECT * FROM line_items WHERE id = ?", (row["line_item_id"],))

    return {
        "__typename": "FulfillmentOrderLineItem", "id": to_gid("FulfillmentOrderLineItem", row["id"]),
        "totalQuantity": row["total_quantity"], "remainingQuantity": row["remaining_quantity"],
        "requiresShipping": True,
        "sku": lambda info: line(info)["sku"],
        "productTitle": lambda info: line(info)["title"],
        "variantTitle": lambda info: line(info)["variant_title"],
        "inventoryItemId": lambda info: to_gid("InventoryItem", line(info)["inventory_item_id"]),
        "lineItem": lambda info: line_item(line(info)),
        "variant": lambda info: load_variant(info, line(info)["variant_id"]),
    }


def fulfillment(row: sqlite3.Row) -> dict:
    fid = row["id"]
    tracking = json.loads(row["tracking"])
    return {
        "__typename": "Fulfillment", "id": to_gid("Fulfillment", fid), "legacyResourceId": str(fid),
        "name": row["name"], "status": row["status"], "createdAt": iso_api(row["created_at"]),
        "updatedAt": iso_api(row["updated_at"]),
        "trackingInfo": lambda info, first=None: tracking[: first] if first else tracking,
        "totalQuantity": lambda info: _row(info, "SELECT coalesce(sum(quantity), 0) AS n FROM fulfillment_line_items"
                                           " WHERE fulfillment_id = ?", (fid,))["n"],
        "location": lambda info: load_location(info, row["location_id"]),
        "order": lambda info: load_order(info, row["order_id"]),
        "fulfillmentLineItems": lambda info, **args: sql_connection(
            info, source="fulfillment_line_items", where="fulfillment_id = ?", params=[fid], args=args,
            to_node=fulfillment_line_item),
    }


def fulfillment_line_item(row: sqlite3.Row) -> dict:
    def line(info) -> sqlite3.Row:
        return _row(info, "SELECT * FROM line_items WHERE id = ?", (row["line_item_id"],))

    return {"__typename": "FulfillmentLineItem", "id": to_gid("FulfillmentLineItem", row["id"]),
            "quantity": row["quantity"], "lineItem": lambda info: line_item(line(info)),
            "originalTotalSet": lambda info: _money_bag(Decimal(line(info)["price"]) * row["quantity"])}


def load_fulfillment_line_item(info, fli_id) -> dict | None:
    row = _one(info, "SELECT * FROM fulfillment_line_items WHERE id = ?", (fli_id,)) if fli_id is not None else None
    return fulfillment_line_item(row) if row else None


def load_fulfillment(info, fid) -> dict | None:
    row = _one(info, "SELECT * FROM fulfillments WHERE id = ?", (fid,)) if fid is not None else None
    return fulfillment(row) if row else None


# -- webhook subscriptions and bulk operations ----------------------------------------------

def webhook_subscription(row: sqlite3.Row) -> dict:
    from ..events import TOPIC_ENUMS

    return {
        "__typename": "WebhookSubscription", "id": to_gid("WebhookSubscription", row["id"]),
        "legacyResourceId": str(row["id"]), "topic": TOPIC_ENUMS[row["topic"]], "uri": row["uri"],
        "format": row["format"], "filter": row["filter"], "includeFields": json.loads(row["include_fields"]),
        "createdAt": iso_api(row["created_at"]), "updatedAt": iso_api(row["updated_at"]),
        "apiVersion": {"displayName": API_VERSION, "handle": API_VERSION, "supported": True},
    }


def load_webhook_subscription(info, sid) -> dict | None:
    row = _one(info, "SELECT * FROM webhook_subscriptions WHERE id = ?", (sid,)) if sid is not None else None
    return webhook_subscription(row) if row else None


def bulk_operation(row: sqlite3.Row) -> dict:
    url = None
    if row["file_name"] and row["status"] == "COMPLETED" and row["object_count"]:
        url = f"{row['base_url']}/_sandbox/bulk/{row['file_name']}"
    partial = None  # what a failed operation had written before it failed, when anything
    if row["file_name"] and row["status"] == "FAILED" and row["object_count"]:
        partial = f"{row['base_url']}/_sandbox/bulk/{row['file_name']}"
    return {
        "__typename": "BulkOperation", "id": to_gid("BulkOperation", row["id"]), "type": row["type"],
        "status": row["status"], "query": row["query"], "errorCode": row["error_code"],
        "objectCount": str(row["object_count"]), "rootObjectCount": str(row["root_object_count"]),
        "fileSize": str(row["file_size"]) if row["file_size"] is not None else None, "url": url,
        "partialDataUrl": partial, "createdAt": iso_api(row["created_at"]), "completedAt": iso_api(row["completed_at"]),
    }


def load_bulk_operation(info, bid) -> dict | None:
    row = _one(info, "SELECT * FROM bulk_operations WHERE id = ?", (bid,)) if bid is not None else None
    return bulk_operation(row) if row else None
