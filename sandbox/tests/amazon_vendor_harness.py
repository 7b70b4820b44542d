"""Test harness for the Amazon Vendor sandbox: an SP-API vendor client for tests.

Kept in a uniquely named module (not conftest) so tests can import it.
"""

from __future__ import annotations

import warnings
from typing import Any

import httpx

with warnings.catch_warnings():  # Starlette's TestClient (httpx-based) is all we need here
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

from omnihub_sandbox.amazon_vendor.app import create_app
from omnihub_sandbox.amazon_vendor.config import AmazonVendorSandboxConfig
from omnihub_sandbox.amazon_vendor.context import RESTRICTED_OPERATIONS
from omnihub_sandbox.spapi.clock import iso

__all__ = ["VENDOR", "Vendor", "TestClient", "create_app", "DF_ORDERS", "DF_INVENTORY", "DF_SHIPPING",
           "DF_TRANSACTIONS", "DF_SANDBOX", "RETAIL_ORDERS", "RETAIL_SHIPMENTS", "RETAIL_TRANSACTIONS"]

VENDOR = "OMNIV"
DF_ORDERS = "vendorDirectFulfillmentOrders_2021-12-28.json"
DF_INVENTORY = "vendorDirectFulfillmentInventoryV1.json"
DF_SHIPPING = "vendorDirectFulfillmentShipping_2021-12-28.json"
DF_TRANSACTIONS = "vendorDirectFulfillmentTransactions_2021-12-28.json"
DF_SANDBOX = "vendorDirectFulfillmentSandboxData_2021-10-28.json"
RETAIL_ORDERS = "vendorOrders.json"
RETAIL_SHIPMENTS = "vendorShipments.json"
RETAIL_TRANSACTIONS = "vendorTransactionStatus.json"


class Vendor:
    """A vendor's SP-API client for tests: gets an LWA token, then calls with it (with a
    Restricted Data Token for a restricted operation, asked for as a client must); plus the
    sandbox's control levers (shoppers, buyers, the clock)."""

    def __init__(self, client: Any, config: AmazonVendorSandboxConfig) -> None:
        self.http = client
        self.config = config
        self._token: str | None = None
        self._token_age = 0.0  # sandbox seconds since the token was issued
        self._rdts: dict[tuple[str, str], str] = {}

    def login(self) -> str:
        answer = self.http.post("/auth/o2/token", data={
            "grant_type": "refresh_token", "refresh_token": self.config.lwa_refresh_token,
            "client_id": self.config.lwa_client_id, "client_secret": self.config.lwa_client_secret,
        })
        assert answer.status_code == 200, answer.text
        self._token = answer.json()["access_token"]
        self._token_age = 0.0
        self._rdts.clear()  # as old as the LWA token they were asked for with
        return self._token

    def restricted_data_token(self, method: str, path: str) -> str:
        """A Restricted Data Token for the generic path of the restricted operation `path` is."""
        template = next(op.template for op in RESTRICTED_OPERATIONS if op.covers(method, path))
        if (method, template) not in self._rdts:
            answer = self.call("POST", "/tokens/2021-03-01/restrictedDataToken",
                               json={"restrictedResources": [{"method": method, "path": template}]})
            assert answer.status_code == 200, answer.text
            self._rdts[(method, template)] = answer.json()["restrictedDataToken"]
        return self._rdts[(method, template)]

    def call(self, method: str, url: str, **kw: Any) -> httpx.Response:
        if self._token is None:
            self.login()
        token = self._token
        if any(op.covers(method, url) for op in RESTRICTED_OPERATIONS):
            token = self.restricted_data_token(method, url)
        headers = {"x-amz-access-token": token, **kw.pop("headers", {})}
        return self.http.request(method, url, headers=headers, **kw)

    # -- control plane ------------------------------------------------------------------

    def now(self) -> float:
        return self.http.get("/_sandbox/clock").json()["now"]

    def advance(self, seconds: float) -> None:
        """Move the sandbox clock; the next call logs in again once the hour's token is near its end."""
        assert self.http.post("/_sandbox/clock/advance", json={"seconds": seconds}).status_code == 200
        self._token_age += seconds
        if self._token_age > 3000:
            self._token = None

    def items(self) -> list[dict[str, Any]]:
        return self.http.get("/_sandbox/items").json()["items"]

    def stock(self) -> dict[str, dict[str, dict[str, int]]]:
        return self.http.get("/_sandbox/stock").json()["warehouses"]

    def shop(self, *lines: tuple[str, int], warehouse: str | None = None, **kw: Any) -> httpx.Response:
        return self.http.post("/_sandbox/orders", json={"lines": [{"sku": s, "quantity": q} for s, q in lines],
                                                       "warehouse": warehouse, **kw})

    def oversells(self) -> dict[str, Any]:
        return self.http.get("/_sandbox/oversells").json()

    # -- SP-API shorthands ----------------------------------------------------------------

    def declare(self, warehouse: str, quantities: dict[str, int], full: bool = False) -> httpx.Response:
        return self.call("POST", f"/vendor/directFulfillment/inventory/v1/warehouses/{warehouse}/items", json={
            "inventory": {"sellingParty": {"partyId": VENDOR}, "isFullUpdate": full, "items": [
                {"vendorProductIdentifier": sku, "availableQuantity": {"amount": n, "unitOfMeasure": "Each"}}
                for sku, n in quantities.items()]}})

    def transaction(self, transaction_id: str) -> httpx.Response:
        return self.call("GET", f"/vendor/directFulfillment/transactions/2021-12-28/transactions/{transaction_id}")

    def orders(self, after: float, before: float, **params: Any) -> httpx.Response:
        return self.call("GET", "/vendor/directFulfillment/orders/2021-12-28/purchaseOrders",
                         params={"createdAfter": iso(after), "createdBefore": iso(before), **params})

    def order(self, po_number: str) -> dict[str, Any]:
        answer = self.call("GET", f"/vendor/directFulfillment/orders/2021-12-28/purchaseOrders/{po_number}")
        assert answer.status_code == 200, answer.text
        return answer.json()

    def acknowledge(self, order: dict[str, Any], code: str = "00", quantities: dict[str, int] | None = None,
                    **overrides: Any) -> httpx.Response:
        details = order["orderDetails"]
        ack = {"purchaseOrderNumber": order["purchaseOrderNumber"], "vendorOrderNumber": "V-" + order["purchaseOrderNumber"],
               "acknowledgementDate": iso(self.now()), "acknowledgementStatus": {"code": code},
               "sellingParty": details["sellingParty"], "shipFromParty": details["shipFromParty"],
               "itemAcknowledgements": [{
                   "itemSequenceNumber": item["itemSequenceNumber"], "vendorProductIdentifier": item["vendorProductIdentifier"],
                   "acknowledgedQuantity": {"amount": (quantities or {}).get(item["itemSequenceNumber"],
                                                                            item["orderedQuantity"]["amount"]),
                                            "unitOfMeasure": "Each"}} for item in details["items"]]}
        ack.update(overrides)
        return self.call("POST", "/vendor/directFulfillment/orders/2021-12-28/acknowledgements",
                         json={"orderAcknowledgements": [ack]})

    def settle(self, transaction_id: str, seconds: float = 3600) -> dict[str, Any]:
        """Move time until the transaction has been processed; return its transactionStatus."""
        self.advance(seconds)
        answer = self.transaction(transaction_id)
        assert answer.status_code == 200, answer.text
        return answer.json()["transactionStatus"]
