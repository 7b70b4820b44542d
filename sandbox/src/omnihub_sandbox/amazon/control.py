"""``/_sandbox/...``: the levers a demo or a test pulls that are not part of SP-API.

Buyers placing and cancelling orders, seeding and resetting the seller's catalog,
setting a listing's quantity as if edited in Seller Central, reading
the sandbox's own counters (orders placed, refused for lack of quantity, units sold)
and its notification outbox. These answer plain JSON, not SP-API shapes. The clock and
throttle-storm levers are the shared ones (``omnihub_sandbox.spapi.time_controls``).
"""

from __future__ import annotations

import json

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from ..spapi.catalog import generate_catalog
from .context import SandboxContext, sandbox_of
from .lifecycle import catch_up
from .listings import get_listing, upsert_listing
from .shelf import oversell_report, set_shelf, shelf_quantity
from .storefront import PlaceOrder, Refusal, cancel_by_buyer, place_order

router = APIRouter(prefix="/_sandbox", tags=["sandbox control"])


def seed_catalog(sandbox: SandboxContext) -> int:
    """Create the seeded catalog's listings that do not exist yet."""
    cfg = sandbox.config
    created = 0
    with sandbox.store.tx() as db:
        for item in generate_catalog(cfg.seed, cfg.catalog_size, cfg.initial_quantity_max):
            if get_listing(db, item.sku) is None:
                upsert_listing(sandbox, db, item.sku, product_type=item.product_type, item_name=item.item_name,
                               price_cents=item.price_cents, quantity=item.quantity, asin=item.asin)
                set_shelf(db, item.sku, item.quantity, sandbox.now())  # the seller has what it lists
                created += 1
    sandbox.store.set_meta("seeded", True)
    return created


class ResetRequest(BaseModel):
    seed_catalog: bool = True


class ListingUpdate(BaseModel):
    quantity: int = Field(ge=0)
    price_cents: int | None = Field(None, ge=0)
    item_name: str | None = Field(None, min_length=1)
    product_type: str | None = Field(None, min_length=1)
    shelf: int | None = Field(None, ge=0, description="the units the seller physically holds (shelf.py); "
                                                     "omitted: unchanged")


def _listing_json(row, shelf: int | None = None) -> dict:
    return {
        "sku": row["sku"], "asin": row["asin"], "product_type": row["product_type"], "item_name": row["item_name"],
        "price_cents": row["price_cents"], "quantity": row["quantity"], "pending_quantity": row["pending_quantity"],
        "shelf": shelf, "quantity_changed_at": row["quantity_changed_at"],  # sandbox clock, epoch seconds
    }


@router.post("/reset")
def reset(request: Request, body: ResetRequest | None = None) -> dict:
    sandbox = sandbox_of(request)
    sandbox.store.wipe()
    sandbox.limiter.reset()
    offset = sandbox.clock.offset
    sandbox.store.set_meta("clock_offset", offset)
    created = seed_catalog(sandbox) if (body or ResetRequest()).seed_catalog else 0
    return {"reset": True, "listings_created": created}


@router.post("/seed")
def seed(request: Request) -> dict:
    return {"listings_created": seed_catalog(sandbox_of(request))}


@router.get("/listings")
def list_listings(request: Request) -> dict:
    sandbox = sandbox_of(request)
    catch_up(sandbox)
    with sandbox.store.tx() as db:
        rows = db.execute("SELECT * FROM listings ORDER BY sku").fetchall()
        shelves = {r["sku"]: r["quantity"] for r in db.execute("SELECT sku, quantity FROM shelf")}
    return {"listings": [_listing_json(r, shelves.get(r["sku"])) for r in rows]}


class ShelfReceipt(BaseModel):
    quantity: int = Field(ge=1, le=1_000_000)


@router.get("/listings/{sku:path}")
def get_one_listing(sku: str, request: Request) -> dict:
    """One listing as the seller's dashboard shows it, with when its quantity last changed."""
    sandbox = sandbox_of(request)
    catch_up(sandbox)
    with sandbox.store.tx() as db:
        row = get_listing(db, sku)
        if row is None:
            raise HTTPException(404, f"no listing {sku}")
        return _listing_json(row, shelf_quantity(db, sku))


@router.post("/shelf/{sku:path}/receipts")
def receive_on_shelf(sku: str, body: ShelfReceipt, request: Request) -> dict:
    """Goods arrive at the seller's warehouse: the shelf grows, the listing's quantity does
    not (the seller's system tells Amazon, as the hub does)."""
    sandbox = sandbox_of(request)
    with sandbox.store.tx() as db:
        row = get_listing(db, sku)
        if row is None:
            raise HTTPException(404, f"no listing {sku}")
        held = shelf_quantity(db, sku)
        if held is not None:  # a listing whose shelf is not kept stays so
            set_shelf(db, sku, held + body.quantity, sandbox.now())
        return _listing_json(row, shelf_quantity(db, sku))


@router.put("/listings/{sku:path}")
def set_listing(sku: str, update: ListingUpdate, request: Request) -> dict:
    """Set a listing as a seller would in Seller Central (applies at once)."""
    sandbox = sandbox_of(request)
    with sandbox.store.tx() as db:
        row = get_listing(db, sku)
        upsert_listing(
            sandbox, db, sku,
            product_type=update.product_type or (row["product_type"] if row else "PRODUCT"),
            item_name=update.item_name or (row["item_name"] if row else sku),
            price_cents=update.price_cents if update.price_cents is not None else (row["price_cents"] if row else 1000),
            quantity=update.quantity, asin=row["asin"] if row else None,
            attributes=json.loads(row["attributes"]) if row else None,
        )
        if update.shelf is not None:
            set_shelf(db, sku, update.shelf, sandbox.now())
        return _listing_json(get_listing(db, sku), shelf_quantity(db, sku))


@router.post("/orders", status_code=201)
def buyer_places_order(order: PlaceOrder, request: Request) -> JSONResponse:
    sandbox = sandbox_of(request)
    catch_up(sandbox)
    outcome = place_order(sandbox, order)
    if isinstance(outcome, Refusal):
        return JSONResponse({"error": outcome.reason, "shortages": outcome.shortages}, status_code=409)
    return JSONResponse({"amazon_order_id": outcome, "status": "Pending"}, status_code=201)


@router.post("/orders/{order_id}/cancel")
def buyer_cancels_order(order_id: str, request: Request) -> JSONResponse:
    sandbox = sandbox_of(request)
    catch_up(sandbox)
    try:
        status = cancel_by_buyer(sandbox, order_id)
    except LookupError:
        return JSONResponse({"error": "not_found", "amazon_order_id": order_id}, status_code=404)
    except ValueError as exc:
        return JSONResponse({"error": "not_cancellable", "detail": str(exc)}, status_code=409)
    return JSONResponse({"amazon_order_id": order_id, "status": status})


@router.post("/tick")
def tick(request: Request) -> dict:
    sandbox = sandbox_of(request)
    catch_up(sandbox)
    return {"delivered": sandbox.notifier.deliver_pending()}


@router.get("/stats")
def stats(request: Request) -> dict:
    sandbox = sandbox_of(request)
    counters = {"orders_placed": 0, "orders_refused": 0, "units_sold": 0, "units_refused": 0}
    counters.update(sandbox.store.stats())
    with sandbox.store.tx() as db:
        by_status = {r["status"]: r["n"] for r in db.execute("SELECT status, COUNT(*) AS n FROM orders GROUP BY status")}
    return {**counters, "orders_by_status": by_status}


@router.get("/oversells")
def oversells(request: Request) -> dict:
    """Units sold beyond the seller's shelf (shelf.py), in all and by SKU."""
    with sandbox_of(request).store.tx() as db:
        return oversell_report(db)


@router.get("/orders")
def list_orders(request: Request, limit: int = 10_000) -> dict:
    """Every order buyers placed, oldest first, with its status: what Amazon itself
    counts, for a test or a demo to compare with the hub's."""
    sandbox = sandbox_of(request)
    catch_up(sandbox)
    with sandbox.store.tx() as db:
        rows = db.execute("SELECT amazon_order_id, status, purchase_date FROM orders ORDER BY purchase_date, "
                          "amazon_order_id LIMIT ?", (max(1, min(limit, 100_000)),)).fetchall()
        by_status = {r["status"]: r["n"] for r in db.execute("SELECT status, COUNT(*) AS n FROM orders GROUP BY status")}
    return {"by_status": by_status, "orders": [{"amazon_order_id": r["amazon_order_id"], "status": r["status"]}
                                                for r in rows]}


@router.get("/notifications")
def notifications(request: Request, type: str | None = None, limit: int = 1000) -> dict:  # noqa: A002
    """The outbox, newest last, with each notification's delivery fate (copies 0, 1, 2)."""
    sandbox = sandbox_of(request)
    sql = "SELECT * FROM notifications" + (" WHERE notification_type = ?" if type else "") + " ORDER BY seq LIMIT ?"
    args = ((type,) if type else ()) + (max(1, min(limit, 10_000)),)
    with sandbox.store.tx() as db:
        rows = db.execute(sql, args).fetchall()
    return {"notifications": [
        {"notification": json.loads(r["body"]), "copies": r["copies"], "sent": bool(r["sent"])} for r in rows
    ]}


@router.post("/notifications/deliver")
def deliver(request: Request) -> dict:
    return {"delivered": sandbox_of(request).notifier.deliver_pending()}
