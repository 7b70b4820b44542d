"""``create_app``: one simulated Amazon seller account as an ASGI app.

Routes: Login with Amazon (``/auth/o2/token``), the SP-API operations the hub uses
(Orders v0 and 2026-01-01, Listings Items 2021-08-01, Feeds 2021-06-30, Reports 2021-06-30,
Notifications v1, Tokens 2021-03-01), the presigned document URLs (``/s3/feeds/...``,
report documents too) and the sandbox's control levers (``/_sandbox/...``). State lives in
the SQLite file named by the config, so a restarted sandbox carries on where it was.
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
from . import control, feeds, listings, notifications_api, orders, orders_2026, reports
from .config import AmazonSandboxConfig
from .context import SandboxContext
from .lifecycle import catch_up
from .notifications import Notifier
from .rate_limits import USAGE_PLANS
from .store import Store

log = logging.getLogger(__name__)


def build_context(config: AmazonSandboxConfig) -> SandboxContext:
    store = Store(config.state_path)
    clock = SandboxClock(config.clock, float(store.get_meta("clock_offset", 0.0)))
    sandbox = SandboxContext(
        config=config, store=store, clock=clock,
        limiter=RateLimiter(clock.now, USAGE_PLANS, config.rate_multiplier),
        notifier=Notifier(config, store, clock),
    )
    if not store.get_meta("seeded", False):
        control.seed_catalog(sandbox)
    return sandbox


async def _background(sandbox: SandboxContext) -> None:
    """Let time pass while served: clear payments, finish feeds, deliver notifications."""
    while True:
        await asyncio.sleep(sandbox.config.tick_seconds)
        try:
            await asyncio.to_thread(catch_up, sandbox)
            await asyncio.to_thread(sandbox.notifier.deliver_pending)
        except Exception:  # keep ticking; one bad round must not stop the world
            log.exception("amazon sandbox background tick failed")


def create_app(config: AmazonSandboxConfig) -> FastAPI:
    sandbox = build_context(config)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        task = asyncio.create_task(_background(sandbox))
        try:
            yield
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            sandbox.notifier.close()
            sandbox.store.close()

    app = FastAPI(
        title="omnihub Amazon Seller Central sandbox",
        description="A simulator of the Selling Partner API (Orders v0, Listings Items 2021-08-01, Feeds 2021-06-30, "
                    "Reports 2021-06-30).",
        version="2021-08-01",
        lifespan=lifespan,
    )
    account: SpApiAccount = sandbox  # what the shared LWA, guard and time controls use of it
    app.state.sandbox = account
    install_error_handlers(app)
    app.add_middleware(SpApiResponseHeaders)
    for router in (lwa.router, restricted_data.router, orders.router, orders_2026.router, listings.router, feeds.router, reports.router,
                   notifications_api.router, control.router, time_controls.router):
        app.include_router(router)
    return app
