"""What Walmart's gateway does before any Marketplace API sees a call, in its order.

1. The three required headers: ``WM_SEC.ACCESS_TOKEN``, ``WM_QOS.CORRELATION_ID`` and
   ``WM_SVC.NAME``; a missing or blank one is 400 INVALID_REQUEST_HEADER naming it.
2. The access token: unknown or expired is 401 UNAUTHORIZED.
3. The payload size: a body beyond the API's limit is 413 (feeds have their own limit).
4. The API's rate limit: an empty bucket is 429 REQUEST_THRESHOLD_VIOLATED with
   ``Retry-After``; the bucket's figures go on the answer either way.

Then the world is brought up to the current time, so delayed transitions (releases,
feeds, deliveries) are visible to the call.
"""

from __future__ import annotations

from typing import Any, Callable

from fastapi import Depends, Request

from .context import SandboxContext, sandbox_of
from .errors import too_large, throttled
from .response_headers import RATE_STATE_KEY
from .token import authenticate, require_headers

REQUIRED_HEADERS = ("WM_SEC.ACCESS_TOKEN", "WM_QOS.CORRELATION_ID", "WM_SVC.NAME")


async def check_size(request: Request, limit: int, what: str) -> None:
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise too_large(limit, what)
    if request.method in ("POST", "PUT", "PATCH") and len(await request.body()) > limit:
        raise too_large(limit, what)


def api(name: str, *, feed: bool = False) -> Any:
    """Dependency of one metered Marketplace API call; returns the sandbox."""

    async def gateway(request: Request) -> SandboxContext:
        sandbox = sandbox_of(request)
        require_headers(request, REQUIRED_HEADERS)
        client = authenticate(sandbox, request.headers["WM_SEC.ACCESS_TOKEN"].strip())
        cfg = sandbox.config
        await check_size(request, cfg.feed_max_bytes if feed else cfg.request_max_bytes, "feed file" if feed else "request")
        state = sandbox.limiter.take(client, name)
        setattr(request.state, RATE_STATE_KEY, (state.tokens_left, int(state.next_replenishment * 1000)))
        if not state.allowed:
            sandbox.store.bump("throttled_calls")
            raise throttled(max(1, int(state.retry_after + 0.999)))
        from .lifecycle import catch_up  # late import: lifecycle imports the feature modules

        catch_up(sandbox)
        return sandbox

    gateway.__name__ = f"gateway_{name}"
    dependency: Callable[..., Any] = Depends(gateway)
    return dependency
