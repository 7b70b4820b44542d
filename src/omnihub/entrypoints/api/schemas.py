"""Request and response bodies of the HTTP API (pydantic): the API's own contract."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from omnihub.domain.atp import FeedMode
from omnihub.domain.catalog import Capability, LocationKind, validate_gtin
from omnihub.domain.ledger import Reason, StockState

Code = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:\-]+$")]
Sku = Annotated[str, Field(min_length=1, max_length=128)]
Qty = Annotated[int, Field(gt=0, le=1_000_000_000, strict=True)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class LocationIn(Strict):
    code: Code
    name: Annotated[str, Field(min_length=1, max_length=200)]
    kind: LocationKind
    lat: Annotated[float, Field(ge=-90, le=90)] | None = None
    lng: Annotated[float, Field(ge=-180, le=180)] | None = None
    capabilities: list[Capability] = []
    groups: list[Annotated[str, Field(max_length=64)]] = []
    priority: int = 100
    cost_per_shipment_minor: Annotated[int, Field(ge=0)] = 0
    daily_order_capacity: Annotated[int, Field(ge=0)] | None = None
    time_zone: str = "UTC"
    online_selling: bool = True
    processing_hours: Annotated[float, Field(ge=0, le=24 * 30)] = 24.0
    cutoff_local: Annotated[str, Field(pattern=r"^([01]\d|2[0-3]):[0-5]\d$")] = "15:00"

    @field_validator("time_zone")
    @classmethod
    def _tz(cls, v: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(v)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {v!r}") from exc
        return v


class LocationPatch(Strict):
    name: str | None = None
    capabilities: list[Capability] | None = None
    priority: int | None = None
    online_selling: bool | None = None
    daily_order_capacity: Annotated[int, Field(ge=0)] | None = None


class VariantIn(Strict):
    sku: Sku
    title: str = ""
    gtin: Annotated[str, Field(min_length=8, max_length=14)] | None = None

    @field_validator("gtin")
    @classmethod
    def _gtin(cls, v: str | None) -> str | None:
        return validate_gtin(v) if v else v


class ProductIn(Strict):
    title: Annotated[str, Field(min_length=1, max_length=500)]
    vendor: str | None = None
    product_type: str | None = None
    image_url: str | None = None
    variants: Annotated[list[VariantIn], Field(min_length=1, max_length=2000)]


class MovementIn(Strict):
    sku: Sku
    location: Code
    quantity: Qty
    from_state: StockState
    to_state: StockState
    reason: Reason
    reference: Annotated[str, Field(max_length=200)] | None = None
    channel: Code | None = None
    actor: Annotated[str, Field(max_length=200)] | None = None
    expected_version: Annotated[int, Field(ge=0)] | None = None


class StockOp(Strict):
    sku: Sku
    location: Code
    quantity: Qty
    reference: Annotated[str, Field(max_length=200)] | None = None
    actor: Annotated[str, Field(max_length=200)] | None = None
    channel: Code | None = None


class ReceiveIn(StockOp):
    source: Literal["purchase_order", "return", "transfer"] = "purchase_order"
    to_state: Literal["on_hand", "damaged", "quality_control"] = "on_hand"


class TransferIn(Strict):
    sku: Sku
    from_location: Code
    to_location: Code
    quantity: Qty
    reference: str | None = None
    actor: str | None = None


class TransferReceiveIn(StockOp):
    damaged: Annotated[int, Field(ge=0)] = 0


class CountIn(Strict):
    sku: Sku
    location: Code
    counted: Annotated[int, Field(ge=0, strict=True)]
    damaged: Annotated[int, Field(ge=0, strict=True)] | None = None
    reference: str | None = None
    actor: str | None = None


class ChannelIn(Strict):
    name: Annotated[str, Field(min_length=1, max_length=200)]
    kind: Literal["shopify", "shopify_pos", "amazon", "amazon_vendor", "walmart", "tiktok", "manual", "other"]
    per_location: bool = False
    share_pct: Annotated[int, Field(ge=0, le=100)] = 100
    fixed_allocation: Annotated[int, Field(ge=0)] | None = None
    buffer: Annotated[int, Field(ge=0)] = 0
    feeds: dict[Code, FeedMode] | None = None


class PolicyIn(Strict):
    channel: Code | None = None
    sku: Sku | None = None
    location: Code | None = None
    safety_stock: Annotated[int, Field(ge=0)] | None = None
    threshold: Annotated[int, Field(ge=0)] | None = None


class ListingIn(Strict):
    sku: Sku
    external_id: Annotated[str, Field(min_length=1, max_length=200)]
    external_variant_id: str | None = None
    external_inventory_item_id: str | None = None


class BulkAtpIn(Strict):
    skus: Annotated[list[Sku], Field(min_length=1, max_length=1000)]
