"""Request and response bodies of the HTTP API (pydantic), and the types of its path and
query parameters: the API's own contract.

Every bound here comes from domain/limits.py (defined once for the API and the use
cases): integers are strict (a JSON `true` or `1.0` is not a quantity) and within what
their column holds, texts within their column's length and without NUL.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import Path, Query
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator
from pydantic.fields import FieldInfo

from omnihub.domain.atp import FeedMode
from omnihub.domain.catalog import Capability, LocationKind, validate_gtin
from omnihub.domain.ledger import Reason, StockState
from omnihub.domain.time_zones import known_time_zone
from omnihub.domain.limits import (
    CODE_LENGTH,
    INT32_MAX,
    MAX_CATALOG_ID,
    MAX_COST_MINOR,
    MAX_ID,
    MAX_PRIORITY,
    MAX_QUANTITY,
    MAX_STOCK_SETTING,
    NO_NUL_PATTERN,
    REFERENCE_LENGTH,
    SKU_LENGTH,
    TEXT_LENGTH,
)


def text(max_length: int = TEXT_LENGTH, min_length: int = 0) -> FieldInfo:
    """The bounds of a text: at most `max_length` characters, without NUL
    (`Annotated[str, text(200, 1)]`)."""
    return Field(min_length=min_length, max_length=max_length, pattern=NO_NUL_PATTERN)


def whole(low: int = 0, high: int = INT32_MAX) -> FieldInfo:
    """The bounds of a JSON integer (strictly: not a boolean, not 1.0) within [low, high]
    (`Annotated[int, whole(1, 10)]`)."""
    return Field(ge=low, le=high, strict=True)


Code = Annotated[str, Field(min_length=1, max_length=CODE_LENGTH, pattern=r"^[A-Za-z0-9_.:\-]+$")]
Sku = Annotated[str, text(SKU_LENGTH, 1)]
Reference = Annotated[str, text(REFERENCE_LENGTH)]
Qty = Annotated[int, whole(1, MAX_QUANTITY)]
StockSetting = Annotated[int, whole(0, MAX_STOCK_SETTING)]
Latitude = Annotated[float, Field(ge=-90, le=90, allow_inf_nan=False, strict=True)]
Longitude = Annotated[float, Field(ge=-180, le=180, allow_inf_nan=False, strict=True)]
#: a JSON boolean (strictly: not 0 or "yes")
Flag = Annotated[bool, Field(strict=True)]


def _text_only(v: object) -> object:
    if not isinstance(v, str | datetime):
        raise ValueError("a date-time must be an ISO 8601 text")
    return v


#: an ISO 8601 date-time in JSON (not a number of seconds)
Timestamp = Annotated[datetime, BeforeValidator(_text_only)]

# -- path and query parameters ---------------------------------------------------------------
#: a stored row's id (orders, products, runs, intents, ...)
IdPath = Annotated[int, Path(ge=0, le=MAX_ID)]
#: a page's cursor: the last id seen
AfterId = Annotated[int, Query(ge=0, le=MAX_ID)]
#: the same for the 32-bit ids of the catalog (products, customers) and oversell incidents
CatalogIdPath = Annotated[int, Path(ge=0, le=MAX_CATALOG_ID)]
CatalogAfterId = Annotated[int, Query(ge=0, le=MAX_CATALOG_ID)]
#: a SKU or a location or channel code named in the path
SkuPath = Annotated[str, Path(max_length=SKU_LENGTH, pattern=NO_NUL_PATTERN)]
CodePath = Annotated[str, Path(max_length=CODE_LENGTH, pattern=NO_NUL_PATTERN)]
#: the same, as an optional filter in the query
CodeQuery = Annotated[str | None, Query(max_length=CODE_LENGTH, pattern=NO_NUL_PATTERN)]
SkuQuery = Annotated[list[Annotated[str, Field(max_length=SKU_LENGTH, pattern=NO_NUL_PATTERN)]], Query(min_length=1, max_length=1000)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class LocationIn(Strict):
    code: Code
    name: Annotated[str, text(200, 1)]
    kind: LocationKind
    lat: Latitude | None = None
    lng: Longitude | None = None
    capabilities: list[Capability] = []
    groups: Annotated[list[Annotated[str, text(CODE_LENGTH)]], Field(max_length=100)] = []
    priority: Annotated[int, whole(-MAX_PRIORITY, MAX_PRIORITY)] = 100
    cost_per_shipment_minor: Annotated[int, whole(0, MAX_COST_MINOR)] = 0
    daily_order_capacity: StockSetting | None = None
    time_zone: Annotated[str, text(CODE_LENGTH)] = "UTC"
    online_selling: Flag = True
    processing_hours: Annotated[float, Field(ge=0, le=24 * 30, allow_inf_nan=False, strict=True)] = 24.0
    cutoff_local: Annotated[str, Field(pattern=r"^([01]\d|2[0-3]):[0-5]\d$")] = "15:00"

    @field_validator("time_zone")
    @classmethod
    def _tz(cls, v: str) -> str:
        return known_time_zone(v)


class LocationPatch(Strict):
    name: Annotated[str, text(200, 1)] | None = None
    capabilities: list[Capability] | None = None
    priority: Annotated[int, whole(-MAX_PRIORITY, MAX_PRIORITY)] | None = None
    online_selling: Flag | None = None
    daily_order_capacity: StockSetting | None = None


class VariantIn(Strict):
    sku: Sku
    title: Annotated[str, text()] = ""
    gtin: Annotated[str, Field(min_length=8, max_length=14)] | None = None

    @field_validator("gtin")
    @classmethod
    def _gtin(cls, v: str | None) -> str | None:
        return validate_gtin(v) if v else v


class ProductIn(Strict):
    title: Annotated[str, text(500, 1)]
    vendor: Annotated[str, text(200)] | None = None
    product_type: Annotated[str, text(200)] | None = None
    image_url: Annotated[str, text(1000)] | None = None
    variants: Annotated[list[VariantIn], Field(min_length=1, max_length=2000)]


class MovementIn(Strict):
    sku: Sku
    location: Code
    quantity: Qty
    from_state: StockState
    to_state: StockState
    reason: Reason
    reference: Reference | None = None
    channel: Code | None = None
    actor: Reference | None = None
    expected_version: Annotated[int, whole(0, MAX_ID)] | None = None


class StockOp(Strict):
    sku: Sku
    location: Code
    quantity: Qty
    reference: Reference | None = None
    actor: Reference | None = None
    channel: Code | None = None


class ReceiveIn(StockOp):
    source: Literal["purchase_order", "return", "transfer"] = "purchase_order"
    to_state: Literal["on_hand", "damaged", "quality_control"] = "on_hand"


class TransferIn(Strict):
    sku: Sku
    from_location: Code
    to_location: Code
    quantity: Qty
    reference: Reference | None = None
    actor: Reference | None = None


class TransferReceiveIn(StockOp):
    damaged: Annotated[int, whole(0, MAX_QUANTITY)] = 0


class CountIn(Strict):
    sku: Sku
    location: Code
    counted: Annotated[int, whole(0, MAX_QUANTITY)]
    damaged: Annotated[int, whole(0, MAX_QUANTITY)] | None = None
    reference: Reference | None = None
    actor: Reference | None = None


class ChannelIn(Strict):
    name: Annotated[str, text(200, 1)]
    kind: Literal["shopify", "shopify_pos", "amazon", "amazon_vendor", "walmart", "tiktok", "manual", "other"]
    per_location: Flag = False
    share_pct: Annotated[int, whole(0, 100)] = 100
    fixed_allocation: StockSetting | None = None
    buffer: StockSetting = 0
    feeds: dict[Code, FeedMode] | None = None


class PolicyIn(Strict):
    channel: Code | None = None
    sku: Sku | None = None
    location: Code | None = None
    safety_stock: StockSetting | None = None
    threshold: StockSetting | None = None


class ListingIn(Strict):
    sku: Sku
    external_id: Annotated[str, text(REFERENCE_LENGTH, 1)]
    external_variant_id: Reference | None = None
    external_inventory_item_id: Reference | None = None


class BulkAtpIn(Strict):
    skus: Annotated[list[Sku], Field(min_length=1, max_length=1000)]
