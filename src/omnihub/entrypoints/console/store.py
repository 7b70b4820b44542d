"""The store associate's screens: the picker of one's own stores, and what the receiving,
counting and damage screens share (the store named in the path, the SKU a typed or
scanned code names, the units on its shelf there).

Every screen is at /console/store/{location}/...: the route's rule reads the location from
the path, so a store associate's badge opens its own stores only (403 elsewhere, as the
API's stock routes refuse a body naming another store). Each writes through the same
stock services as the API (services/inventory.py), with the associate as the ledger's
actor and a key per form shown, so a form sent twice (a double tap, a retry on a bad
connection) records once.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from omnihub.domain.access import Permission
from omnihub.domain.ledger import Position
from omnihub.entrypoints.console.page_access import PagePrincipal
from omnihub.entrypoints.console.pages import render
from omnihub.services import sku_search
from omnihub.services.catalog import NotFound

router = APIRouter(include_in_schema=False)
SCREENS = (("receive", "Receive a shipment", Permission.STOCK_RECEIVE),
           ("count", "Count a shelf", Permission.STOCK_COUNT),
           ("damage", "Mark damaged", Permission.STOCK_DAMAGE),
           ("picks", "Pick list", Permission.ORDERS_FULFIL),
           ("pickups", "Hand over pickups", Permission.ORDERS_FULFIL))


def new_form_key() -> str:
    """The idempotency key of one form as shown: sent twice, it is recorded once."""
    return uuid.uuid4().hex


@router.get("/console/store")
async def picker(request: Request, principal: PagePrincipal) -> Response:
    hub = request.app.state.hub
    locations = await run_in_threadpool(hub.catalog.list_locations)
    if principal.locations:
        locations = [loc for loc in locations if loc["code"] in principal.locations]
    stores = sorted(locations, key=lambda loc: (loc["kind"] != "store", loc["code"]))
    screens = [(path, label) for path, label, permission in SCREENS if principal.can_somewhere(permission)]
    return render(request, "store.html", {"title": "Store", "stores": stores, "screens": screens})


@dataclass(frozen=True, slots=True)
class Found:
    sku: str
    title: str
    position: Position

    @property
    def shelf(self) -> int:
        """Sellable units on the shelf, as a count sees them (reserved ones are still there)."""
        return self.position.on_hand - self.position.damaged - self.position.quality_control


def store_of(hub, location: str) -> dict | None:
    try:
        return hub.catalog.get_location(location)
    except NotFound:
        return None


def find_here(hub, code: str, location: str) -> Found | None:
    """The SKU a code names, and its position at this store (zeros if it has none)."""
    hit = sku_search.find_code(hub.read_engine, code)
    if hit is None:
        return None
    position = hub.queries.positions(hit.sku).get(location, Position())
    return Found(hit.sku, hit.title, position)


def movement_of(hub, sku: str, movement_id: int | None, location: str) -> dict | None:
    """A movement just recorded here (what the screen confirms), read back from the ledger."""
    if movement_id is None or not sku:
        return None
    try:
        rows = hub.queries.history(sku, after_id=movement_id - 1, limit=1)
    except NotFound:
        return None
    return rows[0] if rows and rows[0]["id"] == movement_id and rows[0]["location"] == location else None


def missing_store(request: Request, location: str) -> Response:
    return render(request, "refused.html", {"title": "No such store", "detail": f"There is no location {location}."},
                  status_code=404)
