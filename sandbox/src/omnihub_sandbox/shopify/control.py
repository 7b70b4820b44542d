"""The sandbox's control plane: ``/_sandbox/...`` JSON endpoints (not part of Shopify).

They play the parts Shopify's API does not cover: shoppers checking out online, cashiers
ringing up POS sales, the merchant editing stock in the admin, goods physically arriving,
customers returning items, and the test harness reading the oversell count, webhook
delivery statistics and setting faults. See README.md next to this file.
"""

from __future__ import annotations

import json
from typing import Literal

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import FileResponse, JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field, model_validator

from . import cancellations, rest_payloads, sales
from .catalog import CatalogSize, create_product
from .clock import iso_api
from .config import WebhookFaults
from .events import Event
from .gid import number_of, to_gid
from .stock import (REASONS, apply_delta, inventory_level_event, level_row, level_snapshot, oversell_report,
                    put_on_shelf, stocked_level)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Line(_Strict):
    sku: str | None = Field(None, min_length=1, max_length=255)
    variant_id: int | str | None = None
    quantity: int = Field(..., ge=1, le=10_000)

    @model_validator(mode="after")
    def _names_a_variant(self) -> "Line":
        if not self.sku and self.variant_id is None:
            raise ValueError("a line needs a sku or a variant_id")
        return self


class OnlineOrderIn(_Strict):
    lines: list[Line] = Field(..., min_length=1, max_length=250)
    email: str | None = Field(None, max_length=255)
    phone: str | None = Field(None, max_length=255)
    customer_name: str | None = Field(None, max_length=255)
    shipping_address: dict | None = None


class PosSaleIn(_Strict):
    location_id: int | str
    lines: list[Line] = Field(..., min_length=1, max_length=250)
    email: str | None = Field(None, max_length=255)


class ResetIn(_Strict):
    seed: int | None = None
    products: int | None = Field(None, ge=1, le=1_000_000)
    variants_per_product: int | None = Field(None, ge=1, le=100)
    stores: int | None = Field(None, ge=0, le=500)
    warehouses: int | None = Field(None, ge=0, le=500)
    initial_stock_max: int | None = Field(None, ge=0, le=1_000_000)


class StockTarget(_Strict):
    sku: str | None = None
    inventory_item_id: int | str | None = None
    location_id: int | str


class AdminEditIn(StockTarget):
    available: int | None = Field(None, ge=-1_000_000, le=1_000_000_000)
    delta: int | None = Field(None, ge=-1_000_000_000, le=1_000_000_000)
    reason: str = "correction"
    shelf_too: bool = Field(False, description="the merchant counted the shelf: the physical stock moves as well")

    @model_validator(mode="after")
    def _one_change(self) -> "AdminEditIn":
        if (self.available is None) == (self.delta is None):
            raise ValueError("give exactly one of available or delta")
        return self


class ReceiptIn(StockTarget):
    quantity: int = Field(..., ge=-1_000_000, le=1_000_000)


class RefundLine(_Strict):
    line_item_id: int | str
    quantity: int = Field(..., ge=1, le=10_000)


class RefundIn(_Strict):
    lines: list[RefundLine] = Field(..., min_length=1, max_length=250)
    restock: bool = True
    location_id: int | str | None = None


class CancellationIn(_Strict):
    """The merchant cancels an order in the admin (Shopify admin's "Cancel order" dialog)."""

    reason: Literal["CUSTOMER", "DECLINED", "FRAUD", "INVENTORY", "OTHER", "STAFF"] = "CUSTOMER"
    restock: bool = True
    refund: Literal["original_payment_methods", "store_credit"] | None = "original_payment_methods"
    notify_customer: bool = False
    staff_note: str | None = Field(None, max_length=cancellations.STAFF_NOTE_MAX)


class EditIn(_Strict):
    line_item_id: int | str
    quantity: int = Field(..., ge=0, le=10_000)


class FaultsIn(WebhookFaults):
    seed: int | None = None


class OutageIn(_Strict):
    seconds: float = Field(..., ge=0, le=86_400)
    timeout_share: float = Field(0.5, ge=0, le=1, description="share of calls held then answered 504; the rest 503")
    hold_s: float = Field(12.0, ge=0, le=120)
    seed: int | None = None


class BulkFaultsIn(_Strict):
    error_code: Literal["ACCESS_DENIED", "INTERNAL_SERVER_ERROR", "TIMEOUT"] | None = None


class VariantEditIn(_Strict):
    """The merchant edits a variant in admin (Shopify takes any barcode text, valid GTIN or not)."""

    sku: str | None = Field(None, min_length=1, max_length=255)
    barcode: str | None = Field(None, max_length=255)
    title: str | None = Field(None, min_length=1, max_length=255)


class NewVariantIn(_Strict):
    sku: str | None = Field(None, min_length=1, max_length=255)
    barcode: str | None = Field(None, max_length=255)
    title: str | None = Field(None, min_length=1, max_length=255)


class NewProductIn(_Strict):
    """The merchant adds a product in admin."""

    title: str = Field(..., min_length=1, max_length=255)
    variants: list[NewVariantIn] = Field(..., min_length=1, max_length=100)
    image_url: str | None = Field(None, max_length=2000)


class PrivacyIn(_Strict):
    customer_email: str | None = Field(None, max_length=255)


def _id(value, type_name: str) -> int:
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.isdigit():
        return int(value)
    number = number_of(value, type_name) if isinstance(value, str) else None
    if number is None:
        raise HTTPException(422, detail=f"not a {type_name} id: {value!r}")
    return number


def _rejected(exc: sales.SaleRejected) -> JSONResponse:
    status = 404 if exc.code == "NOT_FOUND" else 409 if exc.code == "OUT_OF_STOCK" else 422
    return JSONResponse({"error": {"code": exc.code, "message": exc.message}}, status_code=status)


def build_router(shop) -> APIRouter:
    router = APIRouter(prefix="/_sandbox", tags=["sandbox control"])

    def item_for(conn, target: StockTarget) -> tuple[int, int]:
        location_id = _id(target.location_id, "Location")
        if target.inventory_item_id is not None:
            item_id = _id(target.inventory_item_id, "InventoryItem")
        elif target.sku:
            row = conn.execute("SELECT id FROM inventory_items WHERE sku = ?", (target.sku,)).fetchone()
            if row is None:
                raise HTTPException(404, detail=f"no inventory item with sku {target.sku}")
            item_id = row["id"]
        else:
            raise HTTPException(422, detail="give sku or inventory_item_id")
        if level_row(conn, item_id, location_id) is None:
            raise HTTPException(404, detail="that item is not stocked at that location")
        return item_id, location_id

    @router.get("/health")
    def health() -> dict:
        return {"ok": True, "shop": shop.config.shop_domain}

    @router.post("/reset")
    def reset(body: ResetIn) -> dict:
        config = shop.config
        size = CatalogSize(body.products or config.catalog_products,
                           body.variants_per_product or config.catalog_variants_per_product,
                           config.catalog_stores if body.stores is None else body.stores,
                           config.catalog_warehouses if body.warehouses is None else body.warehouses,
                           config.initial_stock_max if body.initial_stock_max is None else body.initial_stock_max)
        if size.stores + size.warehouses == 0:
            raise HTTPException(422, detail="the shop needs at least one location")
        shop.seed(config.seed if body.seed is None else body.seed, size)
        shop.dispatcher.reset_stats()
        return {"ok": True, "seed": config.seed if body.seed is None else body.seed}

    @router.get("/catalog")
    def catalog() -> dict:
        locations = shop.store.all("SELECT * FROM locations ORDER BY id")
        variants = shop.store.all("SELECT v.*, p.title AS product_title FROM variants v JOIN products p ON p.id = v.product_id"
                                  " ORDER BY v.id")
        return {
            "locations": [{"id": r["id"], "admin_graphql_api_id": to_gid("Location", r["id"]), "name": r["name"],
                           "kind": r["kind"], "pos": bool(r["pos"]), "fulfills_online_orders": bool(r["fulfills_online_orders"]),
                           "city": r["city"], "zip": r["zip"], "latitude": r["latitude"], "longitude": r["longitude"]}
                          for r in locations],
            "variants": [{"id": r["id"], "admin_graphql_api_id": to_gid("ProductVariant", r["id"]), "sku": r["sku"],
                          "barcode": r["barcode"], "price": r["price"], "product_id": r["product_id"],
                          "title": f"{r['product_title']} - {r['title']}", "inventory_item_id": r["inventory_item_id"]}
                         for r in variants],
            "products": [{"id": r["id"], "admin_graphql_api_id": to_gid("Product", r["id"]), "title": r["title"],
                          "images": [m["url"] for m in shop.store.all(
                              "SELECT url FROM product_media WHERE product_id = ? ORDER BY position, id", (r["id"],))]}
                         for r in shop.store.all("SELECT id, title FROM products ORDER BY id")],
        }

    @router.post("/orders", status_code=201)
    def place_online_order(body: OnlineOrderIn):
        try:
            with shop.store.tx() as conn:
                order_id, events = sales.place_online_order(
                    conn, shop.next_id, [line.model_dump() for line in body.lines], shop.now_iso(), email=body.email,
                    customer_name=body.customer_name, shipping_address=body.shipping_address, phone=body.phone)
                name = conn.execute("SELECT name FROM orders WHERE id = ?", (order_id,)).fetchone()["name"]
        except sales.SaleRejected as exc:
            return _rejected(exc)
        shop.publish(events)
        return {"order_id": order_id, "admin_graphql_api_id": to_gid("Order", order_id), "name": name}

    @router.post("/pos-sales", status_code=201)
    def place_pos_sale(body: PosSaleIn):
        try:
            with shop.store.tx() as conn:
                order_id, oversold, events = sales.place_pos_sale(
                    conn, shop.next_id, _id(body.location_id, "Location"), [line.model_dump() for line in body.lines],
                    shop.now_iso(), email=body.email)
        except sales.SaleRejected as exc:
            return _rejected(exc)
        shop.publish(events)
        return {"order_id": order_id, "admin_graphql_api_id": to_gid("Order", order_id), "oversold_units": oversold}

    @router.get("/orders")
    def list_orders(after_id: int = 0, limit: int = 10_000) -> dict:
        """Every order the shop took, oldest first (`after_id` and `limit` page through):
        what the shop itself counts, for a test or a demo to compare with the hub's."""
        with shop.store.read() as conn:
            rows = conn.execute("SELECT id, name, source_name, cancelled_at, created_at FROM orders WHERE id > ?"
                                " ORDER BY id LIMIT ?", (after_id, max(1, min(limit, 100_000)))).fetchall()
            by_source = {r["source_name"]: r["n"] for r in conn.execute(
                "SELECT source_name, count(*) AS n FROM orders GROUP BY source_name")}
        return {"by_source": by_source,
                "orders": [{"id": r["id"], "name": r["name"], "source_name": r["source_name"],
                            "cancelled": r["cancelled_at"] is not None, "created_at": r["created_at"]} for r in rows]}

    @router.get("/orders/{order_id}")
    def read_order(order_id: str) -> dict:
        oid = _id(order_id, "Order")
        with shop.store.read() as conn:
            if conn.execute("SELECT 1 FROM orders WHERE id = ?", (oid,)).fetchone() is None:
                raise HTTPException(404, detail="no such order")
            return {"order": rest_payloads.order(conn, oid)}

    @router.post("/orders/{order_id}/refunds", status_code=201)
    def refund(order_id: str, body: RefundIn):
        try:
            with shop.store.tx() as conn:
                refund_id, events = sales.refund_order(
                    conn, shop.next_id, _id(order_id, "Order"),
                    [{"line_item_id": _id(line.line_item_id, "LineItem"), "quantity": line.quantity} for line in body.lines],
                    body.restock, _id(body.location_id, "Location") if body.location_id is not None else None,
                    shop.now_iso())
        except sales.SaleRejected as exc:
            return _rejected(exc)
        shop.publish(events)
        return {"refund_id": refund_id}

    @router.post("/orders/{order_id}/cancellations", status_code=201)
    def cancel(order_id: str, body: CancellationIn):
        """The merchant cancels the order in the admin: the same rule as orderCancel
        (cancellations.py), and its webhooks go out subject to the delivery faults."""
        asked = cancellations.Cancellation(body.reason, body.restock, body.refund, None, body.notify_customer,
                                           body.staff_note, by="merchant")
        oid = _id(order_id, "Order")
        with shop.store.tx() as conn:
            job_id, errors, events = cancellations.cancel_order(conn, shop.next_id, oid, asked, shop.clock.now())
            row = conn.execute("SELECT cancelled_at, cancel_reason, financial_status FROM orders WHERE id = ?",
                               (oid,)).fetchone()
        if job_id is None:
            status = 404 if errors[0]["code"] == "NOT_FOUND" else 409 if errors[0]["field"] == ["orderId"] else 422
            return JSONResponse({"error": {"code": errors[0]["code"], "message": errors[0]["message"]}},
                                status_code=status)
        shop.publish(events)
        return {"order_id": oid, "admin_graphql_api_id": to_gid("Order", oid), "job_id": to_gid("Job", job_id),
                "cancelled_at": iso_api(row["cancelled_at"]), "cancel_reason": row["cancel_reason"],
                "financial_status": row["financial_status"]}

    @router.post("/orders/{order_id}/edits")
    def edit(order_id: str, body: EditIn):
        try:
            with shop.store.tx() as conn:
                events = sales.edit_order(conn, _id(order_id, "Order"), _id(body.line_item_id, "LineItem"),
                                          body.quantity, shop.now_iso())
        except sales.SaleRejected as exc:
            return _rejected(exc)
        shop.publish(events)
        return {"ok": True}

    @router.post("/inventory/admin-edits")
    def admin_edit(body: AdminEditIn) -> dict | None:
        """The merchant changes available in Shopify admin: not the app's doing, so a webhook fires."""
        if body.reason not in REASONS:
            raise HTTPException(422, detail="unknown reason")
        now = shop.now_iso()
        with shop.store.tx() as conn:
            item_id, location_id = item_for(conn, body)
            current = stocked_level(conn, item_id, location_id)["available"]
            delta = body.delta if body.delta is not None else body.available - current
            apply_delta(conn, item_id, location_id, "available", delta, now)
            if body.shelf_too:
                put_on_shelf(conn, item_id, location_id, delta, now)
            events = [inventory_level_event(conn, item_id, location_id, now)]
            snapshot = level_snapshot(conn, item_id, location_id)
        shop.publish(events)
        return snapshot

    @router.post("/inventory/receipts")
    def receipt(body: ReceiptIn) -> dict | None:
        """Goods physically arrive at (or, negative, leave) a location: only the shelf moves."""
        with shop.store.tx() as conn:
            item_id, location_id = item_for(conn, body)
            put_on_shelf(conn, item_id, location_id, body.quantity, shop.now_iso())
            return level_snapshot(conn, item_id, location_id)

    @router.get("/inventory")
    def inventory(location_id: str, sku: str | None = None, inventory_item_id: str | None = None) -> dict | None:
        with shop.store.read() as conn:
            item_id, loc = item_for(conn, StockTarget(sku=sku, inventory_item_id=inventory_item_id,
                                                      location_id=location_id))
            return level_snapshot(conn, item_id, loc)

    @router.get("/inventory/levels")
    def inventory_levels() -> dict:
        """Every level the shop holds (sku, location, available, shelf): what a harness compares
        with what the hub meant the channel to show."""
        with shop.store.read() as conn:
            rows = conn.execute("SELECT v.sku, l.location_id, l.available, s.quantity FROM inventory_levels l"
                                " JOIN variants v ON v.inventory_item_id = l.inventory_item_id"
                                " LEFT JOIN physical_shelf s ON s.inventory_item_id = l.inventory_item_id"
                                " AND s.location_id = l.location_id ORDER BY v.sku, l.location_id").fetchall()
        return {"levels": [{"sku": r[0], "location_id": r[1], "available": r[2], "physical_shelf": r[3]} for r in rows]}

    @router.get("/oversells")
    def oversells() -> dict:
        with shop.store.read() as conn:
            return oversell_report(conn)

    @router.get("/webhooks/stats")
    def webhook_stats() -> dict:
        return shop.dispatcher.stats()

    @router.post("/webhooks/wait-idle")
    def wait_idle(timeout: float = 10.0) -> dict:
        return {"idle": shop.dispatcher.wait_idle(min(max(timeout, 0.0), 120.0))}

    @router.put("/faults")
    def set_faults(body: FaultsIn) -> dict:
        faults = WebhookFaults(**body.model_dump(exclude={"seed"}))
        shop.dispatcher.set_faults(faults, body.seed)
        return faults.model_dump()

    @router.post("/products", status_code=201)
    def product_create(body: NewProductIn) -> dict:
        """The merchant adds a product (variants at 0 everywhere); `products/create` fires, and
        `inventory_items/create` and `inventory_levels/connect` for each item and level."""
        now = shop.now_iso()
        with shop.store.tx() as conn:
            pid = create_product(shop.store, conn, title=body.title, image_url=body.image_url, now_iso=now,
                                 variants=[v.model_dump() for v in body.variants])
            product = rest_payloads.product(conn, pid)
            events = [Event("products/create", product, now)]
            for item in conn.execute("SELECT i.* FROM inventory_items i JOIN variants v ON v.inventory_item_id = i.id"
                                     " WHERE v.product_id = ? ORDER BY v.position", (pid,)).fetchall():
                events.append(Event("inventory_items/create", rest_payloads.inventory_item(item), now))
                events += [inventory_level_event(conn, item["id"], level["location_id"], now,
                                                 topic="inventory_levels/connect")
                           for level in conn.execute("SELECT location_id FROM inventory_levels"
                                                     " WHERE inventory_item_id = ? ORDER BY location_id", (item["id"],))]
        shop.publish(events)
        return product

    @router.post("/products/{product_id}/updates")
    def product_update(product_id: str, title: str | None = None) -> dict:
        pid = _id(product_id, "Product")
        now = shop.now_iso()
        with shop.store.tx() as conn:
            changed = conn.execute("UPDATE products SET title = coalesce(?, title), updated_at = ? WHERE id = ?",
                                   (title, now, pid)).rowcount
            if not changed:
                raise HTTPException(404, detail="no such product")
            body = rest_payloads.product(conn, pid)
        shop.publish([Event("products/update", body, now)])
        return body

    @router.post("/privacy/{topic_name}")
    def privacy(topic_name: Literal["customers-data-request", "customers-redact", "shop-redact"], body: PrivacyIn) -> dict:
        now = shop.now_iso()
        topic = {"customers-data-request": "customers/data_request", "customers-redact": "customers/redact",
                 "shop-redact": "shop/redact"}[topic_name]
        payload: dict = {"shop_id": shop.shop_id, "shop_domain": shop.config.shop_domain}
        if topic != "shop/redact":
            email = body.customer_email or "shopper@example.com"
            rows = shop.store.all("SELECT id, phone, customer FROM orders WHERE email = ? ORDER BY id", (email,))
            orders = [r["id"] for r in rows]
            # The shop's own customer record: its id and phone, as Shopify sends them.
            known = next((json.loads(r["customer"]) for r in reversed(rows) if r["customer"]), None) or {}
            phone = known.get("phone") or next((r["phone"] for r in reversed(rows) if r["phone"]), None)
            payload["customer"] = {"id": known.get("id") or 7_000_000 + len(email), "email": email, "phone": phone}
            if topic == "customers/data_request":
                payload["orders_requested"] = orders
                payload["data_request"] = {"id": shop.next_id("Job")}
            else:
                payload["orders_to_redact"] = orders
        shop.publish([Event(topic, payload, now)])
        return payload

    @router.post("/variants/{variant_id}/updates")
    def variant_update(variant_id: str, body: VariantEditIn) -> dict:
        """The merchant edits a variant (SKU, barcode, title) in admin; `products/update` fires."""
        vid = _id(variant_id, "ProductVariant")
        now = shop.now_iso()
        with shop.store.tx() as conn:
            row = conn.execute("SELECT * FROM variants WHERE id = ?", (vid,)).fetchone()
            if row is None:
                raise HTTPException(404, detail="no such variant")
            changes = body.model_dump(exclude_unset=True)
            conn.execute("UPDATE variants SET sku = ?, barcode = ?, title = ?, updated_at = ? WHERE id = ?",
                         (changes.get("sku", row["sku"]), changes.get("barcode", row["barcode"]),
                          changes.get("title") or row["title"], now, vid))
            events = []
            if "sku" in changes:
                conn.execute("UPDATE inventory_items SET sku = ?, updated_at = ? WHERE id = ?",
                             (changes["sku"], now, row["inventory_item_id"]))
                item = conn.execute("SELECT * FROM inventory_items WHERE id = ?", (row["inventory_item_id"],)).fetchone()
                events.append(Event("inventory_items/update", rest_payloads.inventory_item(item), now))
            conn.execute("UPDATE products SET updated_at = ? WHERE id = ?", (now, row["product_id"]))
            product = rest_payloads.product(conn, row["product_id"])
        shop.publish([Event("products/update", product, now)] + events)
        return {"id": vid, "admin_graphql_api_id": to_gid("ProductVariant", vid), **changes}

    @router.put("/outage")
    def set_outage(body: OutageIn) -> dict:
        """The Admin API fails (503, or held then 504) for `seconds` (0 ends an outage)."""
        return shop.outage.start(body.seconds, timeout_share=body.timeout_share, hold_s=body.hold_s, seed=body.seed)

    @router.put("/bulk/faults")
    def set_bulk_faults(body: BulkFaultsIn) -> dict:
        """From now on every bulk operation fails with this error code (null: they succeed again)."""
        shop.bulk.fail_with = body.error_code
        return {"error_code": body.error_code}

    @router.get("/bulk/operations")
    def bulk_operations() -> list[dict]:
        """Every bulk operation the shop was asked to run, oldest first: what a test reads to
        know whether the hub exported the whole catalog or only what changed."""
        return [{"id": to_gid("BulkOperation", r["id"]), "type": r["type"], "status": r["status"], "query": r["query"],
                 "object_count": r["object_count"], "root_object_count": r["root_object_count"],
                 "created_at": r["created_at"]}
                for r in shop.store.all("SELECT * FROM bulk_operations ORDER BY id")]

    @router.get("/bulk/{file_name}")
    def bulk_file(file_name: str):
        if "/" in file_name or not file_name.endswith(".jsonl"):
            raise HTTPException(404)
        path = shop.files_dir / "bulk" / file_name
        if not path.exists():
            raise HTTPException(404)
        return FileResponse(path, media_type="application/jsonl")

    @router.post("/staged-uploads")
    async def staged_upload(request: Request):
        form = await request.form()
        key = form.get("key")
        upload = form.get("file")
        if not isinstance(key, str) or upload is None or isinstance(upload, str):
            return Response("<Error><Code>InvalidArgument</Code></Error>", status_code=400, media_type="application/xml")
        content = await upload.read()
        if not shop.bulk.receive_upload(key, content):
            return Response("<Error><Code>AccessDenied</Code></Error>", status_code=403, media_type="application/xml")
        base = str(request.base_url).rstrip("/")
        xml = (f"<?xml version='1.0' encoding='UTF-8'?><PostResponse><Location>{base}/{key}</Location>"
               f"<Bucket>shopify-staged-uploads</Bucket><Key>{key}</Key></PostResponse>")
        return Response(xml, status_code=201, media_type="application/xml")

    return router
