"""Configuration of one simulated Amazon vendor account (Vendor Central, 1P).

Everything that makes the sandbox behave differently from one run to another is here:
the app's credentials, the vendor code and warehouses, Amazon's fulfilment centres, the
seed of every random choice, how long each kind of transaction stays Processing, how
late orders are released to the vendor, the 24-hour acknowledgement window, the clock.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Callable

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

#: How long each kind of submission stays Processing, as (shortest, longest) seconds; each
#: transaction draws its own from the seed. Amazon publishes "up to 15 minutes" for an
#: acknowledgement to show and "up to 10 minutes" for shipment updates; the rest are
#: the sandbox's estimates. ``time_scale`` multiplies them all.
DEFAULT_TRANSACTION_SECONDS: dict[str, tuple[float, float]] = {
    "inventory": (10.0, 60.0),
    "df_acknowledgement": (60.0, 900.0),
    "df_shipment_confirmation": (60.0, 600.0),
    "df_shipment_status": (60.0, 600.0),
    "df_shipping_label": (5.0, 60.0),
    "order_scenarios": (5.0, 30.0),
    "retail_acknowledgement": (60.0, 900.0),
    "retail_shipment_confirmation": (60.0, 900.0),
}


class AmazonVendorSandboxConfig(BaseModel):
    """One vendor account (a vendor code with its warehouses) on one marketplace."""

    model_config = ConfigDict(arbitrary_types_allowed=True, frozen=True)

    state_path: Path = Field(description="SQLite file that holds the sandbox's state.")
    vendor_code: str = Field("OMNIV", description="The vendor's party id (sellingParty.partyId) in every document.")
    warehouses: list[str] = Field(default_factory=lambda: ["EAST1", "WEST1"], min_length=1,
                                  description="The vendor's direct-fulfilment warehouses (shipFromParty.partyId).")
    fulfillment_centers: list[str] = Field(default_factory=lambda: ["ABE8", "ONT8"], min_length=1,
                                           description="Amazon's warehouses that retail purchase orders ship to.")

    # Login with Amazon credentials of the vendor's app (not the Seller sandbox's).
    lwa_client_id: str = "amzn1.application-oa2-client.vendor-sandbox"
    lwa_client_secret: str = "vendor-sandbox-client-secret"
    lwa_refresh_token: str = "Atzr|vendor-sandbox-refresh-token"
    access_token_ttl_seconds: int = Field(3600, gt=0)

    seed: int = 42
    catalog_size: int = Field(30, ge=1, le=100_000)
    initial_quantity_max: int = Field(20, ge=0, description=(
        "Each warehouse starts with 0 to this many units of each item declared, as if the vendor's last "
        "inventory update had said so; 0 starts with nothing sellable."))

    transaction_seconds: dict[str, tuple[float, float]] = Field(default_factory=dict, description=(
        "Processing time per kind of transaction, (shortest, longest) seconds; kinds left out keep "
        "DEFAULT_TRANSACTION_SECONDS."))
    time_scale: float = Field(1.0, gt=0, description="Multiplies every delay (transactions, release, receiving).")
    release_seconds: tuple[float, float] = Field((30.0, 120.0), description=(
        "A shopper's order reaches the vendor (getOrders) this long after its orderDate."))
    acknowledgement_window_seconds: float = Field(86_400.0, gt=0, description=(
        "A purchase order must be acknowledged within this long of its orderDate; an order left "
        "unacknowledged is cancelled when it ends and a later acknowledgement fails."))
    retail_receive_seconds: float = Field(2 * 86_400.0, ge=0, description=(
        "Time from an ASN's success to the fulfilment centre receiving the units."))

    rate_multiplier: float = Field(
        1.0, gt=0, description="Scales every usage plan; 1.0 is Amazon's published plan. Tests only."
    )
    clock: Callable[[], float] = Field(default=time.time, exclude=True)
    tick_seconds: float = Field(1.0, gt=0, description="Background catch-up period while served.")

    @field_validator("vendor_code", "lwa_client_id", "lwa_client_secret", "lwa_refresh_token")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be blank")
        return value

    @field_validator("warehouses", "fulfillment_centers")
    @classmethod
    def _party_ids(cls, values: list[str]) -> list[str]:
        if len(set(values)) != len(values) or not all(v and v.isalnum() for v in values):
            raise ValueError("party ids are distinct and alphanumeric")
        return values

    @model_validator(mode="after")
    def _known_kinds(self) -> "AmazonVendorSandboxConfig":
        unknown = set(self.transaction_seconds) - set(DEFAULT_TRANSACTION_SECONDS)
        if unknown:
            raise ValueError(f"unknown transaction kinds {sorted(unknown)}; known: {sorted(DEFAULT_TRANSACTION_SECONDS)}")
        for low, high in [*self.transaction_seconds.values(), self.release_seconds]:
            if not 0 <= low <= high:
                raise ValueError("a delay range is (shortest, longest) with 0 <= shortest <= longest")
        return self

    def processing_range(self, kind: str) -> tuple[float, float]:
        low, high = self.transaction_seconds.get(kind, DEFAULT_TRANSACTION_SECONDS[kind])
        return low * self.time_scale, high * self.time_scale
