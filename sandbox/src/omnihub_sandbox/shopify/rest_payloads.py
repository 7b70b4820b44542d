"""Webhook bodies in Shopify's REST shapes (see contracts/shopify/fixtures).

Webhooks carry REST resources, not GraphQL ones: numeric ids, snake_case keys, money as
strings, plus ``admin_graphql_api_id`` to bridge to GraphQL. ``orders/create`` sends an
order shaped like ``order.json``; ``inventory_levels/update`` sends an inventory level;
``locations/*`` a location and ``inventory_items/*`` an inventory item, with the keys of
Shopify's published sample payloads (shopify.dev/docs/api/webhooks).
"""

from __future__ import annotations

import json
import sqlite3
from decimal import Decimal

from .clock import iso_rest
from .gid import to_gid


def money(value: Decimal | str | int) -> str:
    return f"{Decimal(value):.2f}"


def _line_item(row: sqlite3.Row) -> dict:
    fulfillable = max(row["current_quantity"] - row["fulfilled_quantity"], 0)
    if row["fulfilled_quantity"] == 0:
        status = None
    elif fulfillable == 0:
        status = "fulfilled"
    else:
        status = "partial"
    return {
        "id": row["id"],
        "admin_graphql_api_id": to_gid("LineItem", row["id"]),
        "variant_id": row["variant_id"],
        "product_id": row["product_id"],
        "sku": row["sku"],
        "title": row["title"],
        "variant_title": row["variant_title"],
        "vendor": row["vendor"],
        "name": f"{row['title']} - {row['variant_title']}" if row["variant_title"] else row["title"],
        "quantity": row["quantity"],
        "current_quantity": row["current_quantity"],
        "fulfillable_quantity": fulfillable,
        "fulfillment_status": status,
        "fulfillment_service": "manual",
        "price": money(row["price"]),
        "grams": 200,
        "requires_shipping": True,
        "taxable": True,
        "gift_card": False,
        "product_exists": row["product_id"] is not None,
        "variant_inventory_management": "shopify",
        "properties": [],
        "total_discount": "0.00",
        "tax_lines": [],
    }


def line_item(row: sqlite3.Row) -> dict:
    """A line item as orders and refunds carry it."""
    return _line_item(row)


def fulfillment(conn: sqlite3.Connection, row: sqlite3.Row) -> dict:
    tracking = json.loads(row["tracking"])
    items = conn.execute(
        "SELECT li.*, fli.quantity AS fulfilled FROM fulfillment_line_items fli JOIN line_items li ON li.id = fli.line_item_id"
        " WHERE fli.fulfillment_id = ? ORDER BY fli.id", (row["id"],)
    ).fetchall()
    first = tracking[0] if tracking else {}
    return {
        "id": row["id"],
        "admin_graphql_api_id": to_gid("Fulfillment", row["id"]),
        "order_id": row["order_id"],
        "location_id": row["location_id"],
        "name": row["name"],
        "status": row["status"].lower(),
        "service": "manual",
        "created_at": iso_rest(row["created_at"]),
        "updated_at": iso_rest(row["updated_at"]),
        "receipt": {},
        "tracking_company": first.get("company"),
        "tracking_number": first.get("number"),
        "tracking_numbers": [t["number"] for t in tracking if t.get("number")],
        "tracking_url": first.get("url"),
        "tracking_urls": [t["url"] for t in tracking if t.get("url")],
        "line_items": [dict(_line_item(i), quantity=i["fulfilled"]) for i in items],
    }


def order(conn: sqlite3.Connection, order_id: int) -> dict:
    row = conn.execute("SELECT * FROM orders WHERE id = ?", (order_id,)).fetchone()
    items = conn.execute("SELECT * FROM line_items WHERE order_id = ? ORDER BY id", (order_id,)).fetchall()
    total = sum(Decimal(i["price"]) * i["current_quantity"] for i in items)
    original = sum(Decimal(i["price"]) * i["quantity"] for i in items)
    fulfillments = conn.execute("SELECT * FROM fulfillments WHERE order_id = ? ORDER BY id", (order_id,)).fetchall()
    refunds = conn.execute("SELECT body FROM refunds WHERE order_id = ? ORDER BY id", (order_id,)).fetchall()
    customer = json.loads(row["customer"]) if row["customer"] else None
    shipping = json.loads(row["shipping_address"]) if row["shipping_address"] else None
    return {
        "id": row["id"],
        "admin_graphql_api_id": to_gid("Order", row["id"]),
        "name": row["name"],
        "number": row["number"] - 1000,
        "order_number": row["number"],
        "email": row["email"],
        "contact_email": row["email"],
        "phone": row["phone"],
        "created_at": iso_rest(row["created_at"]),
        "updated_at": iso_rest(row["updated_at"]),
        "processed_at": iso_rest(row["processed_at"]),
        "cancelled_at": iso_rest(row["cancelled_at"]),
        "cancel_reason": row["cancel_reason"].lower() if row["cancel_reason"] else None,
        "closed_at": iso_rest(row["closed_at"]),
        "confirmed": True,
        "test": False,
        "currency": row["currency"],
        "presentment_currency": row["currency"],
        "financial_status": row["financial_status"].lower(),
        "fulfillment_status": {"FULFILLED": "fulfilled", "PARTIALLY_FULFILLED": "partial"}.get(row["fulfillment_status"]),
        "source_name": row["source_name"],
        "location_id": row["retail_location_id"],
        "tags": row["tags"],
        "note": row["note"],
        "note_attributes": [],
        "discount_codes": [],
        "buyer_accepts_marketing": False,
        "taxes_included": False,
        "total_price": money(total),
        "subtotal_price": money(total),
        "total_line_items_price": money(original),
        "current_total_price": money(total),
        "current_subtotal_price": money(total),
        "total_discounts": "0.00",
        "total_tax": "0.00",
        "total_weight": 200 * sum(i["current_quantity"] for i in items),
        "tax_lines": [],
        "shipping_lines": [] if row["source_name"] == "pos" else [
            {"code": "Standard", "price": "0.00", "source": "shopify", "title": "Standard"}],
        "line_items": [_line_item(i) for i in items],
        "fulfillments": [fulfillment(conn, f) for f in fulfillments],
        "refunds": [json.loads(r["body"]) for r in refunds],
        "customer": _customer(customer, row),
        "shipping_address": _address(shipping),
        "billing_address": _address(shipping),
        # Checkout details Shopify sends that the sandbox has no story for.
        "browser_ip": None, "cart_token": None, "checkout_id": None, "checkout_token": None, "client_details": None,
        "gateway": "bogus" if row["source_name"] != "pos" else "cash", "landing_site": None, "landing_site_ref": None,
        "payment_details": None, "processing_method": "direct", "reference": None, "referring_site": None,
        "source": None, "token": f"{row['id']:032x}", "total_price_usd": money(total), "user_id": None,
    }


def _address(address: dict | None) -> dict | None:
    if address is None:
        return None
    keys = ("address1", "address2", "city", "company", "country", "country_code", "first_name", "last_name",
            "latitude", "longitude", "name", "phone", "province", "province_code", "zip")
    out = {k: address.get(k) for k in keys}
    out["name"] = out["name"] or " ".join(filter(None, [address.get("first_name"), address.get("last_name")])) or None
    return out


def _customer(customer: dict | None, row: sqlite3.Row) -> dict | None:
    if customer is None:
        return None
    return {"id": customer["id"], "email": customer["email"], "phone": customer.get("phone"),
            "first_name": customer.get("first_name"),
            "last_name": customer.get("last_name"), "accepts_marketing": False, "created_at": iso_rest(row["created_at"]),
            "updated_at": iso_rest(row["updated_at"]), "default_address": None, "last_order_id": row["id"],
            "last_order_name": row["name"], "multipass_identifier": None, "note": None, "orders_count": 1,
            "state": "disabled", "tags": "", "total_spent": "0.00", "verified_email": True,
            "admin_graphql_api_id": f"gid://shopify/Customer/{customer['id']}"}


def product(conn: sqlite3.Connection, product_id: int) -> dict:
    row = conn.execute("SELECT * FROM products WHERE id = ?", (product_id,)).fetchone()
    variants = conn.execute(
        "SELECT v.*, (SELECT coalesce(sum(available), 0) FROM inventory_levels l WHERE l.inventory_item_id = v.inventory_item_id)"
        " AS inventory_quantity FROM variants v WHERE v.product_id = ? ORDER BY v.position", (product_id,)
    ).fetchall()
    return {
        "id": row["id"],
        "admin_graphql_api_id": to_gid("Product", row["id"]),
        "title": row["title"],
        "body_html": "",
        "images": [{"id": m["id"], "product_id": row["id"], "position": m["position"], "alt": m["alt"],
                    "width": m["width"], "height": m["height"], "src": m["url"], "variant_ids": [],
                    "admin_graphql_api_id": to_gid("MediaImage", m["id"]), "created_at": iso_rest(m["created_at"]),
                    "updated_at": iso_rest(m["updated_at"])}
                   for m in conn.execute("SELECT * FROM product_media WHERE product_id = ? ORDER BY position, id",
                                         (product_id,))],
        "options": [{"name": "Size", "position": 1, "product_id": row["id"]}],
        "published_at": iso_rest(row["created_at"]),
        "template_suffix": None,
        "handle": row["handle"],
        "vendor": row["vendor"],
        "product_type": row["product_type"],
        "status": row["status"].lower(),
        "tags": row["tags"],
        "created_at": iso_rest(row["created_at"]),
        "updated_at": iso_rest(row["updated_at"]),
        "variants": [
            {
                "id": v["id"],
                "admin_graphql_api_id": to_gid("ProductVariant", v["id"]),
                "product_id": v["product_id"],
                "title": v["title"],
                "sku": v["sku"],
                "barcode": v["barcode"],
                "price": money(v["price"]),
                "position": v["position"],
                "inventory_item_id": v["inventory_item_id"],
                "inventory_quantity": v["inventory_quantity"],
                "inventory_policy": v["inventory_policy"].lower(),
                "inventory_management": "shopify",
                "created_at": iso_rest(v["created_at"]),
                "updated_at": iso_rest(v["updated_at"]),
            }
            for v in variants
        ],
    }


def fulfillment_order_ref(fo_id: int, status: str) -> dict:
    return {"fulfillment_order": {"id": to_gid("FulfillmentOrder", fo_id), "status": status.lower()}}


def location(row: sqlite3.Row) -> dict:
    """locations/create, update, activate, deactivate (``country`` is the code, as Shopify sends it)."""
    return {
        "id": row["id"], "name": row["name"], "address1": row["address1"], "address2": None, "city": row["city"],
        "zip": row["zip"], "province": row["province"], "country": row["country_code"], "phone": row["phone"],
        "created_at": iso_rest(row["created_at"]), "updated_at": iso_rest(row["updated_at"]),
        "country_code": row["country_code"], "country_name": row["country"], "province_code": row["province_code"],
        "legacy": False, "active": bool(row["active"]), "admin_graphql_api_id": to_gid("Location", row["id"]),
    }


def inventory_item(row: sqlite3.Row) -> dict:
    """inventory_items/create and update."""
    return {
        "id": row["id"], "sku": row["sku"], "created_at": iso_rest(row["created_at"]),
        "updated_at": iso_rest(row["updated_at"]), "requires_shipping": bool(row["requires_shipping"]), "cost": None,
        "country_code_of_origin": None, "province_code_of_origin": None, "harmonized_system_code": None,
        "tracked": bool(row["tracked"]), "country_harmonized_system_codes": [], "weight_value": 0.0,
        "weight_unit": "lb", "admin_graphql_api_id": to_gid("InventoryItem", row["id"]),
    }


def inventory_item_deleted(item_id: int) -> dict:
    """inventory_items/delete: the id and what the item carried for customs, nothing else."""
    return {"id": item_id, "country_code_of_origin": None, "province_code_of_origin": None,
            "harmonized_system_code": None, "country_harmonized_system_codes": [],
            "admin_graphql_api_id": to_gid("InventoryItem", item_id)}


def inventory_level_disconnected(item_id: int, location_id: int) -> dict:
    return {"inventory_item_id": item_id, "location_id": location_id}
