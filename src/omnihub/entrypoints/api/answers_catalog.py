"""What the catalog routes answer: locations, products and variants, channels and their
allocation, stock policies (services/catalog.py's rows)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import Field

from omnihub.adapters.db import tables as t
from omnihub.entrypoints.api.answers import Answer, Instant, row_answer


class LocationOut(Answer):
    id: int
    code: str
    name: str
    kind: str
    lat: float | None
    lng: float | None
    capabilities: list[str]
    groups: list[str]
    priority: int
    cost_per_shipment_minor: int
    daily_order_capacity: int | None
    time_zone: str
    online_selling: bool
    processing_hours: float
    cutoff_local: str
    created_at: Instant


class VariantOfProduct(Answer):
    sku: str
    title: str
    gtin: str | None


class ProductOut(Answer):
    id: int
    title: str
    vendor: str | None
    product_type: str | None
    image_url: str | None
    created_at: Instant
    variants: list[VariantOfProduct]


class VariantOut(Answer):
    id: int
    product_id: int
    sku: str
    title: str
    gtin: str | None
    created_at: Instant


class ChannelOut(Answer):
    code: str
    name: str
    kind: str
    per_location: bool
    share_pct: int
    fixed_allocation: int | None
    buffer: int
    feeds: dict[str, str] = Field(description="location code → feed mode")
    created_at: Instant


class PolicySet(Answer):
    """The scope and values just set (both values None: the policy was removed)."""

    channel: str | None
    sku: str | None
    location: str | None
    safety_stock: int | None
    threshold: int | None

if TYPE_CHECKING:  # mypy sees the base; the model is made from the table
    PolicyOut = Answer
else:
    PolicyOut = row_answer("PolicyOut", t.stock_policies, doc="A stock policy: safety stock and threshold for a scope.")
