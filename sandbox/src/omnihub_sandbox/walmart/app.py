"""``create_app``: one simulated Walmart Marketplace seller as an ASGI app.

Routes: ``/v3/token``, the Marketplace APIs the hub uses (inventory, feeds, orders,
notifications) and the control plane (``/_sandbox/...``). State lives in the SQLite file
named by the config, so a restarted sandbox carries on where it was; while served, a
background tick lets time pass and delivers notifications.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from contextlib import asynccontextmanager
from typing import AsyncIterator

from fastapi import FastAPI

from . import control, feeds, inventory, order_actions, orders, token, webhooks
from .clock import SandboxClock
from .config import WalmartSandboxConfig
from .context import SandboxContext
from .deliveries import Deliverer
from .errors import install_error_handlers
from .lifecycle import catch_up
from .rate_limits import RateLimiter
from .response_headers import WalmartResponseHeaders
from .store import Store

log = logging.getLogger(__name__)


def build_context(config: WalmartSandboxConfig) -> SandboxContext:
    store = Store(config.state_path)
    clock = SandboxClock(config.clock, float(store.get_meta("clock_offset", 0.0)))
    sandbox = SandboxContext(config=config, store=store, clock=clock,
                             limiter=RateLimiter(clock.now, config.rate_limits),
                             deliverer=Deliverer(config, store, clock))
    if not store.get_meta("seeded", False):
        control.seed_catalog(sandbox)
    return sandbox


async def _background(sandbox: SandboxContext) -> None:
    while True:
        await asyncio.sleep(sandbox.config.tick_seconds)
        try:
            await asyncio.to_thread(catch_up, sandbox)
            await asyncio.to_thread(sandbox.deliverer.deliver_pending)
        except Exception:  # keep ticking; one bad round must not stop the world
            log.exception("walmart sandbox background tick failed")


def create_app(config: WalmartSandboxConfig) -> FastAPI:
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
            sandbox.deliverer.close()
            sandbox.store.close()

    app = FastAPI(title="omnihub Walmart Marketplace sandbox",
                  description="A simulator of Walmart Marketplace's v3 APIs (token, inventory, feeds, orders, "
                              "notifications).", version="v3", lifespan=lifespan)
    app.state.sandbox = sandbox
    install_error_handlers(app)
    app.add_middleware(WalmartResponseHeaders)
    for module in (token, inventory, feeds, orders, order_actions, webhooks, control):
        app.include_router(module.router)
    return app
