"""The parts of one running Amazon sandbox, shared by its routers.

Kept on ``app.state.sandbox``; a router reaches it through :func:`sandbox_of`. Nothing
here is global, so two sandboxes (two sellers) can run in one process.
"""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import Request

from ..spapi.clock import SandboxClock
from ..spapi.restricted_data import RestrictedOperation
from ..spapi.usage_plans import RateLimiter
from .config import AmazonSandboxConfig
from .notifications import Notifier
from .store import Store


#: The Orders APIs' restricted operations: v0's getOrders, getOrder and getOrderItems and
#: 2026-01-01's searchOrders and getOrder withhold personal data from an LWA token;
#: getOrderAddress and getOrderBuyerInfo need a Restricted Data Token.
_PII = frozenset({"buyerInfo", "shippingAddress"})
RESTRICTED_OPERATIONS = (
    RestrictedOperation("GET", "/orders/v0/orders", _PII),
    RestrictedOperation("GET", "/orders/v0/orders/{orderId}", _PII),
    RestrictedOperation("GET", "/orders/v0/orders/{orderId}/orderItems", frozenset({"buyerInfo"})),
    RestrictedOperation("GET", "/orders/v0/orders/{orderId}/address"),
    RestrictedOperation("GET", "/orders/v0/orders/{orderId}/buyerInfo"),
    RestrictedOperation("GET", "/orders/2026-01-01/orders", _PII),
    RestrictedOperation("GET", "/orders/2026-01-01/orders/{orderId}", _PII),
)


@dataclass
class SandboxContext:
    config: AmazonSandboxConfig
    store: Store
    clock: SandboxClock
    limiter: RateLimiter
    notifier: Notifier

    def now(self) -> float:
        return self.clock.now()

    @property
    def lwa(self) -> AmazonSandboxConfig:
        return self.config

    @property
    def selling_partner_id(self) -> str:
        return self.config.seller_id

    @property
    def restricted_operations(self) -> tuple[RestrictedOperation, ...]:
        return RESTRICTED_OPERATIONS

    def catch_up(self) -> None:
        from .lifecycle import catch_up  # late import: lifecycle imports the feature modules

        catch_up(self)


def sandbox_of(request: Request) -> SandboxContext:
    return request.app.state.sandbox
