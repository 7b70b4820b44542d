"""Store Mode, for an associate with a customer: a product (its SKU, barcode or words of
its title) and a ZIP code, and the nearby stores that can have it ready for pickup, how
many units each can promise, how far they are and when it would be ready, in the
store's own time (services/store_mode.py, the same answer as GET /availability/stores).

What a store may promise for pickup is what the shop's product page shows every shopper,
so the page asks only for the catalog (catalog.read): a store associate sees the other
stores' pickup availability as a shopper would, and none of their stock screens.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from omnihub.domain.ledger import LedgerError
from omnihub.entrypoints.console.page_access import PagePrincipal
from omnihub.entrypoints.console.pages import render
from omnihub.services import sku_search
from omnihub.services.store_mode import store_mode

router = APIRouter(include_in_schema=False)
RADII_KM = (10, 25, 50, 100, 250)


def _local(when: datetime | None, time_zone: str) -> str:
    if when is None:
        return ""
    try:
        return when.astimezone(ZoneInfo(time_zone)).strftime("%a %H:%M")
    except (KeyError, ValueError):  # pragma: no cover - time zones are checked when a location is saved
        return when.strftime("%a %H:%M UTC")


def _answer(hub, q: str, sku: str, near: str, radius_km: int) -> dict:
    """What the page shows for what was typed."""
    hits = sku_search.search(hub.read_engine, sku or q, limit=20) if (sku or q) else []
    if sku:
        hits = [h for h in hits if h.sku == sku]
    chosen = hits[0] if len(hits) == 1 or (hits and hits[0].matched != "title") else None
    out: dict = {"hits": hits, "chosen": chosen, "result": None, "errors": {}}
    if (q or sku) and not hits:
        out["errors"]["q"] = f"No product matches {sku or q!r}: try its SKU, its barcode or other words."
    if chosen is None or not near:
        if chosen is not None:
            out["errors"]["near"] = "Type the customer's ZIP code."
        return out
    try:
        result = store_mode(hub.read_engine, {chosen.sku: 1}, near, radius_km=radius_km, limit=10)
    except LedgerError as exc:
        out["errors"]["near"] = str(exc)[0].upper() + str(exc)[1:] + "."
        return out
    zones = {loc["code"]: loc.get("time_zone") or "UTC" for loc in hub.catalog.list_locations()}
    out["result"] = [{**s, "units": s["available"].get(chosen.sku, 0),
                      "ready": _local(s["pickup_ready_at"], zones.get(s["location"], "UTC"))}
                     for s in result["stores"]]
    return out


@router.get("/console/store-mode")
async def store_mode_page(request: Request, principal: PagePrincipal, q: str = "", sku: str = "", near: str = "",
                          radius_km: str = "50") -> Response:
    q, sku, near = q.strip()[:sku_search.QUERY_LENGTH], sku.strip()[:sku_search.QUERY_LENGTH], near.strip()[:100]
    radius = int(radius_km) if radius_km in {str(r) for r in RADII_KM} else 50
    answer = await run_in_threadpool(_answer, request.app.state.hub, q, sku, near, radius)
    status = 422 if answer["errors"] else 200  # (only what was typed has errors)
    return render(request, "store_mode.html", {"title": "Store Mode", "q": q or sku, "near": near, "radius_km": radius,
                                               "radii": RADII_KM, **answer}, status_code=status)
