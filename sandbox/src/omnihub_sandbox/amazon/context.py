"""The parts of one running Amazon sandbox, shared by its routers.

Kept on ``app.state.sandbox``; a router reaches it through :func:`sandbox_of`. Nothing
here is global, so two sandboxes (two sellers) can run in one process.
"""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import Request

from .clock import SandboxClock
from .config import AmazonSandboxConfig
from .notifications import Notifier
from .rate_limits import RateLimiter
from .store import Store


@dataclass
class SandboxContext:
    config: AmazonSandboxConfig
    store: Store
    clock: SandboxClock
    limiter: RateLimiter
    notifier: Notifier

    def now(self) -> float:
        return self.clock.now()


def sandbox_of(request: Request) -> SandboxContext:
    return request.app.state.sandbox
