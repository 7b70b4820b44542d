"""The parts of one running Walmart sandbox, shared by its routers.

Kept on ``app.state.sandbox`` and reached through :func:`sandbox_of`; nothing is global,
so two sellers can run in one process.
"""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import Request

from .clock import SandboxClock
from .config import WalmartSandboxConfig
from .deliveries import Deliverer
from .rate_limits import RateLimiter
from .store import Store


@dataclass
class SandboxContext:
    config: WalmartSandboxConfig
    store: Store
    clock: SandboxClock
    limiter: RateLimiter
    deliverer: Deliverer

    def now(self) -> float:
        return self.clock.now()


def sandbox_of(request: Request) -> SandboxContext:
    sandbox: SandboxContext = request.app.state.sandbox
    return sandbox
