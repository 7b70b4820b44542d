"""Test harness for the Shopify sandbox: its config for tests, a webhook receiver, a tiny client.

Kept in a uniquely named module (not conftest) so tests can import it without clashing
with other suites' conftest modules.
"""

from __future__ import annotations

import threading
import time

import httpx

from omnihub_sandbox.serving import SandboxServer

TOKEN = "shpat_test_token"
SECRET = "shpss_test_client_secret"


def sandbox_config(tmp_path, **overrides):
    from omnihub_sandbox.shopify.config import ShopifySandboxConfig

    values = dict(state_path=tmp_path / "shopify.sqlite3", access_tokens=[TOKEN], client_secret=SECRET,
                  catalog_products=6, catalog_variants_per_product=2, catalog_stores=2, catalog_warehouses=1,
                  initial_stock_max=20, time_scale=0.001)
    values.update(overrides)
    return ShopifySandboxConfig(**values)


class AdminClient:
    """A minimal Admin GraphQL client for tests (the hub has its own; this one stays dumb)."""

    def __init__(self, base_url: str, token: str = TOKEN) -> None:
        self.base_url = base_url
        self.http = httpx.Client(base_url=base_url, timeout=10)
        self.token = token

    def post(self, query: str, variables: dict | None = None) -> httpx.Response:
        return self.http.post("/admin/api/2026-10/graphql.json", json={"query": query, "variables": variables},
                              headers={"X-Shopify-Access-Token": self.token})

    def gql(self, query: str, variables: dict | None = None) -> dict:
        response = self.post(query, variables)
        assert response.status_code == 200, response.text
        return response.json()

    def data(self, query: str, variables: dict | None = None) -> dict:
        body = self.gql(query, variables)
        assert "errors" not in body, body["errors"]
        return body["data"]

    def control(self, method: str, path: str, **kwargs) -> httpx.Response:
        return self.http.request(method, "/_sandbox" + path, **kwargs)

    def close(self) -> None:
        self.http.close()


class WebhookReceiver:
    """Records every webhook POST; answers with ``status`` (settable)."""

    def __init__(self) -> None:
        from starlette.applications import Starlette
        from starlette.responses import Response
        from starlette.routing import Route

        self.received: list[dict] = []
        self.status = 200
        self._lock = threading.Lock()

        async def hook(request):
            body = await request.body()
            with self._lock:
                self.received.append({"headers": dict(request.headers), "body": body, "path": request.url.path,
                                      "at": time.monotonic()})
            return Response(status_code=self.status)

        self.app = Starlette(routes=[Route("/{path:path}", hook, methods=["POST"])])
        self.server = SandboxServer(self.app)

    def __enter__(self):
        self.server.__enter__()
        self.url = self.server.url
        return self

    def __exit__(self, *exc):
        self.server.__exit__(*exc)

    def wait_for(self, count: int, timeout: float = 10.0) -> list[dict]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                if len(self.received) >= count:
                    return list(self.received)
            time.sleep(0.01)
        with self._lock:
            return list(self.received)


