"""Orders API, reading: ``GET /v3/orders``, ``GET /v3/orders/released``, ``GET /v3/orders/{id}``.

The seller sees an order once Walmart released it. ``/v3/orders`` lists released orders
by creation window (``createdStartDate`` defaults to seven days back, ``createdEndDate``
to now), last-modified window, status (an order matches when one of its lines has it),
SKU, ids and expected ship dates; ``/v3/orders/released`` lists those still waiting
for the seller (a line in Created). Pages hold ``limit`` orders (at most 200, default
100), oldest first; ``meta.nextCursor`` is the query string of the next page, to be
appended to the same path (``GET /v3/orders`` + nextCursor) as Walmart's are. It pins
the window's end, so paging is complete and stable while orders keep arriving.
"""

from __future__ import annotations

import math
import sqlite3
from typing import Any
from urllib.parse import parse_qsl, urlencode

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from .clock import iso, parse_query_date
from .context import SandboxContext
from .errors import ORDERS, bad_param, not_found
from .gateway import api
from .orders_render import render_order

router = APIRouter()

LINE_STATUSES = ("Created", "Acknowledged", "Shipped", "Delivered", "Cancelled")
SEVEN_DAYS = 7 * 86400.0
MAX_LIMIT = 200
#: filters carried from one page to the next in nextCursor
FILTERS = ("sku", "customerOrderId", "purchaseOrderId", "status", "createdStartDate", "createdEndDate",
           "lastModifiedStartDate", "lastModifiedEndDate", "fromExpectedShipDate", "toExpectedShipDate",
           "shipNodeType", "productInfo", "replacementInfo")
BOOLEANS = ("productInfo", "replacementInfo", "incentiveInfo")


def _params(request: Request) -> dict[str, str]:
    params = dict(request.query_params)
    cursor = params.pop("nextCursor", None)
    if cursor:  # also accepted as a parameter holding the whole query string
        params.update(dict(parse_qsl(cursor.lstrip("?"), keep_blank_values=True)))
    return params


def _date(params: dict[str, str], name: str) -> float | None:
    raw = params.get(name)
    if raw is None or raw == "":
        return None
    try:
        return parse_query_date(raw)
    except ValueError:
        raise bad_param(name, f"{name} must be yyyy-MM-dd or an ISO 8601 date-time, not {raw!r}.", ORDERS) from None


def _query(sandbox: SandboxContext, params: dict[str, str], released_only: bool) -> tuple[str, list[Any], dict[str, str], int]:
    raw_limit = params.get("limit", "100")
    if not raw_limit.isdigit() or not 1 <= int(raw_limit) <= MAX_LIMIT:
        raise bad_param("limit", f"limit must be an integer from 1 to {MAX_LIMIT}.", ORDERS)
    for name in BOOLEANS:
        if name in params and params[name] not in ("true", "false"):
            raise bad_param(name, f"{name} must be true or false.", ORDERS)
    if params.get("shipNodeType", "SellerFulfilled") not in ("SellerFulfilled", "WFSFulfilled", "3PLFulfilled"):
        raise bad_param("shipNodeType", "shipNodeType is SellerFulfilled, WFSFulfilled or 3PLFulfilled.", ORDERS)
    status = params.get("status")
    if status is not None and status not in LINE_STATUSES:
        raise bad_param("status", f"status is one of {', '.join(LINE_STATUSES)}.", ORDERS)
    now = sandbox.now()
    start = _date(params, "createdStartDate")
    end = _date(params, "createdEndDate")
    start = now - SEVEN_DAYS if start is None else start
    end = math.floor((now if end is None else end) * 1000) / 1000  # what the cursor pins, to the millisecond
    if start > end:
        raise bad_param("createdStartDate", "createdStartDate must not be after createdEndDate.", ORDERS)
    carried = {k: params[k] for k in FILTERS if params.get(k)}
    carried["createdStartDate"], carried["createdEndDate"] = params.get("createdStartDate") or iso(start), iso(end)
    where = ["released = 1", "order_date >= ?", "order_date <= ?"]
    args: list[Any] = [start, end]
    for name, column, op in (("lastModifiedStartDate", "last_modified", ">="), ("lastModifiedEndDate", "last_modified", "<="),
                             ("fromExpectedShipDate", "estimated_ship", ">="), ("toExpectedShipDate", "estimated_ship", "<=")):
        value = _date(params, name)
        if value is not None:
            where.append(f"{column} {op} ?")
            args.append(value)
    if params.get("shipNodeType", "SellerFulfilled") != "SellerFulfilled":
        where.append("0")  # every sandbox order ships from the seller's own nodes
    for name, column in (("purchaseOrderId", "purchase_order_id"), ("customerOrderId", "customer_order_id")):
        if params.get(name):
            where.append(f"{column} = ?")
            args.append(params[name])
    if params.get("sku"):
        where.append("EXISTS (SELECT 1 FROM order_lines l WHERE l.purchase_order_id = orders.purchase_order_id "
                     "AND l.sku = ?)")
        args.append(params["sku"])
    wanted = "Created" if released_only else status
    if wanted:
        where.append("EXISTS (SELECT 1 FROM line_statuses s WHERE s.purchase_order_id = orders.purchase_order_id "
                     "AND s.status = ?)")
        args.append(wanted)
    return " AND ".join(where), args, carried, int(raw_limit)


def list_orders(request: Request, sandbox: SandboxContext, released_only: bool) -> JSONResponse:
    params = _params(request)
    where, args, carried, limit = _query(sandbox, params, released_only)
    with sandbox.store.tx() as db:
        total = db.execute(f"SELECT count(*) AS n FROM orders WHERE {where}", args).fetchone()["n"]  # noqa: S608
        keyset, key_args = "", []
        after = params.get("poIndex")
        if after:
            last = db.execute("SELECT order_date FROM orders WHERE purchase_order_id = ?", (after,)).fetchone()
            if last is None:
                raise bad_param("nextCursor", "The cursor does not name an order of this seller.", ORDERS)
            keyset, key_args = " AND (order_date, purchase_order_id) > (?, ?)", [last["order_date"], after]
        rows = db.execute(f"SELECT * FROM orders WHERE {where}{keyset} ORDER BY order_date, purchase_order_id "  # noqa: S608
                          "LIMIT ?", (*args, *key_args, limit + 1)).fetchall()
        page = rows[:limit]
        orders = [render_order(db, row, sandbox.config) for row in page]
    meta: dict[str, Any] = {"totalCount": total, "limit": limit}
    if len(rows) > limit:
        seen = (int(params["soIndex"]) if params.get("soIndex", "").isdigit() else 0) + len(page)
        meta["nextCursor"] = "?" + urlencode({"limit": limit, "hasMoreElements": "true", "soIndex": seen,
                                              "poIndex": page[-1]["purchase_order_id"],
                                              "partnerId": sandbox.config.partner_id, **carried})
    return JSONResponse({"list": {"meta": meta, "elements": {"order": orders}}})


@router.get("/v3/orders")
def get_all_orders(request: Request, sandbox: SandboxContext = api("orders_list")) -> JSONResponse:
    return list_orders(request, sandbox, released_only=False)


@router.get("/v3/orders/released")
def get_released_orders(request: Request, sandbox: SandboxContext = api("orders_released")) -> JSONResponse:
    return list_orders(request, sandbox, released_only=True)


def released_order(db: sqlite3.Connection, purchase_order_id: str) -> sqlite3.Row:
    row = db.execute("SELECT * FROM orders WHERE purchase_order_id = ? AND released = 1", (purchase_order_id,)).fetchone()
    if row is None:
        raise not_found(f"No purchase order {purchase_order_id} for this seller.", ORDERS)
    return row


@router.get("/v3/orders/{purchase_order_id}")
def get_order(purchase_order_id: str, sandbox: SandboxContext = api("order_get")) -> JSONResponse:
    with sandbox.store.tx() as db:
        return JSONResponse({"order": render_order(db, released_order(db, purchase_order_id), sandbox.config)})
