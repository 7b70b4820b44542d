"""Inventory API: one SKU at one ship node, one SKU at many, and all SKUs at all nodes.

- ``GET/PUT /v3/inventory?sku=&shipNode=``: ``{sku, quantity: {unit: "EACH", amount}}``;
  without ``shipNode`` the seller's default (first) node. The amount read and written is
  ``inputQty``, the seller's own figure (stock.py says what Walmart sells from it).
- ``GET /v3/inventories/{sku}?shipNode=``: per node ``inputQty``, ``availToSellQty`` and
  ``reservedQty``; ``PUT /v3/inventories/{sku}`` with ``{inventories: {nodes: [{shipNode,
  inputQty}]}}`` answers each node's ``status`` (Success, or Failed with its errors).
- ``GET /v3/inventories?limit=&nextCursor=``: every SKU with its nodes, ``limit`` (1-50,
  default 10) a page, ``meta.nextCursor`` an opaque token for the next.

An unknown SKU is 404 CONTENT_NOT_FOUND; an unknown ship node a 400 naming shipNode.
"""

from __future__ import annotations

import base64
import json
import sqlite3
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from .context import SandboxContext
from .contract import require
from .errors import INVENTORY, WalmartError, bad_content, bad_param, not_found
from .gateway import api
from .stock import NodeStock, node_stock, set_input, stock_of
from .storefront import out_of_stock

router = APIRouter()
CURSOR_MARK = "inventories-after:"


def each(amount: int) -> dict[str, Any]:
    return {"unit": "EACH", "amount": amount}


def _item(db: sqlite3.Connection, sku: str) -> sqlite3.Row:
    row = db.execute("SELECT * FROM items WHERE sku = ?", (sku,)).fetchone()
    if row is None:
        raise not_found(f"No item with SKU {sku} for this seller.", INVENTORY)
    return row


def _node(sandbox: SandboxContext, ship_node: str | None) -> str:
    if ship_node is None:
        return sandbox.config.default_ship_node
    if ship_node not in {n.id for n in sandbox.config.ship_nodes}:
        raise bad_param("shipNode", f"Ship node {ship_node} is not one of this seller's.", INVENTORY)
    return ship_node


def _required_sku(request: Request) -> str:
    sku = request.query_params.get("sku")
    if not sku:
        raise WalmartError("MISSING_REQUEST_PARAM", "sku is required.", field="sku", service=INVENTORY)
    return sku


async def _json(request: Request) -> Any:
    try:
        return json.loads(await request.body() or b"null")
    except ValueError:
        raise WalmartError("MALFORMED_REQUEST_CONTENT", "The request body is not valid JSON.", service=INVENTORY) from None


def apply_quantity(sandbox: SandboxContext, db: sqlite3.Connection, sku: str, node: str, amount: int, now: float) -> None:
    """The seller's figure for one SKU at one node, with INVENTORY_OOS when it empties the node."""
    before, after = set_input(db, sku, node, amount, now)
    if before > 0 and after == 0:
        out_of_stock(sandbox, db, sku, node, _item(db, sku)["product_name"], now)
    sandbox.store.bump("inventory_updates")


@router.get("/v3/inventory")
def get_inventory(request: Request, sandbox: SandboxContext = api("inventory_get")) -> JSONResponse:
    sku = _required_sku(request)
    node = _node(sandbox, request.query_params.get("shipNode"))
    with sandbox.store.tx() as db:
        _item(db, sku)
        stock = node_stock(db, sku, node)
    return JSONResponse({"sku": sku, "quantity": each(stock.input_qty if stock else 0)})


@router.put("/v3/inventory")
async def update_inventory(request: Request, sandbox: SandboxContext = api("inventory_update")) -> JSONResponse:
    sku = _required_sku(request)
    node = _node(sandbox, request.query_params.get("shipNode"))
    body = await _json(request)
    require("InventoryUpdate", body, INVENTORY)
    if body["sku"] != sku:
        raise bad_content(f"The body's sku {body['sku']!r} differs from the sku parameter {sku!r}.", field="sku",
                          service=INVENTORY)
    amount = int(body["quantity"]["amount"])
    with sandbox.store.tx() as db:
        _item(db, sku)
        apply_quantity(sandbox, db, sku, node, amount, sandbox.now())
    return JSONResponse({"sku": sku, "quantity": each(amount)})


def _nodes_json(stocks: list[NodeStock]) -> list[dict[str, Any]]:
    return [{"shipNode": s.ship_node, "inputQty": each(s.input_qty), "availToSellQty": each(s.avail_to_sell),
             "reservedQty": each(s.reserved)} for s in stocks]


@router.get("/v3/inventories")
def list_inventories(request: Request, sandbox: SandboxContext = api("inventories_list")) -> JSONResponse:
    raw = request.query_params.get("limit", "10")
    if not raw.isdigit() or not 1 <= int(raw) <= 50:
        raise bad_param("limit", "limit must be an integer from 1 to 50.", INVENTORY)
    limit = int(raw)
    after = ""
    cursor = request.query_params.get("nextCursor")
    if cursor:
        try:
            decoded = base64.b64decode(cursor + "=" * (-len(cursor) % 4), altchars=b"-_", validate=True).decode()
        except (ValueError, UnicodeDecodeError):
            decoded = ""
        if not decoded.startswith(CURSOR_MARK):
            raise bad_param("nextCursor", "The cursor was not issued by this API.", INVENTORY)
        after = decoded[len(CURSOR_MARK):]
    with sandbox.store.tx() as db:
        total = db.execute("SELECT count(*) AS n FROM items").fetchone()["n"]
        skus = [r["sku"] for r in db.execute("SELECT sku FROM items WHERE sku > ? ORDER BY sku LIMIT ?",
                                             (after, limit + 1))]
        page = [{"sku": sku, "nodes": _nodes_json(stock_of(db, sku))} for sku in skus[:limit]]
    meta: dict[str, Any] = {"totalCount": total}
    if len(skus) > limit:
        meta["nextCursor"] = base64.urlsafe_b64encode((CURSOR_MARK + skus[limit - 1]).encode()).decode().rstrip("=")
    return JSONResponse({"meta": meta, "elements": {"inventories": page}})


@router.get("/v3/inventories/{sku:path}")
def get_node_inventories(sku: str, request: Request, sandbox: SandboxContext = api("inventories_get")) -> JSONResponse:
    only = request.query_params.get("shipNode")
    if only is not None:
        _node(sandbox, only)
    with sandbox.store.tx() as db:
        _item(db, sku)
        stocks = [s for s in stock_of(db, sku) if only is None or s.ship_node == only]
    return JSONResponse({"sku": sku, "nodes": _nodes_json(stocks)})


@router.put("/v3/inventories/{sku:path}")
async def update_node_inventories(sku: str, request: Request,
                                  sandbox: SandboxContext = api("inventories_update")) -> JSONResponse:
    body = await _json(request)
    require("MultiNodeUpdate", body, INVENTORY)
    known = {n.id for n in sandbox.config.ship_nodes}
    now = sandbox.now()
    results = []
    with sandbox.store.tx() as db:
        _item(db, sku)
        for node in body["inventories"]["nodes"]:
            if node["shipNode"] not in known:
                error = bad_param("shipNode", f"Ship node {node['shipNode']} is not one of this seller's.", INVENTORY)
                results.append({"shipNode": node["shipNode"], "status": "Failed", "errors": [error.entry()]})
                continue
            apply_quantity(sandbox, db, sku, node["shipNode"], int(node["inputQty"]["amount"]), now)
            results.append({"shipNode": node["shipNode"], "status": "Success"})
    return JSONResponse({"sku": sku, "nodes": results})
