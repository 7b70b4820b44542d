"""The Selling Partner API client: LWA access token in `x-amz-access-token` (no SigV4
since October 2023), one usage-plan bucket per operation, 429 handled with back-off and
jitter (the bucket is emptied so the next call waits a full refill), 5xx and network
errors retried; SP-API's `{"errors":[...]}` bodies become SpApiError."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import datetime

import httpx

from omnihub.adapters.channels.amazon.lwa import LwaTokenClient
from omnihub.adapters.channels.amazon.usage_plans import UsagePlanLimiter
from omnihub.adapters.channels.retry_delays import backoff_delay


class SpApiError(RuntimeError):
    def __init__(self, message: str, *, status: int = 0, retryable: bool = False, errors: list | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.retryable = retryable
        self.errors = errors or []


class SpApiClient:
    def __init__(self, base_url: str, lwa: LwaTokenClient, *, seller_id: str, marketplace_id: str,
                 limiter: UsagePlanLimiter | None = None, http: httpx.Client | None = None, max_attempts: int = 5,
                 on_call=None) -> None:
        self.base_url = base_url.rstrip("/")
        self.lwa = lwa
        self.seller_id = seller_id
        self.marketplace_id = marketplace_id
        self.limiter = limiter or UsagePlanLimiter()
        self.http = http or httpx.Client(timeout=15)
        self.max_attempts = max_attempts
        self.on_call = on_call  # callable(operation, outcome) for metrics
        #: (operation, method, path, params, json body) of every request, for contract tests
        self.sent: list[tuple] = []
        self.calls = 0
        self.throttled = 0

    def close(self) -> None:
        self.http.close()

    def _notify(self, op: str, outcome: str) -> None:
        if self.on_call:
            self.on_call(op, outcome)

    def call(self, op: str, method: str, path: str, *, params: dict | None = None, json: dict | None = None) -> dict:
        if len(self.sent) < 1000:
            self.sent.append((op, method, path, params, json))
        for attempt in range(1, self.max_attempts + 1):
            self.limiter.acquire(op)
            headers = {"x-amz-access-token": self.lwa.token(), "accept": "application/json"}
            self.calls += 1
            try:
                answer = self.http.request(method, self.base_url + path, params=params, json=json, headers=headers)
            except httpx.TransportError as exc:
                self._notify(op, "error")
                if attempt == self.max_attempts:
                    raise SpApiError(f"{op}: network error {exc}", retryable=True) from exc
                time.sleep(backoff_delay(attempt, base=0.5, cap=10))
                continue
            self.limiter.observe_limit(op, answer.headers.get("x-amzn-RateLimit-Limit"))
            if answer.status_code == 429:
                self.throttled += 1
                self._notify(op, "throttled")
                self.limiter.drained(op)
                time.sleep(backoff_delay(attempt, base=0.2, cap=5))
                continue
            if answer.status_code == 403 and attempt == 1:
                self.lwa.invalidate()  # an expired access token: fetch a new one once
                continue
            if answer.status_code >= 500:
                self._notify(op, "error")
                if attempt == self.max_attempts:
                    raise SpApiError(f"{op}: Amazon answered {answer.status_code}", status=answer.status_code, retryable=True)
                time.sleep(backoff_delay(attempt, base=0.5, cap=10))
                continue
            body = answer.json() if answer.content else {}
            if answer.status_code >= 400:
                self._notify(op, "error")
                raise SpApiError(f"{op}: {answer.status_code} {body.get('errors') if isinstance(body, dict) else body}",
                                 status=answer.status_code, errors=(body or {}).get("errors", []))
            self._notify(op, "ok")
            return body
        raise SpApiError(f"{op}: retries exhausted", retryable=True)

    # -- Orders v0 -------------------------------------------------------------------------
    def get_orders(self, *, last_updated_after: datetime | None = None, created_after: datetime | None = None,
                   next_token: str | None = None, max_per_page: int = 100, statuses: tuple[str, ...] = ()) -> dict:
        params: dict = {"MarketplaceIds": self.marketplace_id}
        if statuses and not next_token:  # a next page carries its query in the token
            params["OrderStatuses"] = ",".join(statuses)
        if next_token:
            params["NextToken"] = next_token
        elif last_updated_after is not None:
            params["LastUpdatedAfter"] = _iso(last_updated_after)
            params["MaxResultsPerPage"] = str(max_per_page)
        elif created_after is not None:
            params["CreatedAfter"] = _iso(created_after)
            params["MaxResultsPerPage"] = str(max_per_page)
        else:
            raise ValueError("give last_updated_after, created_after or next_token")
        return self.call("getOrders", "GET", "/orders/v0/orders", params=params).get("payload") or {}

    def get_order(self, order_id: str) -> dict:
        return self.call("getOrder", "GET", f"/orders/v0/orders/{order_id}").get("payload") or {}

    def get_order_items(self, order_id: str) -> list[dict]:
        items: list[dict] = []
        token = None
        while True:
            params = {"NextToken": token} if token else None
            payload = self.call("getOrderItems", "GET", f"/orders/v0/orders/{order_id}/orderItems", params=params).get("payload") or {}
            items.extend(payload.get("OrderItems") or [])
            token = payload.get("NextToken")
            if not token:
                return items

    def confirm_shipment(self, order_id: str, body: dict) -> None:
        self.call("confirmShipment", "POST", f"/orders/v0/orders/{order_id}/shipmentConfirmation", json=body)

    # -- Listings Items 2021-08-01 ---------------------------------------------------------
    def search_listings(self, *, page_token: str | None = None, page_size: int = 20) -> dict:
        """One page of the seller's listings with their sellable quantity (searchListingsItems)."""
        params = {"marketplaceIds": self.marketplace_id, "includedData": "summaries,fulfillmentAvailability",
                  "pageSize": str(page_size)}
        if page_token:
            params["pageToken"] = page_token
        return self.call("searchListingsItems", "GET", f"/listings/2021-08-01/items/{_quote(self.seller_id)}", params=params)

    def patch_quantity(self, sku: str, quantity: int, *, product_type: str = "PRODUCT") -> dict:
        body = {"productType": product_type, "patches": [quantity_patch(quantity)]}
        return self.call("patchListingsItem", "PATCH", f"/listings/2021-08-01/items/{self.seller_id}/{_quote(sku)}",
                         params={"marketplaceIds": self.marketplace_id}, json=body)

    # -- Feeds 2021-06-30 ------------------------------------------------------------------
    def create_feed_document(self, content_type: str = "application/json; charset=UTF-8") -> dict:
        return self.call("createFeedDocument", "POST", "/feeds/2021-06-30/documents", json={"contentType": content_type})

    def upload_document(self, url: str, content: bytes, content_type: str = "application/json; charset=UTF-8") -> None:
        answer = self.http.put(url, content=content, headers={"content-type": content_type})
        if answer.status_code >= 300:
            raise SpApiError(f"feed upload refused ({answer.status_code})", status=answer.status_code, retryable=True)

    def create_feed(self, document_id: str, feed_type: str = "JSON_LISTINGS_FEED") -> str:
        body = {"feedType": feed_type, "marketplaceIds": [self.marketplace_id], "inputFeedDocumentId": document_id}
        return self.call("createFeed", "POST", "/feeds/2021-06-30/feeds", json=body)["feedId"]

    def get_feed(self, feed_id: str) -> dict:
        return self.call("getFeed", "GET", f"/feeds/2021-06-30/feeds/{feed_id}")

    def get_feed_document(self, document_id: str) -> dict:
        return self.call("getFeedDocument", "GET", f"/feeds/2021-06-30/documents/{document_id}")

    # -- Reports 2021-06-30 ----------------------------------------------------------------
    def create_report(self, report_type: str) -> str:
        body = {"reportType": report_type, "marketplaceIds": [self.marketplace_id]}
        return self.call("createReport", "POST", "/reports/2021-06-30/reports", json=body)["reportId"]

    def get_report(self, report_id: str) -> dict:
        return self.call("getReport", "GET", f"/reports/2021-06-30/reports/{_quote(report_id)}")

    def get_report_document(self, document_id: str) -> dict:
        return self.call("getReportDocument", "GET", f"/reports/2021-06-30/documents/{_quote(document_id)}")

    def stream(self, url: str, chunk_bytes: int = 64 * 1024) -> Iterator[bytes]:
        """A document (a presigned URL: no access token), in chunks as they arrive."""
        with self.http.stream("GET", url) as answer:
            if answer.status_code != 200:
                raise SpApiError(f"document download refused ({answer.status_code})", status=answer.status_code,
                                 retryable=True)
            yield from answer.iter_bytes(chunk_bytes)

    def download(self, url: str) -> bytes:
        answer = self.http.get(url)
        if answer.status_code != 200:
            raise SpApiError(f"document download refused ({answer.status_code})", retryable=True)
        return answer.content


def quantity_patch(quantity: int) -> dict:
    return {"op": "replace", "path": "/attributes/fulfillment_availability",
            "value": [{"fulfillment_channel_code": "DEFAULT", "quantity": max(0, int(quantity))}]}


def _iso(when: datetime) -> str:
    from datetime import UTC

    when = when.astimezone(UTC) if when.tzinfo else when.replace(tzinfo=UTC)
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


def _quote(sku: str) -> str:
    from urllib.parse import quote

    return quote(sku, safe="")
