"""Configuration of one simulated Shopify shop and the app installed on it.

One sandbox serves one shop (like a development store) with one custom app: the access
token(s) the hub sends, and the client secret Shopify signs webhooks with. Every fault the
sandbox can inject is set here, so a run is reproducible from its config and seed.
"""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

API_VERSION = "2026-10"


class Plan(str, Enum):
    """Shopify plans, which set the GraphQL cost restore rate (points per second)."""

    standard = "standard"
    advanced = "advanced"
    plus = "plus"
    enterprise = "enterprise"

    @property
    def restore_rate(self) -> float:
        return {"standard": 100.0, "advanced": 200.0, "plus": 1000.0, "enterprise": 2000.0}[self.value]

    @property
    def display_name(self) -> str:
        return {
            "standard": "Shopify",
            "advanced": "Advanced",
            "plus": "Shopify Plus",
            "enterprise": "Commerce Components",
        }[self.value]


class WebhookFaults(BaseModel):
    """How delivery misbehaves, as Shopify documents it can: lost, duplicated, late, out of order.

    Rates are probabilities per delivery, drawn from an RNG seeded with the sandbox seed.
    Delays are in simulated seconds, multiplied by ``ShopifySandboxConfig.time_scale``.
    """

    model_config = ConfigDict(extra="forbid")

    loss_rate: float = Field(0.0, ge=0.0, le=1.0)
    duplicate_rate: float = Field(0.0, ge=0.0, le=1.0)
    delay_rate: float = Field(0.0, ge=0.0, le=1.0)
    max_delay_s: float = Field(0.0, ge=0.0, le=86_400.0)
    reorder_rate: float = Field(0.0, ge=0.0, le=1.0)
    reorder_window_s: float = Field(2.0, ge=0.0, le=3_600.0)


class ShopifySandboxConfig(BaseModel):
    """Everything one Shopify sandbox needs; see ``create_app``."""

    model_config = ConfigDict(extra="forbid")

    state_path: Path = Field(Path("var/sandbox/shopify.sqlite3"), description="SQLite file holding the shop's state")
    plan: Plan = Plan.standard
    seed: int = 7
    shop_domain: str = "omnihub-dev.myshopify.com"
    shop_name: str = "omnihub dev store"
    access_tokens: list[str] = Field(default_factory=lambda: ["shpat_sandbox_omnihub"], min_length=1)
    client_secret: str = Field("shpss_sandbox_omnihub_secret", min_length=8)
    compliance_webhook_url: str | None = Field(
        None, description="Where customers/data_request, customers/redact and shop/redact go (app config in Shopify)"
    )
    bucket_size: float | None = Field(None, gt=0, description="Leaky bucket size; default 20 x restore rate")
    max_query_cost: int = Field(1000, gt=0)
    max_input_array: int = Field(250, gt=0)
    max_page_size: int = Field(250, gt=0)
    max_concurrent_bulk_operations: int = Field(5, gt=0)
    bulk_operation_min_duration_s: float = Field(0.0, ge=0.0, description="Simulated minimum runtime of a bulk op")
    bulk_operation_error: Literal["ACCESS_DENIED", "INTERNAL_SERVER_ERROR", "TIMEOUT"] | None = Field(
        None, description="Every bulk operation fails with this BulkOperationErrorCode (after writing half its lines,"
                          " served as partialDataUrl); also settable at run time: PUT /_sandbox/bulk/faults")
    webhook_faults: WebhookFaults = Field(default_factory=WebhookFaults)
    webhook_timeout_s: float = Field(5.0, gt=0.0)
    webhook_retries: int = Field(8, ge=0, le=20)
    webhook_backoff_base_s: float = Field(60.0, ge=0.0, description="First retry delay; doubles each retry (~4 h over 8)")
    webhook_senders: int = Field(4, ge=1, le=64, description="Concurrent delivery workers")
    time_scale: float = Field(1.0, gt=0.0, description="Multiplies every simulated delay (0.001 makes an hour 3.6 s)")
    catalog_products: int = Field(25, ge=1, le=1_000_000)
    catalog_variants_per_product: int = Field(3, ge=1, le=100)
    catalog_stores: int = Field(3, ge=0, le=500)
    catalog_warehouses: int = Field(2, ge=0, le=500)
    initial_stock_max: int = Field(40, ge=0)

    @field_validator("shop_domain")
    @classmethod
    def _myshopify_domain(cls, value: str) -> str:
        if not value.endswith(".myshopify.com") or len(value) <= len(".myshopify.com"):
            raise ValueError("shop_domain must be <name>.myshopify.com")
        return value

    @model_validator(mode="after")
    def _has_locations(self) -> "ShopifySandboxConfig":
        if self.catalog_stores + self.catalog_warehouses == 0:
            raise ValueError("the shop needs at least one location")
        return self

    @property
    def restore_rate(self) -> float:
        return self.plan.restore_rate

    @property
    def maximum_available(self) -> float:
        return self.bucket_size if self.bucket_size is not None else 20.0 * self.restore_rate
