"""``/_sandbox/...``: the levers a demo or a test pulls that are not part of SP-API.

Shoppers placing direct-fulfilment orders, Amazon's buyers raising and changing retail
purchase orders, the vendor's items, the stock Amazon sells beside what the vendor
declared, the sandbox's own oversell count, its counters and its transactions. These
answer plain JSON, not SP-API shapes. The clock and throttle-storm levers are the shared
ones (``omnihub_sandbox.spapi.time_controls``).
"""

from __future__ import annotations

import json
import random
import sqlite3
from typing import Literal

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from .context import VendorContext, vendor_of
from .items import all_skus, item, seed_items, upsert_item
from .retail_orders import change_line, create_purchase_order, lines_of
from .stock import oversell_report, seed_stock, stock_report
from .storefront import Checkout, Refusal, place_order

router = APIRouter(prefix="/_sandbox", tags=["sandbox control"])


def seed_account(vendor: VendorContext) -> int:
    """The seeded items and each warehouse's opening declared stock (what does not exist yet)."""
    cfg = vendor.config
    with vendor.store.tx() as db:
        before = len(all_skus(db))
        skus = seed_items(db, cfg.seed, cfg.catalog_size)
        seed_stock(db, cfg.warehouses, skus, cfg.seed, cfg.initial_quantity_max, vendor.now())
        created = len(all_skus(db)) - before
    vendor.store.set_meta("seeded", True)
    return created


class ResetRequest(BaseModel):
    seed: bool = True


@router.post("/reset")
def reset(request: Request, body: ResetRequest | None = None) -> dict:
    vendor = vendor_of(request)
    vendor.store.wipe()
    vendor.limiter.reset()
    vendor.store.set_meta("clock_offset", vendor.clock.offset)
    created = seed_account(vendor) if (body or ResetRequest()).seed else 0
    return {"reset": True, "items_created": created}


class ItemUpdate(BaseModel):
    asin: str | None = Field(None, pattern=r"^[A-Z0-9]{10}$")
    title: str | None = Field(None, min_length=1)
    cost_cents: int | None = Field(None, ge=0)
    list_price_cents: int | None = Field(None, ge=0)


@router.get("/items")
def list_items(request: Request) -> dict:
    with vendor_of(request).store.tx() as db:
        rows = db.execute("SELECT * FROM items ORDER BY sku").fetchall()
    return {"items": [dict(r) for r in rows]}


@router.put("/items/{sku:path}")
def set_item(sku: str, update: ItemUpdate, request: Request) -> JSONResponse:
    """Add or change an item of the vendor's catalog (an ASIN is required for a new one)."""
    vendor = vendor_of(request)
    with vendor.store.tx() as db:
        row = item(db, sku)
        asin = update.asin or (row["asin"] if row else None)
        if asin is None:
            return JSONResponse({"error": "asin_required", "sku": sku}, status_code=422)
        upsert_item(db, sku, asin, update.title or (row["title"] if row else sku),
                    update.cost_cents if update.cost_cents is not None else (row["cost_cents"] if row else 500),
                    update.list_price_cents if update.list_price_cents is not None
                    else (row["list_price_cents"] if row else 1000))
        return JSONResponse(dict(item(db, sku) or {}))


@router.get("/stock")
def stock(request: Request) -> dict:
    """Per warehouse and item: what Amazon sells (``sellable``) and what the vendor declared."""
    vendor = vendor_of(request)
    vendor.catch_up()
    with vendor.store.tx() as db:
        return stock_report(db)


@router.post("/orders", status_code=201)
def shopper_places_order(checkout: Checkout, request: Request) -> JSONResponse:
    vendor = vendor_of(request)
    vendor.catch_up()
    outcome = place_order(vendor, checkout)
    if isinstance(outcome, Refusal):
        return JSONResponse({"error": outcome.reason, "shortages": outcome.shortages}, status_code=409)
    return JSONResponse({"purchaseOrderNumber": outcome.po_number, "warehouse": outcome.warehouse, "status": "NEW",
                         "oversold_units": outcome.oversold_units}, status_code=201)


@router.get("/orders")
def list_orders(request: Request, limit: int = 10_000) -> dict:
    """Every direct-fulfilment order, oldest first, with its status and where it ships from."""
    vendor = vendor_of(request)
    vendor.catch_up()
    with vendor.store.tx() as db:
        rows = db.execute("SELECT po_number, status, warehouse, source, order_date, available_at FROM df_orders "
                          "ORDER BY order_date, po_number LIMIT ?", (max(1, min(limit, 100_000)),)).fetchall()
        by_status = {r["status"]: r["n"] for r in
                     db.execute("SELECT status, COUNT(*) AS n FROM df_orders GROUP BY status")}
    return {"by_status": by_status, "orders": [dict(r) for r in rows]}


@router.get("/oversells")
def oversells(request: Request) -> dict:
    """Units Amazon sold that the vendor had not declared available (stock.py), in all,
    by item and by warehouse."""
    vendor = vendor_of(request)
    vendor.catch_up()
    with vendor.store.tx() as db:
        return oversell_report(db)


@router.get("/stats")
def stats(request: Request) -> dict:
    vendor = vendor_of(request)
    vendor.catch_up()
    counters = {"df_orders_created": 0, "df_orders_refused": 0, "df_units_sold": 0, "df_units_refused": 0}
    counters.update(vendor.store.stats())
    with vendor.store.tx() as db:
        by_status = {r["status"]: r["n"] for r in
                     db.execute("SELECT status, COUNT(*) AS n FROM df_orders GROUP BY status")}
        retail = {r["state"]: r["n"] for r in db.execute("SELECT state, COUNT(*) AS n FROM retail_pos GROUP BY state")}
    return {**counters, "df_orders_by_status": by_status, "retail_pos_by_state": retail}


@router.get("/transactions")
def transactions(request: Request, status: str | None = None, limit: int = 1000) -> dict:
    """The transactions, newest last: kind, status, errors (for a test or an operator's eyes)."""
    vendor = vendor_of(request)
    vendor.catch_up()
    sql = "SELECT * FROM transactions" + (" WHERE status = ?" if status else "") + " ORDER BY submitted_at LIMIT ?"
    with vendor.store.tx() as db:
        rows = db.execute(sql, ((status,) if status else ()) + (max(1, min(limit, 10_000)),)).fetchall()
    return {"transactions": [{"transactionId": r["transaction_id"], "api": r["api"], "kind": r["kind"],
                              "status": r["status"], "submitted_at": r["submitted_at"], "due_at": r["due_at"],
                              "errors": json.loads(r["errors"]) if r["errors"] else []} for r in rows]}


class RetailLine(BaseModel):
    sku: str = Field(min_length=1)
    amount: int = Field(ge=1, le=1_000_000)
    unit: Literal["Cases", "Eaches"] = "Cases"
    unit_size: int = Field(12, ge=1, le=10_000)
    backorder_allowed: bool = False


class RetailOrder(BaseModel):
    ship_to: str | None = Field(None, description="a fulfilment centre of the config (omitted: one drawn)")
    lines: list[RetailLine] | None = Field(None, max_length=200)
    random_lines: int = Field(3, ge=1, le=50, description="lines drawn from the catalog when none are given")


@router.post("/retail/purchase-orders", status_code=201)
def buyer_raises_purchase_order(order: RetailOrder, request: Request) -> JSONResponse:
    """Amazon's buyer orders cartons for a fulfilment centre: a New retail purchase order."""
    vendor = vendor_of(request)
    vendor.catch_up()
    rng = random.Random(f"amazon-vendor-retail:{vendor.config.seed}:{vendor.store.next_sequence('retail_request')}")
    ship_to = order.ship_to or rng.choice(vendor.config.fulfillment_centers)
    if ship_to not in vendor.config.fulfillment_centers:
        return JSONResponse({"error": "unknown_fulfillment_center", "ship_to": ship_to}, status_code=422)
    with vendor.store.tx() as db:
        wanted = order.lines or [RetailLine(sku=sku, amount=rng.randint(1, 20), unit_size=rng.choice([6, 12, 24]),
                                            backorder_allowed=rng.random() < 0.3)
                                 for sku in rng.sample(all_skus(db), min(order.random_lines, len(all_skus(db))))]
        lines: list[tuple[sqlite3.Row, int, str, int, bool]] = []
        unknown = []
        for line in wanted:
            row = item(db, line.sku)
            if row is None:
                unknown.append(line.sku)
            else:
                lines.append((row, line.amount, line.unit, line.unit_size, line.backorder_allowed))
        if unknown:
            return JSONResponse({"error": "unknown_item", "skus": unknown}, status_code=422)
        po_number = create_purchase_order(vendor, db, ship_to=ship_to, lines=lines)
    return JSONResponse({"purchaseOrderNumber": po_number, "shipTo": ship_to, "state": "New"}, status_code=201)


class LineChange(BaseModel):
    eaches: int = Field(ge=0)


@router.put("/retail/purchase-orders/{po_number}/lines/{seq}")
def buyer_changes_line(po_number: str, seq: int, change: LineChange, request: Request) -> JSONResponse:
    """Amazon changes a line's ordered quantity after ordering (0 cancels the line)."""
    vendor = vendor_of(request)
    with vendor.store.tx() as db:
        if not any(line["seq"] == seq for line in lines_of(db, po_number)):
            return JSONResponse({"error": "not_found", "purchaseOrderNumber": po_number, "seq": seq}, status_code=404)
        change_line(vendor, db, po_number, seq, change.eaches)
    return JSONResponse({"purchaseOrderNumber": po_number, "seq": seq, "ordered": change.eaches})


@router.post("/tick")
def tick(request: Request) -> dict:
    vendor_of(request).catch_up()
    return {"ok": True}
