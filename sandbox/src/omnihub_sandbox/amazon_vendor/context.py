"""The parts of one running Vendor sandbox, shared by its routers.

Kept on ``app.state.sandbox``; a router reaches it through :func:`vendor_of`. Nothing
here is global, so two vendor accounts can run in one process.
"""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import Request

from ..spapi.clock import SandboxClock
from ..spapi.restricted_data import RestrictedOperation
from ..spapi.usage_plans import RateLimiter
from .config import AmazonVendorSandboxConfig
from .store import VendorStore


_DF_ORDERS = "/vendor/directFulfillment/orders/2021-12-28/purchaseOrders"
_DF_SHIPPING = "/vendor/directFulfillment/shipping/2021-12-28"
#: The direct-fulfilment operations that return a shopper's address: a Restricted Data Token only.
RESTRICTED_OPERATIONS = (
    RestrictedOperation("GET", _DF_ORDERS),
    RestrictedOperation("GET", _DF_ORDERS + "/{purchaseOrderNumber}"),
    RestrictedOperation("GET", _DF_SHIPPING + "/shippingLabels"),
    RestrictedOperation("GET", _DF_SHIPPING + "/shippingLabels/{purchaseOrderNumber}"),
    RestrictedOperation("POST", _DF_SHIPPING + "/shippingLabels/{purchaseOrderNumber}"),
    RestrictedOperation("GET", _DF_SHIPPING + "/packingSlips"),
    RestrictedOperation("GET", _DF_SHIPPING + "/packingSlips/{purchaseOrderNumber}"),
)


@dataclass
class VendorContext:
    config: AmazonVendorSandboxConfig
    store: VendorStore
    clock: SandboxClock
    limiter: RateLimiter

    def now(self) -> float:
        return self.clock.now()

    @property
    def lwa(self) -> AmazonVendorSandboxConfig:
        return self.config

    @property
    def selling_partner_id(self) -> str:
        return self.config.vendor_code

    @property
    def restricted_operations(self) -> tuple[RestrictedOperation, ...]:
        return RESTRICTED_OPERATIONS

    def catch_up(self) -> None:
        from .lifecycle import catch_up  # late import: lifecycle imports the feature modules

        catch_up(self)


def vendor_of(request: Request) -> VendorContext:
    vendor: VendorContext = request.app.state.sandbox
    return vendor
