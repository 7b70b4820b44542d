"""Test harness for the Walmart sandbox: a Marketplace seller client for tests, and the
app and in-process client it is built on.

Kept in a uniquely named module (not conftest) so tests can import it.
"""

from __future__ import annotations

import base64
import json
import uuid
import warnings
from typing import Any

import httpx

with warnings.catch_warnings():  # Starlette's TestClient (httpx-based) is all we need here
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

from omnihub_sandbox.walmart.app import create_app
from omnihub_sandbox.walmart.config import WalmartSandboxConfig

__all__ = ["Seller", "TestClient", "create_app", "basic", "headers"]


def basic(client_id: str, client_secret: str) -> str:
    return "Basic " + base64.b64encode(f"{client_id}:{client_secret}".encode()).decode()


def headers(token: str | None = None, **extra: str) -> dict[str, str]:
    """The three headers every Marketplace call carries (a fresh correlation id each)."""
    out = {"WM_QOS.CORRELATION_ID": str(uuid.uuid4()), "WM_SVC.NAME": "omnihub tests", "Accept": "application/json"}
    if token is not None:
        out["WM_SEC.ACCESS_TOKEN"] = token
    out.update(extra)
    return out


class Seller:
    """A Marketplace client for tests: gets a token, then calls with the required headers."""

    def __init__(self, client: Any, config: WalmartSandboxConfig) -> None:
        self.http = client
        self.config = config
        self.token: str | None = None

    def login(self) -> str:
        answer = self.http.post("/v3/token", data={"grant_type": "client_credentials"},
                                headers={**headers(), "Authorization": basic(self.config.client_id, self.config.client_secret)})
        assert answer.status_code == 200, answer.text
        self.token = answer.json()["access_token"]
        return self.token

    def call(self, method: str, url: str, **kw: Any) -> httpx.Response:
        """One call with a token; an expired one is renewed once, as a client does."""
        extra = kw.pop("headers", {})
        if self.token is None:
            self.login()
        assert self.token is not None
        answer = self.http.request(method, url, headers={**headers(self.token), **extra}, **kw)
        if answer.status_code == 401 and "expired" in answer.text and "WM_SEC.ACCESS_TOKEN" not in extra:
            self.login()
            answer = self.http.request(method, url, headers={**headers(self.token), **extra}, **kw)
        return answer

    # -- the control plane ------------------------------------------------------------
    def buy(self, *lines: tuple[str, int], ship_node: str | None = None) -> httpx.Response:
        body: dict[str, Any] = {"lines": [{"sku": s, "quantity": q} for s, q in lines]}
        if ship_node:
            body["ship_node"] = ship_node
        return self.http.post("/_sandbox/orders", json=body)

    def bought(self, *lines: tuple[str, int], ship_node: str | None = None) -> str:
        answer = self.buy(*lines, ship_node=ship_node)
        assert answer.status_code == 201, answer.text
        return str(answer.json()["purchaseOrderId"])

    def advance(self, seconds: float) -> None:
        assert self.http.post("/_sandbox/clock/advance", json={"seconds": seconds}).status_code == 200

    def set_item(self, sku: str, **nodes: dict[str, int]) -> dict[str, Any]:
        answer = self.http.put(f"/_sandbox/items/{sku}", json={"nodes": nodes})
        assert answer.status_code == 200, answer.text
        return dict(answer.json())

    def catalog(self) -> dict[str, Any]:
        return dict(self.http.get("/_sandbox/catalog").json())

    def item(self, sku: str) -> dict[str, Any]:
        return next(i for i in self.catalog()["items"] if i["sku"] == sku)

    # -- Marketplace calls the tests repeat --------------------------------------------
    def order(self, po: str) -> dict[str, Any]:
        answer = self.call("GET", f"/v3/orders/{po}")
        assert answer.status_code == 200, answer.text
        return dict(answer.json()["order"])

    def acknowledge(self, po: str) -> httpx.Response:
        return self.call("POST", f"/v3/orders/{po}/acknowledge")

    def ship(self, po: str, *lines: tuple[int, int], carrier: str = "UPS", tracking: str = "1Z999AA10123456784",
             **info: Any) -> httpx.Response:
        tracking_info = {"shipDateTime": 1767225600000, "carrierName": {"carrier": carrier}, "methodCode": "Standard",
                         "trackingNumber": tracking, "trackingURL": "https://www.ups.com/track?tracknum=" + tracking}
        tracking_info.update(info)
        return self.call("POST", f"/v3/orders/{po}/shipping", json={"orderShipment": {"orderLines": {"orderLine": [
            {"lineNumber": str(line), "orderLineStatuses": {"orderLineStatus": [{
                "status": "Shipped", "statusQuantity": {"unitOfMeasurement": "EACH", "amount": str(units)},
                "trackingInfo": tracking_info}]}} for line, units in lines]}}})

    def cancel(self, po: str, *lines: tuple[int, int], reason: str = "CANCEL_BY_SELLER") -> httpx.Response:
        return self.call("POST", f"/v3/orders/{po}/cancel", json={"orderCancellation": {"orderLines": {"orderLine": [
            {"lineNumber": str(line), "orderLineStatuses": {"orderLineStatus": [{
                "status": "Cancelled", "cancellationReason": reason,
                "statusQuantity": {"unitOfMeasurement": "EACH", "amount": str(units)}}]}} for line, units in lines]}}})

    def push(self, sku: str, amount: int, ship_node: str | None = None) -> httpx.Response:
        params = {"sku": sku, **({"shipNode": ship_node} if ship_node else {})}
        return self.call("PUT", "/v3/inventory", params=params,
                         json={"sku": sku, "quantity": {"unit": "EACH", "amount": amount}})

    def submit_feed(self, document: Any, feed_type: str = "inventory") -> httpx.Response:
        raw = document if isinstance(document, bytes) else json.dumps(document).encode()
        return self.call("POST", "/v3/feeds", params={"feedType": feed_type},
                         files={"file": ("inventory.json", raw, "application/json")})
