"""A Shopify outage, switched on from the control plane: for a while the Admin API answers
503 Service Unavailable, or holds the request past a client's patience and then answers
504 Gateway Timeout, as Shopify's edge does when the platform is degraded (its status page
calls these "API errors and timeouts"). Webhooks and the control plane are not touched:
the shop still sells, only the app's calls fail.
"""

from __future__ import annotations

import asyncio
import random
import time

from fastapi.responses import JSONResponse


class Outage:
    def __init__(self) -> None:
        self.until = 0.0
        self.timeout_share = 0.5
        self.hold_s = 12.0  # longer than a usual client timeout (the hub's is 10 s)
        self._rng = random.Random(0)

    def start(self, seconds: float, *, timeout_share: float, hold_s: float, seed: int | None) -> dict:
        self.until = time.monotonic() + seconds
        self.timeout_share = timeout_share
        self.hold_s = hold_s
        if seed is not None:
            self._rng.seed(seed)
        return self.state()

    def state(self) -> dict:
        left = max(0.0, self.until - time.monotonic())
        return {"active": left > 0, "seconds_left": round(left, 3), "timeout_share": self.timeout_share,
                "hold_s": self.hold_s}

    async def answer(self) -> JSONResponse | None:
        """None outside an outage; during one, the error the call gets."""
        if time.monotonic() >= self.until:
            return None
        if self._rng.random() < self.timeout_share:
            await asyncio.sleep(self.hold_s)
            return JSONResponse({"errors": "Gateway Timeout"}, status_code=504)
        return JSONResponse({"errors": "Service Unavailable"}, status_code=503, headers={"Retry-After": "1"})
