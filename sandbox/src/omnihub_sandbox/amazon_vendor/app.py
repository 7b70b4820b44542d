"""``create_app``: one simulated Amazon vendor account as an ASGI app.

Routes: Login with Amazon (``/auth/o2/token``), the Vendor operations (Direct
Fulfillment Orders, Inventory, Shipping, Transactions and Sandbox Data; Vendor Orders,
Shipments and Transaction Status) and the sandbox's control levers (``/_sandbox/...``).
State lives in the SQLite file named by the config, so a restarted sandbox carries on.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from contextlib import asynccontextmanager
from typing import AsyncIterator

from fastapi import FastAPI

from ..spapi import lwa, restricted_data, time_controls
from ..spapi.account import SpApiAccount
from ..spapi.clock import SandboxClock
from ..spapi.errors import install_error_handlers
from ..spapi.response_headers import SpApiResponseHeaders
from ..spapi.usage_plans import RateLimiter
from . import (control, df_inventory, df_labels, df_orders, df_packing_slips, df_sandbox_data, df_shipments,
               retail_orders, retail_shipments, transactions)
from .config import AmazonVendorSandboxConfig
from .context import VendorContext
from .lifecycle import catch_up
from .store import VendorStore
from .usage_plans import USAGE_PLANS

log = logging.getLogger(__name__)

ROUTERS = (lwa.router, restricted_data.router, df_orders.router, df_inventory.router, df_shipments.router, df_labels.router,
           df_packing_slips.router, transactions.router, df_sandbox_data.router, retail_orders.router,
           retail_shipments.router, control.router, time_controls.router)


def build_context(config: AmazonVendorSandboxConfig) -> VendorContext:
    store = VendorStore(config.state_path)
    clock = SandboxClock(config.clock, float(store.get_meta("clock_offset", 0.0)))
    vendor = VendorContext(config=config, store=store, clock=clock,
                           limiter=RateLimiter(clock.now, USAGE_PLANS, config.rate_multiplier))
    if not store.get_meta("seeded", False):
        control.seed_account(vendor)
    return vendor


async def _background(vendor: VendorContext) -> None:
    """Let time pass while served: settle transactions, cancel late orders, receive ASNs."""
    while True:
        await asyncio.sleep(vendor.config.tick_seconds)
        try:
            await asyncio.to_thread(catch_up, vendor)
        except Exception:  # keep ticking; one bad round must not stop the world
            log.exception("amazon vendor sandbox background tick failed")


def create_app(config: AmazonVendorSandboxConfig) -> FastAPI:
    vendor = build_context(config)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        task = asyncio.create_task(_background(vendor))
        try:
            yield
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            vendor.store.close()

    app = FastAPI(
        title="omnihub Amazon Vendor Central sandbox",
        description="A simulator of the Selling Partner API for vendors: direct fulfilment (orders, inventory, "
                    "shipping, transactions, sandbox data) and retail procurement (purchase orders, shipments).",
        version="2021-12-28",
        lifespan=lifespan,
    )
    account: SpApiAccount = vendor  # what the shared LWA, guard and time controls use of it
    app.state.sandbox = account
    install_error_handlers(app)
    app.add_middleware(SpApiResponseHeaders)
    for router in ROUTERS:
        app.include_router(router)
    return app
