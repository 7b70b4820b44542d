"""Locations, products, channels (allocation and feeds), stock policies, listings."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from omnihub.entrypoints.api.deps import get_hub
from omnihub.entrypoints.api.answers import SIGNED, SIGNED_BODY, problems
from omnihub.entrypoints.api.answers_catalog import ChannelOut, LocationOut, PolicyOut, PolicySet, ProductOut, VariantOut
from omnihub.entrypoints.api.schemas import (
    CatalogAfterId,
    CatalogIdPath,
    ChannelIn,
    CodePath,
    ListingIn,
    LocationIn,
    LocationPatch,
    PolicyIn,
    ProductIn,
    SkuPath,
)
from omnihub.hub import Hub

router = APIRouter()
HubDep = Annotated[Hub, Depends(get_hub)]


@router.post("/locations", status_code=201, tags=["catalog"], response_model=LocationOut, responses=problems(*SIGNED_BODY, 409))
def create_location(body: LocationIn, hub: HubDep) -> dict:
    return hub.catalog.create_location(body.model_dump(mode="json"))


@router.get("/locations", tags=["catalog"], response_model=list[LocationOut], responses=problems(*SIGNED))
def list_locations(hub: HubDep) -> list[dict]:
    return hub.catalog.list_locations()


@router.get("/locations/{code}", tags=["catalog"], response_model=LocationOut, responses=problems(*SIGNED, 404, 422))
def get_location(code: CodePath, hub: HubDep) -> dict:
    return hub.catalog.get_location(code)


@router.patch("/locations/{code}", tags=["catalog"], response_model=LocationOut, responses=problems(*SIGNED_BODY, 404))
def patch_location(code: CodePath, body: LocationPatch, hub: HubDep) -> dict:
    return hub.catalog.update_location(code, body.model_dump(mode="json", exclude_unset=True))


@router.post("/products", status_code=201, tags=["catalog"], response_model=ProductOut, responses=problems(*SIGNED_BODY, 409))
def create_product(body: ProductIn, hub: HubDep) -> dict:
    data = body.model_dump(mode="json")
    variants = data.pop("variants")
    return hub.catalog.create_product(data.pop("title"), variants, **data)


@router.get("/products", tags=["catalog"], response_model=list[ProductOut], responses=problems(*SIGNED, 422))
def list_products(hub: HubDep, after_id: CatalogAfterId = 0, limit: Annotated[int, Query(ge=1, le=500)] = 100) -> list[dict]:
    return hub.catalog.list_products(after_id=after_id, limit=limit)


@router.get("/products/{product_id}", tags=["catalog"], response_model=ProductOut, responses=problems(*SIGNED, 404, 422))
def get_product(product_id: CatalogIdPath, hub: HubDep) -> dict:
    return hub.catalog.get_product(product_id)


@router.get("/variants/{sku}", tags=["catalog"], response_model=VariantOut, responses=problems(*SIGNED, 404, 422))
def get_variant(sku: SkuPath, hub: HubDep) -> dict:
    return hub.catalog.get_variant(sku)


@router.put("/channels/{code}", tags=["channels"], response_model=ChannelOut, responses=problems(*SIGNED_BODY, 404))
def put_channel(code: CodePath, body: ChannelIn, hub: HubDep) -> dict:
    """Create or replace a channel's allocation rule; recomputes what it may sell."""
    data = body.model_dump(mode="json")
    return hub.catalog.upsert_channel(code, **data)


@router.get("/channels", tags=["channels"], response_model=list[ChannelOut], responses=problems(*SIGNED))
def list_channels(hub: HubDep) -> list[dict]:
    return hub.catalog.list_channels()


@router.get("/channels/{code}", tags=["channels"], response_model=ChannelOut, responses=problems(*SIGNED, 404, 422))
def get_channel(code: CodePath, hub: HubDep) -> dict:
    return hub.catalog.get_channel(code)


@router.put("/channels/{code}/listings", status_code=204, tags=["channels"], response_model=None, responses=problems(*SIGNED_BODY, 404, 409))
def put_listing(code: CodePath, body: ListingIn, hub: HubDep) -> None:
    hub.catalog.get_channel(code)
    hub.catalog.get_variant(body.sku)
    hub.catalog.set_listing(code, body.sku, body.external_id, external_variant_id=body.external_variant_id,
                            external_inventory_item_id=body.external_inventory_item_id)


@router.put("/stock-policies", tags=["channels"], response_model=PolicySet, responses=problems(*SIGNED_BODY, 404))
def put_policy(body: PolicyIn, hub: HubDep) -> dict:
    """Set (or, with both values null, remove) safety stock / threshold for a scope."""
    return hub.catalog.set_policy(**body.model_dump())


@router.get("/stock-policies", tags=["channels"], response_model=list[PolicyOut], responses=problems(*SIGNED))
def list_policies(hub: HubDep) -> list[dict]:
    return hub.catalog.list_policies()
