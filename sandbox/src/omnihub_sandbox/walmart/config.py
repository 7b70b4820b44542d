"""Configuration of one simulated Walmart Marketplace seller.

Everything that makes one run differ from another is here: the app's client id and
secret, the seller's ship nodes, the seed of the catalog and of every random choice,
the durations of Walmart's asynchronous processes, the per-API rate limits (Walmart
publishes no single table of them, so each is a setting), the payload size limits, and
the secret deliveries are signed with.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Callable

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator


class ShipNode(BaseModel):
    """A seller fulfilment centre as Walmart knows it (the hub maps each to a location)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")
    name: str = Field(min_length=1, max_length=200)
    type: str = "SellerFulfilled"


class ApiLimit(BaseModel):
    """``calls`` requests per ``per_seconds``, refilled gradually (one token every
    per_seconds / calls), as Walmart describes its allotments."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    calls: int = Field(gt=0, le=1_000_000)
    per_seconds: float = Field(gt=0, le=86_400)


#: The APIs the sandbox meters, each with its own bucket; the sandbox's defaults, not
#: Walmart's (it publishes none as one table): set them per run with ``rate_limits``.
DEFAULT_RATE_LIMITS: dict[str, ApiLimit] = {
    "token": ApiLimit(calls=60, per_seconds=60),
    "inventory_get": ApiLimit(calls=300, per_seconds=60),
    "inventory_update": ApiLimit(calls=300, per_seconds=60),
    "inventories_get": ApiLimit(calls=300, per_seconds=60),
    "inventories_update": ApiLimit(calls=300, per_seconds=60),
    "inventories_list": ApiLimit(calls=60, per_seconds=60),
    "feeds_submit": ApiLimit(calls=30, per_seconds=3600),
    "feeds_status": ApiLimit(calls=300, per_seconds=60),
    "feeds_list": ApiLimit(calls=60, per_seconds=60),
    "orders_list": ApiLimit(calls=120, per_seconds=60),
    "orders_released": ApiLimit(calls=120, per_seconds=60),
    "order_get": ApiLimit(calls=300, per_seconds=60),
    "order_acknowledge": ApiLimit(calls=300, per_seconds=60),
    "order_ship": ApiLimit(calls=300, per_seconds=60),
    "order_cancel": ApiLimit(calls=300, per_seconds=60),
    "order_refund": ApiLimit(calls=300, per_seconds=60),
    "webhooks": ApiLimit(calls=60, per_seconds=60),
}

DEFAULT_SHIP_NODES = (
    ShipNode(id="10001", name="Sandbox East Fulfillment Center"),
    ShipNode(id="10002", name="Sandbox West Fulfillment Center"),
)


class WalmartSandboxConfig(BaseModel):
    """One seller account on Walmart Marketplace (US), as the sandbox simulates it."""

    model_config = ConfigDict(arbitrary_types_allowed=True, frozen=True)

    state_path: Path = Field(description="SQLite file that holds the sandbox's state.")
    partner_id: str = "10000000354"
    client_id: str = "sandbox-walmart-client-id"
    client_secret: str = "sandbox-walmart-client-secret"
    access_token_ttl_seconds: int = Field(900, gt=0, description="15 minutes, as Walmart's tokens live.")
    ship_nodes: tuple[ShipNode, ...] = DEFAULT_SHIP_NODES

    seed: int = 42
    catalog_size: int = Field(40, ge=0, le=100_000)
    initial_quantity_max: int = Field(20, ge=0)

    # Walmart's asynchronous processes.
    release_delay_seconds: float = Field(
        0.0, ge=0, description="Time from a customer's checkout to the order's release to the seller (PO_CREATED).")
    feed_received_seconds: float = Field(2.0, ge=0, description="Time a feed stays RECEIVED.")
    feed_processing_seconds: float = Field(8.0, ge=0, description="Time a feed stays INPROGRESS before PROCESSED.")
    delivery_after_ship_seconds: float = Field(
        3 * 86400.0, ge=0, description="Time from a line's shipment to its delivery (Delivered).")
    ship_window_seconds: float = Field(2 * 86400.0, gt=0, description="Order date to estimated ship date.")
    acknowledge_window_seconds: float = Field(
        4 * 3600.0, gt=0, description="Release to acknowledgement that the sandbox counts as on time "
                                      "(/_sandbox/stats: acknowledged_on_time, acknowledged_late).")
    autocancel_after_seconds: float = Field(
        4 * 86400.0, ge=0, description="Grace after the estimated ship date before Walmart cancels an unshipped "
                                       "line itself (PO_LINE_AUTOCANCELLED).")

    rate_limits: dict[str, ApiLimit] = Field(default_factory=lambda: dict(DEFAULT_RATE_LIMITS))
    feed_max_bytes: int = Field(5 * 1024 * 1024, gt=0, description="Largest feed file accepted (413 beyond).")
    request_max_bytes: int = Field(1024 * 1024, gt=0, description="Largest body of any other call (413 beyond).")
    feed_max_items: int = Field(10_000, gt=0, description="Items one inventory feed may carry (413 beyond).")

    # Webhook deliveries.
    webhook_signing_secret: str = Field(
        "sandbox-walmart-webhook-secret",
        description="Key of WM_SEC.SIGNATURE on every delivery: base64 HMAC-SHA256 over "
                    "METHOD\\nPATH_AND_QUERY\\nWM_SEC.TIMESTAMP\\nhex(sha256(body)).")
    webhook_timeout_seconds: float = Field(5.0, gt=0)
    webhook_max_attempts: int = Field(5, ge=1, le=50)
    webhook_retry_seconds: float = Field(60.0, ge=0, description="First retry after a failed delivery; doubles.")
    tick_seconds: float = Field(1.0, gt=0, description="How often a served sandbox lets time pass.")
    clock: Callable[[], float] = Field(default=time.time, exclude=True)

    @field_validator("partner_id", "client_id", "client_secret", "webhook_signing_secret")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be blank")
        return value

    @field_validator("rate_limits")
    @classmethod
    def _known_apis(cls, limits: dict[str, ApiLimit]) -> dict[str, ApiLimit]:
        unknown = set(limits) - set(DEFAULT_RATE_LIMITS)
        if unknown:
            raise ValueError(f"unknown API(s) {sorted(unknown)}; known: {sorted(DEFAULT_RATE_LIMITS)}")
        return {**DEFAULT_RATE_LIMITS, **limits}

    @model_validator(mode="after")
    def _distinct_nodes(self) -> "WalmartSandboxConfig":
        if not self.ship_nodes:
            raise ValueError("a seller has at least one ship node")
        ids = [node.id for node in self.ship_nodes]
        if len(set(ids)) != len(ids):
            raise ValueError("ship node ids must be distinct")
        return self

    @property
    def default_ship_node(self) -> str:
        """The node an update without ``shipNode`` goes to (the seller's first node)."""
        return self.ship_nodes[0].id
