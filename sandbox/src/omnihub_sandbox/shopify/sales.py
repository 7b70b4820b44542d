"""Orders: online checkouts, POS sales, fulfillments, cancellations, refunds, edits.

Stock follows Shopify's rules: an online order moves units from available to committed at
the location its fulfillment order is routed to (deny policy: a shopper cannot buy more
than is available across the locations that fulfil online orders); a POS sale is fulfilled
on the spot, so available and on hand drop at the register's location. Whenever units
physically leave a location, the shelf is checked and any excess is counted as oversold.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from . import rest_payloads
from .events import Event
from .gid import number_of
from .order_status import refresh_fulfillment_status
from .refunds import RefundAsk, RefundLine, create_refund
from .stock import apply_delta, inventory_level_event, level_row, take_from_shelf

NextId = Callable[[str], int]


class SaleRejected(Exception):
    """The shop refused the sale (unknown product, not enough stock, ...)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class SaleLine:
    variant_id: int
    quantity: int


def resolve_lines(conn: sqlite3.Connection, lines: list[dict]) -> list[tuple[sqlite3.Row, int]]:
    """Lines as [{sku|variant_id, quantity}] -> (variant row, quantity); validates each."""
    if not lines:
        raise SaleRejected("EMPTY", "an order needs at least one line")
    if len(lines) > 250:
        raise SaleRejected("TOO_MANY_LINES", "an order can have at most 250 lines")
    out = []
    for line in lines:
        quantity = line.get("quantity")
        if not isinstance(quantity, int) or quantity <= 0 or quantity > 10_000:
            raise SaleRejected("INVALID_QUANTITY", "quantity must be a whole number between 1 and 10000")
        if line.get("variant_id") is not None:
            raw = line["variant_id"]
            variant_id = number_of(raw, "ProductVariant") if isinstance(raw, str) else raw
            row = conn.execute("SELECT * FROM variants WHERE id = ?", (variant_id,)).fetchone()
        elif line.get("sku"):
            row = conn.execute("SELECT * FROM variants WHERE sku = ?", (line["sku"],)).fetchone()
        else:
            raise SaleRejected("INVALID_LINE", "each line needs a sku or a variant_id")
        if row is None:
            raise SaleRejected("NOT_FOUND", f"no such product variant: {line.get('sku') or line.get('variant_id')}")
        out.append((row, quantity))
    return out


def _online_locations(conn) -> list[sqlite3.Row]:
    # Default routing priority: warehouses first, then stores (ship-from-store), by id.
    return conn.execute(
        "SELECT * FROM locations WHERE active = 1 AND fulfills_online_orders = 1"
        " ORDER BY CASE kind WHEN 'warehouse' THEN 0 ELSE 1 END, id"
    ).fetchall()


def _route(conn, wanted: list[tuple[sqlite3.Row, int]]) -> dict[int, list[tuple[sqlite3.Row, int]]]:
    """Location id -> [(variant, units)]: one location for everything if one can, else split."""
    locations = _online_locations(conn)

    def available(variant, location_id) -> int:
        level = level_row(conn, variant["inventory_item_id"], location_id)
        return level["available"] if level else 0

    for location in locations:
        if all(available(v, location["id"]) >= q for v, q in wanted):
            return {location["id"]: list(wanted)}
    plan: dict[int, list[tuple[sqlite3.Row, int]]] = {}
    for variant, quantity in wanted:
        remaining = quantity
        for location in locations:
            take = min(remaining, max(available(variant, location["id"]), 0))
            if take > 0:
                plan.setdefault(location["id"], []).append((variant, take))
                remaining -= take
            if remaining == 0:
                break
        if remaining:
            raise SaleRejected("OUT_OF_STOCK", f"{variant['sku']} is sold out (deny policy)")
    return plan


def _insert_order(conn, next_id: NextId, source: str, retail_location_id, email, customer, address,
                  financial_status: str, fulfillment_status: str, now_iso: str, phone: str | None = None) -> tuple[int, int]:
    order_id = next_id("Order")
    number = next_id("OrderNumber")
    conn.execute(
        "INSERT INTO orders(id, number, name, source_name, retail_location_id, email, phone, customer, shipping_address,"
        " financial_status, fulfillment_status, currency, created_at, updated_at, processed_at)"
        " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
        (order_id, number, f"#{number}", source, retail_location_id, email, phone,
         json.dumps(customer) if customer else None, json.dumps(address) if address else None,
         financial_status, fulfillment_status, "USD", now_iso, now_iso, now_iso),
    )
    return order_id, number


def _insert_line(conn, next_id: NextId, order_id: int, variant: sqlite3.Row, quantity: int) -> int:
    product = conn.execute("SELECT title, vendor FROM products WHERE id = ?", (variant["product_id"],)).fetchone()
    line_id = next_id("LineItem")
    conn.execute(
        "INSERT INTO line_items(id, order_id, variant_id, product_id, inventory_item_id, sku, title, variant_title,"
        " vendor, quantity, current_quantity, price) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
        (line_id, order_id, variant["id"], variant["product_id"], variant["inventory_item_id"], variant["sku"],
         product["title"], variant["title"], product["vendor"], quantity, quantity, variant["price"]),
    )
    return line_id


def _customer(email: str | None, name: str | None, next_id: NextId, phone: str | None = None) -> dict | None:
    if not email:
        return None
    first, _, last = (name or "Sandbox Shopper").partition(" ")
    return {"id": next_id("Order") + 7, "email": email, "phone": phone, "first_name": first, "last_name": last or None,
            "admin_graphql_api_id": None}


def place_online_order(conn, next_id: NextId, lines: list[dict], now_iso: str, *, email: str | None = None,
                       customer_name: str | None = None, shipping_address: dict | None = None,
                       phone: str | None = None) -> tuple[int, list[Event]]:
    wanted = resolve_lines(conn, lines)
    merged: dict[int, tuple[sqlite3.Row, int]] = {}
    for variant, quantity in wanted:
        prev = merged.get(variant["id"])
        merged[variant["id"]] = (variant, quantity + (prev[1] if prev else 0))
    plan = _route(conn, list(merged.values()))
    customer = _customer(email, customer_name, next_id, phone)
    order_id, _ = _insert_order(conn, next_id, "web", None, email, customer, shipping_address or _default_address(),
                                "PAID", "UNFULFILLED", now_iso, phone)
    line_ids = {variant["id"]: _insert_line(conn, next_id, order_id, variant, quantity)
                for variant, quantity in merged.values()}
    events: list[Event] = []
    routed: list[int] = []
    for location_id, parts in plan.items():
        fo_id = next_id("FulfillmentOrder")
        routed.append(fo_id)
        conn.execute(
            "INSERT INTO fulfillment_orders(id, order_id, location_id, status, request_status, created_at, updated_at)"
            " VALUES (?,?,?,?,?,?,?)", (fo_id, order_id, location_id, "OPEN", "UNSUBMITTED", now_iso, now_iso))
        for variant, units in parts:
            conn.execute(
                "INSERT INTO fulfillment_order_line_items(id, fulfillment_order_id, line_item_id, total_quantity,"
                " remaining_quantity) VALUES (?,?,?,?,?)",
                (next_id("FulfillmentOrderLineItem"), fo_id, line_ids[variant["id"]], units, units))
            apply_delta(conn, variant["inventory_item_id"], location_id, "available", -units, now_iso)
            apply_delta(conn, variant["inventory_item_id"], location_id, "committed", units, now_iso)
            events.append(inventory_level_event(conn, variant["inventory_item_id"], location_id, now_iso))
    events.insert(0, Event("orders/create", rest_payloads.order(conn, order_id), now_iso))
    events += [Event("fulfillment_orders/order_routing_complete", rest_payloads.fulfillment_order_ref(fo, "OPEN"),
                     now_iso) for fo in routed]
    return order_id, events


def place_pos_sale(conn, next_id: NextId, location_id: int, lines: list[dict], now_iso: str, *,
                   email: str | None = None) -> tuple[int, int, list[Event]]:
    """A sale at a POS register: paid and handed over at once. Returns (order id, oversold units, events)."""
    location = conn.execute("SELECT * FROM locations WHERE id = ?", (location_id,)).fetchone()
    if location is None or not location["pos"] or not location["active"]:
        raise SaleRejected("NOT_A_POS_LOCATION", f"location {location_id} has no POS")
    wanted = resolve_lines(conn, lines)
    for variant, quantity in wanted:
        level = level_row(conn, variant["inventory_item_id"], location_id)
        if level is None or level["available"] < quantity:
            raise SaleRejected("OUT_OF_STOCK", f"{variant['sku']} is not available at this store (deny policy)")
    order_id, number = _insert_order(conn, next_id, "pos", location_id, email, _customer(email, None, next_id), None,
                                     "PAID", "FULFILLED", now_iso)
    fo_id = next_id("FulfillmentOrder")
    conn.execute(
        "INSERT INTO fulfillment_orders(id, order_id, location_id, status, request_status, created_at, updated_at)"
        " VALUES (?,?,?,?,?,?,?)", (fo_id, order_id, location_id, "CLOSED", "UNSUBMITTED", now_iso, now_iso))
    fulfillment_id = next_id("Fulfillment")
    conn.execute(
        "INSERT INTO fulfillments(id, order_id, location_id, name, status, created_at, updated_at) VALUES (?,?,?,?,?,?,?)",
        (fulfillment_id, order_id, location_id, f"#{number}.1", "SUCCESS", now_iso, now_iso))
    oversold = 0
    events: list[Event] = []
    for variant, quantity in wanted:
        line_id = _insert_line(conn, next_id, order_id, variant, quantity)
        conn.execute("UPDATE line_items SET fulfilled_quantity = ? WHERE id = ?", (quantity, line_id))
        conn.execute(
            "INSERT INTO fulfillment_order_line_items(id, fulfillment_order_id, line_item_id, total_quantity,"
            " remaining_quantity) VALUES (?,?,?,?,0)", (next_id("FulfillmentOrderLineItem"), fo_id, line_id, quantity))
        conn.execute(
            "INSERT INTO fulfillment_line_items(id, fulfillment_id, fulfillment_order_id, line_item_id, quantity)"
            " VALUES (?,?,?,?,?)", (next_id("FulfillmentLineItem"), fulfillment_id, fo_id, line_id, quantity))
        apply_delta(conn, variant["inventory_item_id"], location_id, "available", -quantity, now_iso)
        oversold += take_from_shelf(conn, variant["inventory_item_id"], location_id, quantity, order_id=order_id,
                                    channel="pos", now_iso=now_iso)
        events.append(inventory_level_event(conn, variant["inventory_item_id"], location_id, now_iso))
    events.insert(0, Event("orders/create", rest_payloads.order(conn, order_id), now_iso))
    return order_id, oversold, events


def _default_address() -> dict:
    return {"first_name": "Sandbox", "last_name": "Shopper", "address1": "1 Market Street", "city": "San Francisco",
            "province": "California", "province_code": "CA", "country": "United States", "country_code": "US",
            "zip": "94105", "latitude": 37.7936, "longitude": -122.3958}


def create_fulfillment(conn, next_id: NextId, data: dict, now_iso: str) -> tuple[int | None, list[dict], list[Event]]:
    """fulfillmentCreate: units leave the fulfillment orders' locations (oversell counted there)."""
    groups = data["lineItemsByFulfillmentOrder"]
    errors: list[dict] = []
    work: list[tuple[sqlite3.Row, list[tuple[sqlite3.Row, int]]]] = []
    order_ids: set[int] = set()
    if not groups:
        errors.append({"field": ["fulfillment", "lineItemsByFulfillmentOrder"], "message": "Line items are required."})
    for gi, group in enumerate(groups):
        fo_id = number_of(group["fulfillmentOrderId"], "FulfillmentOrder")
        fo = conn.execute("SELECT * FROM fulfillment_orders WHERE id = ?", (fo_id,)).fetchone() if fo_id else None
        path = ["fulfillment", "lineItemsByFulfillmentOrder", str(gi)]
        if fo is None:
            errors.append({"field": path + ["fulfillmentOrderId"], "message": "Fulfillment order does not exist."})
            continue
        if fo["status"] not in ("OPEN", "IN_PROGRESS"):
            errors.append({"field": path + ["fulfillmentOrderId"],
                           "message": f"Fulfillment order {fo_id} has an unfulfillable status= {fo['status'].lower()}."})
            continue
        order_ids.add(fo["order_id"])
        items = conn.execute("SELECT * FROM fulfillment_order_line_items WHERE fulfillment_order_id = ? ORDER BY id",
                             (fo_id,)).fetchall()
        wanted: list[tuple[sqlite3.Row, int]] = []
        if group.get("fulfillmentOrderLineItems") is None:
            wanted = [(i, i["remaining_quantity"]) for i in items if i["remaining_quantity"] > 0]
        else:
            by_id = {i["id"]: i for i in items}
            for li, line in enumerate(group["fulfillmentOrderLineItems"]):
                item = by_id.get(number_of(line["id"], "FulfillmentOrderLineItem") or -1)
                if item is None:
                    errors.append({"field": path + ["fulfillmentOrderLineItems", str(li), "id"],
                                   "message": "Fulfillment order line item does not belong to the fulfillment order."})
                elif line["quantity"] <= 0 or line["quantity"] > item["remaining_quantity"]:
                    errors.append({"field": path + ["fulfillmentOrderLineItems", str(li), "quantity"],
                                   "message": "Invalid fulfillment order line item quantity requested."})
                else:
                    wanted.append((item, line["quantity"]))
        if not wanted and not errors:
            errors.append({"field": path, "message": "Fulfillment order has no remaining line items to fulfill."})
        work.append((fo, wanted))
    if len(order_ids) > 1:
        errors.append({"field": ["fulfillment"], "message": "All fulfillment orders must belong to the same order."})
    if errors:
        return None, errors, []
    order_id = order_ids.pop()
    order = conn.execute("SELECT * FROM orders WHERE id = ?", (order_id,)).fetchone()
    if order["cancelled_at"]:
        return None, [{"field": ["fulfillment"], "message": "The order has been cancelled."}], []
    count = conn.execute("SELECT count(*) AS n FROM fulfillments WHERE order_id = ?", (order_id,)).fetchone()["n"]
    tracking = _tracking(data.get("trackingInfo"))
    fulfillment_id = next_id("Fulfillment")
    conn.execute(
        "INSERT INTO fulfillments(id, order_id, location_id, name, status, tracking, created_at, updated_at)"
        " VALUES (?,?,?,?,?,?,?,?)",
        (fulfillment_id, order_id, work[0][0]["location_id"], f"{order['name']}.{count + 1}", "SUCCESS",
         json.dumps(tracking), now_iso, now_iso))
    events: list[Event] = []
    for fo, wanted in work:
        for item, units in wanted:
            line = conn.execute("SELECT * FROM line_items WHERE id = ?", (item["line_item_id"],)).fetchone()
            conn.execute("UPDATE fulfillment_order_line_items SET remaining_quantity = remaining_quantity - ? WHERE id = ?",
                         (units, item["id"]))
            conn.execute("UPDATE line_items SET fulfilled_quantity = fulfilled_quantity + ? WHERE id = ?",
                         (units, line["id"]))
            conn.execute(
                "INSERT INTO fulfillment_line_items(id, fulfillment_id, fulfillment_order_id, line_item_id, quantity)"
                " VALUES (?,?,?,?,?)", (next_id("FulfillmentLineItem"), fulfillment_id, fo["id"], line["id"], units))
            apply_delta(conn, line["inventory_item_id"], fo["location_id"], "committed", -units, now_iso)
            take_from_shelf(conn, line["inventory_item_id"], fo["location_id"], units, order_id=order_id,
                            channel="online", now_iso=now_iso)
        left = conn.execute("SELECT coalesce(sum(remaining_quantity), 0) AS n FROM fulfillment_order_line_items"
                            " WHERE fulfillment_order_id = ?", (fo["id"],)).fetchone()["n"]
        conn.execute("UPDATE fulfillment_orders SET status = ?, updated_at = ? WHERE id = ?",
                     ("CLOSED" if left == 0 else "IN_PROGRESS", now_iso, fo["id"]))
    status = refresh_fulfillment_status(conn, order_id, now_iso)
    row = conn.execute("SELECT * FROM fulfillments WHERE id = ?", (fulfillment_id,)).fetchone()
    events.append(Event("fulfillments/create", rest_payloads.fulfillment(conn, row), now_iso))
    body = rest_payloads.order(conn, order_id)
    events.append(Event("orders/updated", body, now_iso))
    if status == "FULFILLED":
        events.append(Event("orders/fulfilled", body, now_iso))
    return fulfillment_id, [], events


def _tracking(info: dict | None) -> list[dict]:
    if not info:
        return []
    numbers = list(info.get("numbers") or ([info["number"]] if info.get("number") else []))
    urls = list(info.get("urls") or ([info["url"]] if info.get("url") else []))
    count = max(len(numbers), len(urls), 1 if info.get("company") else 0)
    return [{"company": info.get("company"), "number": numbers[i] if i < len(numbers) else None,
             "url": urls[i] if i < len(urls) else None} for i in range(count)]


def close_order(conn, order_id: int, now_iso: str) -> tuple[list[dict], list[Event]]:
    """The merchant (or an app) archives the order: it leaves `status:open`; `orders/updated` fires."""
    order = conn.execute("SELECT closed_at FROM orders WHERE id = ?", (order_id,)).fetchone()
    if order is None:
        return [{"field": ["id"], "message": "Order does not exist"}], []
    if order["closed_at"] is not None:
        return [], []
    conn.execute("UPDATE orders SET closed_at = ?, updated_at = ? WHERE id = ?", (now_iso, now_iso, order_id))
    return [], [Event("orders/updated", rest_payloads.order(conn, order_id), now_iso)]


def refund_order(conn, next_id: NextId, order_id: int, lines: list[dict], restock: bool, location_id: int | None,
                 now_iso: str) -> tuple[int, list[Event]]:
    """A customer returns fulfilled units and is paid back for them (refunds.py does the
    refund); restocked units go back on the shelf and to available."""
    order = conn.execute("SELECT * FROM orders WHERE id = ?", (order_id,)).fetchone()
    if order is None:
        raise SaleRejected("NOT_FOUND", "order does not exist")
    asked: list[RefundLine] = []
    total = Decimal(0)
    for line in lines:
        item = conn.execute("SELECT * FROM line_items WHERE id = ? AND order_id = ?",
                            (line.get("line_item_id"), order_id)).fetchone()
        quantity = line.get("quantity")
        if item is None:
            raise SaleRejected("NOT_FOUND", f"line item {line.get('line_item_id')} is not on this order")
        if not isinstance(quantity, int) or quantity <= 0 or quantity > item["fulfilled_quantity"] - item["refunded_quantity"]:
            raise SaleRejected("INVALID_QUANTITY", "can only refund fulfilled, not yet refunded units")
        asked.append(RefundLine(item["id"], quantity, "RETURN" if restock else "NO_RESTOCK", location_id))
        total += Decimal(item["price"]) * quantity
    refund_id, errors, events = create_refund(conn, next_id, RefundAsk(order_id, asked, total, allow_over_refunding=True),
                                              now_iso)
    if refund_id is None:
        raise SaleRejected("INVALID_QUANTITY", "; ".join(e["message"] for e in errors))
    return refund_id, events


def edit_order(conn, order_id: int, line_item_id: int, new_quantity: int, now_iso: str) -> list[Event]:
    """A merchant edit that removes unfulfilled units from a line (releases committed stock)."""
    line = conn.execute("SELECT * FROM line_items WHERE id = ? AND order_id = ?", (line_item_id, order_id)).fetchone()
    if line is None:
        raise SaleRejected("NOT_FOUND", "line item is not on this order")
    removable = line["current_quantity"] - line["fulfilled_quantity"]
    delta = line["current_quantity"] - new_quantity
    if new_quantity < 0 or delta <= 0 or delta > removable:
        raise SaleRejected("INVALID_QUANTITY", "an edit can only remove unfulfilled units")
    events: list[Event] = []
    remaining = delta
    for item in conn.execute(
        "SELECT foli.*, fo.location_id FROM fulfillment_order_line_items foli JOIN fulfillment_orders fo"
        " ON fo.id = foli.fulfillment_order_id WHERE foli.line_item_id = ? AND foli.remaining_quantity > 0",
        (line_item_id,)).fetchall():
        take = min(remaining, item["remaining_quantity"])
        conn.execute("UPDATE fulfillment_order_line_items SET remaining_quantity = remaining_quantity - ?,"
                     " total_quantity = total_quantity - ? WHERE id = ?", (take, take, item["id"]))
        apply_delta(conn, line["inventory_item_id"], item["location_id"], "committed", -take, now_iso)
        apply_delta(conn, line["inventory_item_id"], item["location_id"], "available", take, now_iso)
        events.append(inventory_level_event(conn, line["inventory_item_id"], item["location_id"], now_iso))
        remaining -= take
        if remaining == 0:
            break
    conn.execute("UPDATE line_items SET current_quantity = ? WHERE id = ?", (new_quantity, line_item_id))
    conn.execute("UPDATE orders SET edited = 1, updated_at = ? WHERE id = ?", (now_iso, order_id))
    refresh_fulfillment_status(conn, order_id, now_iso)
    edit = {"order_edit": {"id": line_item_id + order_id, "app_id": None, "created_at": now_iso[:19] + "+00:00",
                           "committed_at": now_iso[:19] + "+00:00", "notify_customer": False, "order_id": order_id,
                           "staff_note": "", "user_id": None,
                           "line_items": {"additions": [], "removals": [{"id": line_item_id, "delta": delta}]}}}
    return [Event("orders/edited", edit, now_iso),
            Event("orders/updated", rest_payloads.order(conn, order_id), now_iso)] + events
