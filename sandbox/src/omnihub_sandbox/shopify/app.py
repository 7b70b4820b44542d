"""The Shopify sandbox as an ASGI app: ``create_app(config)``.

Routes:
- ``POST /admin/api/<version>/graphql.json`` with ``X-Shopify-Access-Token``: the Admin
  GraphQL API. Any ``YYYY-MM`` version path is served by the same 2026-10 handler (Shopify
  also answers an unsupported version with a supported one and says which in
  ``X-Shopify-API-Version``), so clients pinned to another version still work.
- ``/_sandbox/...``: the control plane (see ``control.py``, ``control_admin.py`` and README.md).
"""

from __future__ import annotations

import json
import re
import uuid
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from .clock import Clock
from .config import API_VERSION, ShopifySandboxConfig
from .app_installation import is_installed
from .control import build_router
from .control_admin import build_admin_router
from .resolvers.context import RequestContext
from .shop import SandboxShop

_VERSION = re.compile(r"^(\d{4}-\d{2}|unstable)$")
UNAUTHORIZED = {"errors": "[API] Invalid API key or access token (unrecognized login or wrong password)"}


def create_app(config: ShopifySandboxConfig, *, clock: Clock | None = None) -> FastAPI:
    shop = SandboxShop(config, clock)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        shop.dispatcher.start()
        yield
        shop.close()

    app = FastAPI(title="omnihub Shopify sandbox", version=API_VERSION, lifespan=lifespan,
                  description="Simulated Shopify Admin GraphQL API (online store + POS) for omnihub.")
    app.state.shop = shop

    async def graphql_endpoint(request: Request) -> JSONResponse:
        failed = await shop.outage.answer()
        if failed is not None:
            return failed
        version = request.path_params["version"]
        if not _VERSION.match(version):
            return JSONResponse({"errors": "Not Found"}, status_code=404)
        token = request.headers.get("x-shopify-access-token")
        if token not in config.access_tokens or not is_installed(shop):  # uninstalled: the token is revoked
            return JSONResponse(UNAUTHORIZED, status_code=401)
        raw = await request.body()
        content_type = request.headers.get("content-type", "")
        if content_type.startswith("application/graphql"):
            payload = {"query": raw.decode("utf-8", "replace")}
        else:
            try:
                payload = json.loads(raw or b"null")
            except ValueError:
                return JSONResponse({"errors": {"query": "Required parameter missing or invalid"}}, status_code=400)
        context = RequestContext(shop, str(request.base_url).rstrip("/"))
        bucket = shop.throttle.bucket(token, config.shop_domain)
        outcome = await run_in_threadpool(shop.endpoint.run, payload, bucket, context)
        shop.publish(context.events)
        return JSONResponse(outcome.body, status_code=outcome.status,
                            headers={"X-Shopify-API-Version": API_VERSION, "X-Request-Id": _request_id(shop)})

    app.add_route("/admin/api/{version}/graphql.json", graphql_endpoint, methods=["POST"])
    app.include_router(build_router(shop))
    app.include_router(build_admin_router(shop))
    return app


def _request_id(shop: SandboxShop) -> str:
    return str(uuid.uuid4())
