"""Test harness for the Amazon sandbox: an SP-API seller client for tests, and the app
and in-process client the tests build it on.

Kept in a uniquely named module (not conftest) so tests can import it.
"""

from __future__ import annotations

import warnings
from typing import Any

import httpx

with warnings.catch_warnings():  # Starlette's TestClient (httpx-based) is all we need here
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

from omnihub_sandbox.amazon.app import create_app
from omnihub_sandbox.amazon.config import AmazonSandboxConfig

__all__ = ["MARKETPLACE", "SELLER", "Seller", "TestClient", "create_app"]

SELLER = "A2SANDBOXSELLER1"
MARKETPLACE = "ATVPDKIKX0DER"


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

    def grantless_token(self, scope: str = "sellingpartnerapi::notifications") -> str:
        """The app's own token (client_credentials grant) for grantless operations."""
        answer = self.http.post("/auth/o2/token", data={
            "grant_type": "client_credentials", "scope": scope,
            "client_id": self.config.lwa_client_id, "client_secret": self.config.lwa_client_secret})
        assert answer.status_code == 200, answer.text
        return answer.json()["access_token"]

    def grantless(self, method: str, url: str, **kw: Any) -> httpx.Response:
        token = self.grantless_token()
        return self.http.request(method, url, headers={"x-amz-access-token": token, **kw.pop("headers", {})}, **kw)

    def restricted_data_token(self, method: str, path: str, elements: list[str] | None = None) -> str:
        """A Restricted Data Token (Tokens API) for one restricted resource, asked for with the LWA token."""
        answer = self.call("POST", "/tokens/2021-03-01/restrictedDataToken", json={"restrictedResources": [
            {"method": method, "path": path, **({"dataElements": elements} if elements else {})}]})
        assert answer.status_code == 200, answer.text
        return answer.json()["restrictedDataToken"]

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
