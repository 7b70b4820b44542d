"""What access control costs a request, measured where it is paid.

`--with-token` on `bench orders` and `bench ledger` sends every order and movement
through the API's own resolver functions first (entrypoints/api/access.py:
`bearer_principal` then `decide`), with a real token made in the scratch database and a
token cache per process, as each `serve` worker has: the difference between a run with
and one without is what auth adds to the path. `resolver_timings` times the resolver
alone, per call: those two functions, and the whole `authorize` dependency on a request
as FastAPI hands it over (rule lookup, the body's location, the decision).
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from omnihub.adapters.db.engine import make_engine
from omnihub.domain.access import Permission, Role
from omnihub.domain.ledger import Reason
from omnihub.entrypoints.api.access import bearer_principal, decide
from omnihub.services.api_tokens import ApiTokens

#: the permission each benchmark movement needs, as the stock routes declare it
MOVEMENT_PERMISSION = {Reason.RECEIPT: Permission.STOCK_RECEIVE, Reason.DAMAGE: Permission.STOCK_DAMAGE}


def issue_bench_token(url: str, role: Role | str, scopes=()) -> str:
    engine = make_engine(url, pool_size=1)
    try:
        return ApiTokens(engine).create("bench", role, scopes=scopes, created_by="local_admin:bench:bench").token
    finally:
        engine.dispose()


class RequestAccess:
    """One process's door: its token cache, and the decision each request meets."""

    def __init__(self, engine, token: str) -> None:
        self.tokens = ApiTokens(engine)
        self.token = token
        self.checked = 0

    def check(self, permission: Permission, location: str | None = None, channel: str | None = None) -> None:
        decide(bearer_principal(self.tokens, self.token, "127.0.0.1"), permission, location, channel)
        self.checked += 1

    def close(self) -> None:
        self.tokens.close()


class CheckedOrders:
    """The order pipeline behind the door: each order is let in as POST /api/v1/orders
    lets it in (orders.ingest for its channel), then submitted."""

    def __init__(self, pipeline, access: RequestAccess) -> None:
        self._pipeline, self.access = pipeline, access

    def submit(self, order):
        self.access.check(Permission.ORDERS_INGEST, None, order.channel)
        return self._pipeline.submit(order)

    def __getattr__(self, name):
        return getattr(self._pipeline, name)


def _percentiles_us(samples: list[float]) -> dict:
    samples.sort()
    pick = lambda p: round(samples[min(len(samples) - 1, int(len(samples) * p))] * 1e6, 2)  # noqa: E731
    return {"p50_us": pick(0.5), "p99_us": pick(0.99), "calls": len(samples)}


def resolver_timings(url: str, token: str, calls: int = 20_000) -> dict:
    """p50/p99 of the resolver alone, per call, on a token already in the cache (the
    steady state: an entry is read again from the database every 5 s)."""
    from fastapi.security import HTTPAuthorizationCredentials
    from starlette.requests import Request

    from omnihub.entrypoints.api import routes_stock
    from omnihub.entrypoints.api.access import authorize
    from omnihub.entrypoints.api.app import create_app
    from omnihub.hub import Hub
    from omnihub.settings import Settings

    hub = Hub.open(Settings(database_url=url), run_migrations=False, relay=False)
    try:
        direct: list[float] = []
        for _ in range(calls):
            t0 = time.perf_counter()
            decide(bearer_principal(hub.tokens, token, "127.0.0.1"), Permission.STOCK_RECEIVE, "L001")
            direct.append(time.perf_counter() - t0)

        guarded: Any = create_app(hub=hub)  # the host and body guards (typed as the FastAPI app they wrap)
        app = guarded.app.app  # inside them: the FastAPI app
        credentials = HTTPAuthorizationCredentials(scheme="Bearer", credentials=token)
        body = {"sku": "SKU000001", "location": "L001", "quantity": 1}

        async def run() -> list[float]:
            out: list[float] = []
            for _ in range(calls):
                scope = {"type": "http", "method": "POST", "path": "/api/v1/stock/receive", "headers": [],
                         "app": app, "endpoint": routes_stock.receive, "path_params": {}, "client": ("127.0.0.1", 1),
                         "query_string": b""}
                request = Request(scope)
                request._json = body  # as FastAPI leaves it once it has parsed the body
                t0 = time.perf_counter()
                await authorize(request, credentials, None)
                out.append(time.perf_counter() - t0)
            return out

        dependency = asyncio.run(run())
    finally:
        hub.close()
    return {"bearer_principal_and_decide": _percentiles_us(direct), "authorize_dependency": _percentiles_us(dependency)}
