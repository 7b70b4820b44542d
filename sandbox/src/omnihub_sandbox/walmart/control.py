"""``/_sandbox/...``: the levers a demo or a test pulls that are not Walmart's API.

Customers checking out, the seller editing items and stock as in Seller Center (and
saying what is really on its shelves), seeding and resetting, per-API rate limits and a
429 storm, the clock, the outbox of notifications, and the sandbox's own counters
(orders placed and refused, oversold units). Plain JSON, not Walmart's shapes.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from .catalog import generate_catalog
from .config import DEFAULT_RATE_LIMITS, ApiLimit
from .context import SandboxContext, sandbox_of
from .lifecycle import catch_up
from .shelf import oversell_report, set_shelf, shelf_quantity
from .stock import set_input, stock_of
from .storefront import Checkout, Refusal, place_order

router = APIRouter(prefix="/_sandbox", tags=["sandbox control"])


def seed_catalog(sandbox: SandboxContext) -> int:
    """Create the seeded items that do not exist yet, stocked (and shelved) at every node."""
    cfg = sandbox.config
    now = sandbox.now()
    created = 0
    with sandbox.store.tx() as db:
        for item in generate_catalog(cfg.seed, cfg.catalog_size, cfg.initial_quantity_max, [n.id for n in cfg.ship_nodes]):
            if db.execute("SELECT 1 FROM items WHERE sku = ?", (item.sku,)).fetchone():
                continue
            db.execute("INSERT INTO items (sku, product_name, price_cents, created_at) VALUES (?, ?, ?, ?)",
                       (item.sku, item.product_name, item.price_cents, now))
            for node, quantity in item.quantities.items():
                set_input(db, item.sku, node, quantity, now)
                set_shelf(db, item.sku, node, quantity)  # the seller has what it told Walmart
            created += 1
    sandbox.store.set_meta("seeded", True)
    return created


class NodeEdit(BaseModel):
    quantity: int | None = Field(None, ge=0, description="Walmart's inputQty, as if set in Seller Center")
    shelf: int | None = Field(None, ge=0, description="the units the seller physically holds (shelf.py)")


class ItemEdit(BaseModel):
    product_name: str | None = Field(None, min_length=1, max_length=500)
    price_cents: int | None = Field(None, ge=0)
    nodes: dict[str, NodeEdit] = Field(default_factory=dict)


class ResetRequest(BaseModel):
    seed_catalog: bool = True


class ClockAdvance(BaseModel):
    seconds: float = Field(ge=0, le=10 * 365 * 86400)


class ThrottleStorm(BaseModel):
    seconds: float = Field(ge=0, le=86_400)


def _item_json(sandbox: SandboxContext, db: Any, row: Any) -> dict[str, Any]:
    return {"sku": row["sku"], "product_name": row["product_name"], "price_cents": row["price_cents"],
            "nodes": {s.ship_node: {"input_qty": s.input_qty, "reserved": s.reserved, "avail_to_sell": s.avail_to_sell,
                                    "shelf": shelf_quantity(db, row["sku"], s.ship_node)} for s in stock_of(db, row["sku"])}}


@router.post("/reset")
def reset(request: Request, body: ResetRequest | None = None) -> dict[str, Any]:
    sandbox = sandbox_of(request)
    sandbox.store.wipe()
    sandbox.limiter.reset()
    sandbox.store.set_meta("clock_offset", sandbox.clock.offset)
    created = seed_catalog(sandbox) if (body or ResetRequest()).seed_catalog else 0
    return {"reset": True, "items_created": created}


@router.get("/catalog")
def catalog(request: Request) -> dict[str, Any]:
    """Ship nodes and items with Walmart's figures and the seller's shelves."""
    sandbox = sandbox_of(request)
    catch_up(sandbox)
    with sandbox.store.tx() as db:
        items = [_item_json(sandbox, db, r) for r in db.execute("SELECT * FROM items ORDER BY sku").fetchall()]
    return {"ship_nodes": [n.model_dump() for n in sandbox.config.ship_nodes], "items": items}


@router.put("/items/{sku:path}")
def edit_item(sku: str, edit: ItemEdit, request: Request) -> JSONResponse:
    """Create or edit an item as the seller would in Seller Center (applies at once)."""
    sandbox = sandbox_of(request)
    known = {n.id for n in sandbox.config.ship_nodes}
    unknown = sorted(set(edit.nodes) - known)
    if unknown:
        return JSONResponse({"error": "unknown_ship_node", "ship_nodes": unknown}, status_code=422)
    now = sandbox.now()
    with sandbox.store.tx() as db:
        row = db.execute("SELECT * FROM items WHERE sku = ?", (sku,)).fetchone()
        db.execute("INSERT INTO items (sku, product_name, price_cents, created_at) VALUES (?, ?, ?, ?) "
                   "ON CONFLICT(sku) DO UPDATE SET product_name = excluded.product_name, price_cents = excluded.price_cents",
                   (sku, edit.product_name or (row["product_name"] if row else sku),
                    edit.price_cents if edit.price_cents is not None else (row["price_cents"] if row else 1000), now))
        for node, change in edit.nodes.items():
            if change.quantity is not None:
                set_input(db, sku, node, change.quantity, now)
            if change.shelf is not None:
                set_shelf(db, sku, node, change.shelf)
        return JSONResponse(_item_json(sandbox, db, db.execute("SELECT * FROM items WHERE sku = ?", (sku,)).fetchone()))


@router.post("/orders", status_code=201)
def customer_checks_out(checkout: Checkout, request: Request) -> JSONResponse:
    sandbox = sandbox_of(request)
    catch_up(sandbox)
    outcome = place_order(sandbox, checkout)
    if isinstance(outcome, Refusal):
        return JSONResponse({"error": outcome.reason, "shortages": outcome.shortages}, status_code=409)
    with sandbox.store.tx() as db:
        node = db.execute("SELECT ship_node, released FROM orders WHERE purchase_order_id = ?", (outcome,)).fetchone()
    return JSONResponse({"purchaseOrderId": outcome, "shipNode": node["ship_node"], "released": bool(node["released"])},
                        status_code=201)


@router.get("/orders")
def orders(request: Request, limit: int = 10_000) -> dict[str, Any]:
    """Every order customers placed, oldest first, with its lines' statuses."""
    sandbox = sandbox_of(request)
    catch_up(sandbox)
    with sandbox.store.tx() as db:
        rows = db.execute("SELECT purchase_order_id, ship_node, released FROM orders ORDER BY order_date, "
                          "purchase_order_id LIMIT ?", (max(1, min(limit, 100_000)),)).fetchall()
        statuses: dict[str, dict[str, int]] = {}
        for r in db.execute("SELECT purchase_order_id, status, sum(quantity) AS q FROM line_statuses "
                            "GROUP BY purchase_order_id, status"):
            statuses.setdefault(r["purchase_order_id"], {})[r["status"]] = r["q"]
    return {"orders": [{"purchaseOrderId": r["purchase_order_id"], "shipNode": r["ship_node"],
                        "released": bool(r["released"]), "units_by_status": statuses.get(r["purchase_order_id"], {})}
                       for r in rows]}


@router.get("/oversells")
def oversells(request: Request) -> dict[str, Any]:
    """Units sold beyond the seller's shelf (shelf.py), in all, by SKU and by ship node."""
    with sandbox_of(request).store.tx() as db:
        return oversell_report(db)


@router.get("/stats")
def stats(request: Request) -> dict[str, Any]:
    sandbox = sandbox_of(request)
    counters = {name: 0 for name in ("orders_placed", "orders_refused", "units_sold", "units_refused",
                                     "acknowledged_on_time", "acknowledged_late", "throttled_calls")}
    counters.update(sandbox.store.stats())
    return counters


@router.get("/rate-limits")
def rate_limits(request: Request) -> dict[str, Any]:
    return {api: limit.model_dump() for api, limit in sandbox_of(request).limiter.limits().items()}


@router.put("/rate-limits/{api}")
def set_rate_limit(api: str, limit: ApiLimit, request: Request) -> JSONResponse:
    """Change one API's limit from now on (its bucket starts full)."""
    if api not in DEFAULT_RATE_LIMITS:
        return JSONResponse({"error": "unknown_api", "apis": sorted(DEFAULT_RATE_LIMITS)}, status_code=404)
    sandbox_of(request).limiter.set_limit(api, limit)
    return JSONResponse({api: limit.model_dump()})


@router.put("/throttle-storm")
def throttle_storm(body: ThrottleStorm, request: Request) -> dict[str, Any]:
    """Every metered call is answered 429 for `seconds` (0 ends a storm)."""
    return {"until": sandbox_of(request).limiter.storm(body.seconds), "seconds": body.seconds}


@router.get("/clock")
def read_clock(request: Request) -> dict[str, Any]:
    sandbox = sandbox_of(request)
    return {"now": sandbox.now(), "offset_seconds": sandbox.clock.offset}


@router.post("/clock/advance")
def advance_clock(body: ClockAdvance, request: Request) -> dict[str, Any]:
    """Time travel: tokens expire, orders release, feeds finish, lines deliver, buckets refill."""
    sandbox = sandbox_of(request)
    offset = sandbox.clock.advance(body.seconds)
    sandbox.store.set_meta("clock_offset", offset)
    catch_up(sandbox)
    return {"now": sandbox.now(), "offset_seconds": offset}


@router.post("/tick")
def tick(request: Request) -> dict[str, Any]:
    sandbox = sandbox_of(request)
    catch_up(sandbox)
    return {"delivered": sandbox.deliverer.deliver_pending()}


@router.get("/webhooks/deliveries")
def deliveries(request: Request, limit: int = 1000) -> dict[str, Any]:
    """The outbox, oldest first, with each delivery's fate."""
    with sandbox_of(request).store.tx() as db:
        rows = db.execute("SELECT * FROM deliveries ORDER BY seq LIMIT ?", (max(1, min(limit, 10_000)),)).fetchall()
    return {"deliveries": [{"eventId": r["event_id"], "subscriptionId": r["subscription_id"], "eventType": r["event_type"],
                            "attempts": r["attempts"], "delivered": r["delivered_at"] is not None,
                            "gaveUp": bool(r["gave_up"]), "lastStatus": r["last_status"]} for r in rows]}


@router.post("/webhooks/deliver")
def deliver(request: Request) -> dict[str, Any]:
    """Catch the world up, then post every due notification once (what the tick does)."""
    sandbox = sandbox_of(request)
    catch_up(sandbox)
    return {"delivered": sandbox.deliverer.deliver_pending()}
