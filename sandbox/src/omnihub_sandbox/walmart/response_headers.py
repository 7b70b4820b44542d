"""Headers Walmart's gateway puts on answers: the caller's ``WM_QOS.CORRELATION_ID`` echoed
back, and the metered API's ``X-Current-Token-Count`` and ``X-Next-Replenishment-Time``.

A plain ASGI middleware, so error answers are stamped too. The rate limiter leaves its
figures in the request scope's state; answers that never reached a bucket (a missing
header, a bad token, an unknown path) carry no rate-limit headers.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

RATE_STATE_KEY = "walmart_rate_limit"
CORRELATION_HEADER = b"wm_qos.correlation_id"


class WalmartResponseHeaders:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        state = scope.setdefault("state", {})
        correlation = next((v for k, v in scope.get("headers", []) if k.lower() == CORRELATION_HEADER), None)

        async def stamped(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                if correlation:
                    headers.append((b"WM_QOS.CORRELATION_ID", correlation))
                rate = state.get(RATE_STATE_KEY)
                if rate is not None:
                    tokens, next_ms = rate
                    headers.append((b"X-Current-Token-Count", str(tokens).encode()))
                    headers.append((b"X-Next-Replenishment-Time", str(next_ms).encode()))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, stamped)
