"""Headers every SP-API answer carries: ``x-amzn-RequestId`` and ``x-amzn-RateLimit-Limit``.

Done as a plain ASGI middleware so it also stamps error answers and is cheap. The
operation's rate is left in the request scope's state by the rate limiter; answers that
never reached an operation (403 before the usage plan was looked up, unknown paths)
carry only the request id, as Amazon's do.
"""

from __future__ import annotations

import uuid

from starlette.types import ASGIApp, Message, Receive, Scope, Send

RATE_LIMIT_STATE_KEY = "amzn_rate_limit"


class SpApiResponseHeaders:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        state = scope.setdefault("state", {})
        request_id = str(uuid.uuid4())

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                headers.append((b"x-amzn-requestid", request_id.encode()))
                rate = state.get(RATE_LIMIT_STATE_KEY)
                if rate is not None:
                    headers.append((b"x-amzn-ratelimit-limit", rate.encode()))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)
