"""Control plane, the merchant's admin: deleting products, managing locations, uninstalling
and reinstalling the app (``/_sandbox/...``, JSON, not part of Shopify; see README.md).

Each change fires the webhook Shopify fires for it (products/delete and inventory_items/delete,
locations/create|update|activate|deactivate|delete, app/uninstalled), subject to the
configured delivery faults like every other webhook.
"""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, HTTPException
from pydantic import BaseModel, ConfigDict, Field

from . import app_installation, locations, rest_payloads
from .control import _id
from .product_removal import delete_product


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class NewLocationIn(_Strict):
    name: str = Field(..., min_length=1, max_length=255)
    kind: Literal["store", "warehouse"] = "store"
    pos: bool | None = None
    fulfills_online_orders: bool = True
    address1: str | None = Field(None, max_length=255)
    city: str | None = Field(None, max_length=255)
    province: str | None = Field(None, max_length=255)
    province_code: str | None = Field(None, max_length=8)
    zip: str | None = Field(None, max_length=32)
    phone: str | None = Field(None, max_length=64)
    latitude: float | None = Field(None, ge=-90, le=90)
    longitude: float | None = Field(None, ge=-180, le=180)


class LocationEditIn(_Strict):
    name: str | None = Field(None, min_length=1, max_length=255)
    address1: str | None = Field(None, max_length=255)
    city: str | None = Field(None, max_length=255)
    province: str | None = Field(None, max_length=255)
    province_code: str | None = Field(None, max_length=8)
    zip: str | None = Field(None, max_length=32)
    phone: str | None = Field(None, max_length=64)
    fulfills_online_orders: bool | None = None


def build_admin_router(shop) -> APIRouter:
    router = APIRouter(prefix="/_sandbox", tags=["sandbox control"])

    def location_row(conn, location_id: int) -> dict:
        return rest_payloads.location(conn.execute("SELECT * FROM locations WHERE id = ?", (location_id,)).fetchone())

    @router.delete("/products/{product_id}")
    def product_delete(product_id: str) -> dict:
        """The merchant deletes a product; products/delete and inventory_items/delete fire."""
        pid = _id(product_id, "Product")
        with shop.store.tx() as conn:
            events = delete_product(conn, pid, shop.now_iso())
        if events is None:
            raise HTTPException(404, detail="no such product")
        shop.publish(events)
        return {"deleted_product_id": pid, "deleted_inventory_item_ids": [e.body["id"] for e in events[1:]]}

    @router.post("/locations", status_code=201)
    def location_create(body: NewLocationIn) -> dict:
        fields = body.model_dump(exclude_none=True)
        with shop.store.tx() as conn:
            location_id, events = locations.create_location(conn, shop.next_id, fields, shop.now_iso())
            out = location_row(conn, location_id)
        shop.publish(events)
        return out

    def change(location_id: str, apply) -> dict:
        lid = _id(location_id, "Location")
        try:
            with shop.store.tx() as conn:
                events = apply(conn, lid)
                out = location_row(conn, lid)
        except LookupError:
            raise HTTPException(404, detail="no such location") from None
        except locations.LocationRefused as exc:
            raise HTTPException(409, detail=str(exc)) from None
        shop.publish(events)
        return out

    @router.patch("/locations/{location_id}")
    def location_update(location_id: str, body: LocationEditIn) -> dict:
        return change(location_id, lambda conn, lid: locations.update_location(
            conn, lid, body.model_dump(exclude_none=True), shop.now_iso()))

    @router.post("/locations/{location_id}/deactivate")
    def location_deactivate(location_id: str) -> dict:
        return change(location_id, lambda conn, lid: locations.set_active(conn, lid, False, shop.now_iso()))

    @router.post("/locations/{location_id}/activate")
    def location_activate(location_id: str) -> dict:
        return change(location_id, lambda conn, lid: locations.set_active(conn, lid, True, shop.now_iso()))

    @router.delete("/locations/{location_id}")
    def location_delete(location_id: str) -> dict:
        lid = _id(location_id, "Location")
        try:
            with shop.store.tx() as conn:
                events = locations.delete_location(conn, lid, shop.now_iso())
        except LookupError:
            raise HTTPException(404, detail="no such location") from None
        except locations.LocationRefused as exc:
            raise HTTPException(409, detail=str(exc)) from None
        shop.publish(events)
        return {"deleted_location_id": lid}

    @router.post("/app/uninstall")
    def app_uninstall() -> dict:
        """The merchant uninstalls the app: app/uninstalled goes out, then the subscriptions
        are deleted and the Admin API answers 401 to the app's token."""
        if not app_installation.is_installed(shop):
            raise HTTPException(409, detail="the app is not installed")
        return {"uninstalled": True, "shop": app_installation.uninstall(shop)}

    @router.post("/app/install")
    def app_install() -> dict:
        app_installation.install(shop)
        return {"installed": True}

    return router
