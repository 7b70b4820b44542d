"""Fixtures for the Amazon sandbox: a fresh sandbox per test on a manual clock."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable, Iterator

import httpx
import pytest
import warnings

with warnings.catch_warnings():  # Starlette's TestClient (httpx-based) is all we need here
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

from omnihub.sandbox.amazon.app import create_app
from omnihub.sandbox.amazon.clock import ManualClock
from omnihub.sandbox.amazon.config import AmazonSandboxConfig

SELLER = "A2SANDBOXSELLER1"
MARKETPLACE = "ATVPDKIKX0DER"


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def make_config(tmp_path: Path, clock: ManualClock) -> Callable[..., AmazonSandboxConfig]:
    def make(**overrides: Any) -> AmazonSandboxConfig:
        values: dict[str, Any] = {"state_path": tmp_path / "amazon.db", "clock": clock, "catalog_size": 20,
                                  "initial_quantity_max": 20, "feed_queue_seconds": 5, "feed_processing_seconds": 10}
        values.update(overrides)
        return AmazonSandboxConfig(**values)

    return make


class Seller:
    """An SP-API client for tests: gets an LWA token, then calls with it."""

    def __init__(self, client: Any, config: AmazonSandboxConfig) -> None:
        self.http = client
        self.config = config
        self._token: str | None = None

    def login(self) -> str:
        answer = self.http.post("/auth/o2/token", data={
            "grant_type": "refresh_token", "refresh_token": self.config.lwa_refresh_token,
            "client_id": self.config.lwa_client_id, "client_secret": self.config.lwa_client_secret,
        })
        assert answer.status_code == 200, answer.text
        self._token = answer.json()["access_token"]
        return self._token

    def call(self, method: str, url: str, **kw: Any) -> httpx.Response:
        if self._token is None:
            self.login()
        headers = {"x-amz-access-token": self._token, **kw.pop("headers", {})}
        return self.http.request(method, url, headers=headers, **kw)

    def buy(self, *lines: tuple[str, int], postal_code: str = "10001") -> httpx.Response:
        return self.http.post("/_sandbox/orders", json={
            "lines": [{"sku": s, "quantity": q} for s, q in lines],
            "ship_to": {"postal_code": postal_code, "city": "New York", "state": "NY"},
        })

    def advance(self, seconds: float) -> None:
        assert self.http.post("/_sandbox/clock/advance", json={"seconds": seconds}).status_code == 200

    def listings(self) -> list[dict[str, Any]]:
        return self.http.get("/_sandbox/listings").json()["listings"]

    def set_quantity(self, sku: str, quantity: int) -> None:
        assert self.http.put(f"/_sandbox/listings/{sku}", json={"quantity": quantity}).status_code == 200

    def patch_quantity(self, sku: str, quantity: int) -> httpx.Response:
        return self.call("PATCH", f"/listings/2021-08-01/items/{SELLER}/{sku}", params={"marketplaceIds": MARKETPLACE},
                         json={"productType": "PRODUCT", "patches": [{"op": "replace", "path": "/attributes/fulfillment_availability",
                                                                      "value": [{"fulfillment_channel_code": "DEFAULT", "quantity": quantity}]}]})


@pytest.fixture
def config(make_config: Callable[..., AmazonSandboxConfig]) -> AmazonSandboxConfig:
    return make_config()


@pytest.fixture
def seller(config: AmazonSandboxConfig) -> Iterator[Seller]:
    """In-process client (no lifespan: no background ticker, so the clock alone drives time)."""
    app = create_app(config)
    client = TestClient(app, base_url="http://sandbox.test")
    yield Seller(client, config)
    app.state.sandbox.store.close()


from tests.live_server import LiveServer as Served  # noqa: E402


@pytest.fixture
def serve() -> Callable[[Any], Served]:
    return Served
