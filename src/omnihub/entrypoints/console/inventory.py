"""Inventory: find a SKU by its SKU, barcode or title (services/sku_search.py), and a SKU's
page: every location's quantity states, ATP per channel with the engine's explanation
of each figure (services/stock_queries.py `explain`, the same as GET /atp/{sku}/explain),
a chart of its stock over the last 7, 30 or 90 days (on hand, reserved, available; every
location summed or one of them: services/stock_history.py), and the SKU's ledger, oldest
first, a page at a time.

The chart is drawn in the browser by uPlot (vendored in static/vendor with its licence,
no CDN): it needs nothing installed beside the hub, so every install has it, and the
server only sums the window's movements per bucket. The same figures are in a table
under it, for a screen reader or a browser without scripts.

A code that names exactly one SKU (a scanned barcode) goes straight to its page.
"""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from omnihub.domain.limits import MAX_ID
from omnihub.entrypoints.console.forms import whole_number
from omnihub.entrypoints.console.page_access import PagePrincipal
from omnihub.entrypoints.console.pages import render
from omnihub.services import sku_search
from omnihub.services.catalog import NotFound
from omnihub.services.stock_history import WINDOWS, stock_over_time

router = APIRouter(include_in_schema=False)
LEDGER_PAGE = 25
DEFAULT_DAYS = 30


@router.get("/console/inventory")
async def search(request: Request, principal: PagePrincipal, q: str = "") -> Response:
    hub = request.app.state.hub
    q = q.strip()[:sku_search.QUERY_LENGTH]
    hits = await run_in_threadpool(sku_search.search, hub.read_engine, q) if q else []
    if len(hits) == 1 and hits[0].matched != "title":
        return RedirectResponse(f"/console/inventory/{hits[0].sku}", status_code=303)
    return render(request, "inventory_search.html", {"title": "Inventory", "q": q, "hits": hits})


def sku_page(hub, sku: str, after_id: int, days: int = DEFAULT_DAYS, location: str | None = None) -> dict | None:
    """What the SKU's page shows, or None for an unknown SKU."""
    try:
        variant = hub.catalog.get_variant(sku)
        positions, online, explained = hub.queries.explain_every_channel(sku)
    except NotFound:
        return None
    chart_at = location if location in positions else None
    chart = stock_over_time(hub.read_engine, sku, days, chart_at)
    channels = {c["code"]: c for c in hub.catalog.list_channels()}
    per_channel = [(channels[code], e) for code, e in explained if code in channels]
    ledger = hub.queries.history(sku, after_id=after_id, limit=LEDGER_PAGE)
    return {"variant": variant, "positions": dict(sorted(positions.items())), "online": online,
            "per_channel": per_channel, "ledger": ledger, "after_id": after_id,
            "next_after_id": ledger[-1]["id"] if len(ledger) == LEDGER_PAGE else None,
            "chart": chart, "days": days, "windows": list(WINDOWS), "chart_at": chart_at or "",
            "chart_rows": [(datetime.fromtimestamp(x, UTC), *v) for x, *v in
                           zip(chart.ends, chart.on_hand, chart.reserved, chart.available)]}


@router.get("/console/inventory/{sku}")
async def sku(request: Request, sku: str, principal: PagePrincipal, after_id: str = "0", days: str = "",
              location: str = "") -> Response:
    start = whole_number(after_id, low=0, high=MAX_ID) or 0
    asked = whole_number(days, low=1, high=366)
    window = asked if asked is not None and asked in WINDOWS else DEFAULT_DAYS
    found = await run_in_threadpool(sku_page, request.app.state.hub, sku, start, window, location or None)
    if found is None:
        return render(request, "inventory_search.html", {"title": "Inventory", "q": sku, "hits": [],
                                                          "missing": sku}, status_code=404)
    return render(request, "sku.html", {"title": sku, "sku": sku, **found})
