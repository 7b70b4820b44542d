"""The HTTP API: FastAPI under /api/v1, OpenAPI at /api/v1/openapi.json, its pages at /api/v1/docs and /redoc (api_docs.py)."""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI, Request
from starlette.exceptions import HTTPException as StarletteHTTPException

from omnihub.entrypoints.api import problems, routes_catalog, routes_orders, routes_stock
from omnihub.entrypoints.api import access, metrics, routes_access, routes_reconciliation, routes_sync, routes_webhooks
from omnihub.entrypoints.api import routes_audit, routes_session, routes_store
from omnihub.entrypoints.api.api_docs import documented_app
from omnihub.entrypoints.api.audit_hook import AuditUnsafeRequests
from omnihub.entrypoints.api.csrf import SessionCsrf
from omnihub.entrypoints.api.access_policy import rules_by_endpoint, undecided_routes
from omnihub.entrypoints.api.request_guards import RequestGuards
from omnihub.gc_tuning import tune_for_throughput
from omnihub.hub import Hub
from omnihub.settings import Settings, get_settings


class BodyLimit:
    """Refuse bodies over the configured size before reading them (413 problem+json),
    whether the client sent Content-Length or streams chunks."""

    def __init__(self, app, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        for name, value in scope.get("headers", []):
            if name == b"content-length" and value.isdigit() and int(value) > self.max_bytes:
                return await self._refuse(scope, receive, send)
        seen = 0

        async def limited_receive():
            nonlocal seen
            msg = await receive()
            if msg["type"] == "http.request":
                seen += len(msg.get("body", b""))
                if seen > self.max_bytes:
                    raise _TooLarge()
            return msg

        try:
            await self.app(scope, limited_receive, send)
        except _TooLarge:
            await self._refuse(scope, receive, send)

    async def _refuse(self, scope, receive, send):
        resp = problems.problem(413, "request too large", f"the body is larger than {self.max_bytes} bytes",
                                instance=scope.get("path"), code="too_large")
        await resp(scope, receive, send)


class _TooLarge(StarletteHTTPException):
    """Raised by the body's reader: a route that reads the body itself (the webhooks)
    meets it inside the app, whose handler answers 413 problem+json, as a route whose
    body FastAPI parses does; one raised outside a route is answered by BodyLimit."""

    def __init__(self) -> None:
        super().__init__(413, "request too large")


def create_app(settings: Settings | None = None, hub: Hub | None = None, *, run_migrations: bool = True,
               extra_hosts: Sequence[str] = ()) -> FastAPI:
    """`extra_hosts` are allowed besides `settings.allowed_hosts` (`serve --host`'s name)."""
    owns_hub = hub is None

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        if app.state.hub is None:
            # relay=False: the worker relays the outbox to the sync intake that has the pushers
            app.state.hub = Hub.open(settings, run_migrations=run_migrations, relay=False)
            if not run_migrations:  # a worker of `omnihub serve --workers N`
                tune_for_throughput()
        yield
        if owns_hub and app.state.hub is not None:
            app.state.hub.close()
            app.state.hub = None

    app = documented_app(
        title="omnihub",
        version="0.1.0",
        description="Omnichannel order and inventory hub: one ledger of stock, ATP for every channel.",
        lifespan=lifespan,
    )
    app.state.hub = hub
    problems.install(app)
    access.install(app)
    # Every router but the webhooks' (signed by their channels) and health: a principal
    # and its rule in access_policy.py (401/403 problem+json; see access.py).
    needs_principal = [Depends(access.authorize)]
    app.include_router(routes_catalog.router, prefix="/api/v1", dependencies=needs_principal)
    app.include_router(routes_stock.router, prefix="/api/v1", dependencies=needs_principal)
    app.include_router(routes_orders.router, prefix="/api/v1", dependencies=needs_principal)
    app.include_router(routes_store.router, prefix="/api/v1", dependencies=needs_principal)
    app.include_router(routes_sync.router, prefix="/api/v1", dependencies=needs_principal)
    app.include_router(routes_reconciliation.router, prefix="/api/v1", dependencies=needs_principal)
    from omnihub.entrypoints.api import routes_customers  # privacy requests (erasure, data export)

    app.include_router(routes_customers.router, prefix="/api/v1", dependencies=needs_principal)
    app.include_router(routes_access.router, prefix="/api/v1", dependencies=needs_principal)
    app.include_router(routes_audit.router, prefix="/api/v1", dependencies=needs_principal)
    app.include_router(routes_session.public_router, prefix="/api/v1")  # signing in: no principal yet
    app.include_router(routes_session.router, prefix="/api/v1", dependencies=needs_principal)
    app.include_router(routes_webhooks.router)
    app.include_router(metrics.router, dependencies=needs_principal)

    from omnihub.entrypoints import console  # the pages (their rules are in access_policy.py too)

    console.install(app)

    @app.get("/healthz", include_in_schema=False)
    def healthz(request: Request) -> dict:
        return {"status": "ok"}

    if undecided := undecided_routes(app.routes):
        raise RuntimeError(f"routes without an access decision (entrypoints/api/access_policy.py): {', '.join(undecided)}")
    app.state.access_rules = rules_by_endpoint(app.routes)
    # Inside the app (under its error handling), outermost first: the session's CSRF
    # token on cookie writes, then the audit record of every unsafe request that succeeded.
    app.add_middleware(AuditUnsafeRequests)
    app.add_middleware(SessionCsrf)
    config = hub.settings if hub else (settings or Settings())
    guarded = RequestGuards(BodyLimit(app, config.max_request_bytes), [*config.allowed_hosts, *extra_hosts])
    return guarded  # type: ignore[return-value]


def worker_app() -> FastAPI:
    """uvicorn's app factory for `omnihub serve --workers N`. Each worker process opens its
    own hub (engine, group-commit writer, outbox relay) when it starts; the parent has run
    the migrations. On SQLite the workers' writers take turns on the file (see
    adapters/db/write_turn.py), so one commits while another prepares its next batch."""
    return create_app(get_settings(), run_migrations=False)
