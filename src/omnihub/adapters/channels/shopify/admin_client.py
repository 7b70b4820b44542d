"""The Shopify Admin GraphQL client (API version 2026-10) the hub's connector uses.

httpx over keep-alive connections, `X-Shopify-Access-Token`, one shared cost bucket per
(shop, token) that paces calls so Shopify never has to answer THROTTLED; THROTTLED and
HTTP 429 are handled anyway (wait for the refill, retry), as are 5xx and network errors
(exponential back-off with jitter). GraphQL user errors are returned to the caller:
they are answers, not failures of the transport.
"""

from __future__ import annotations

import time

import httpx
import structlog

from omnihub.adapters.channels.retry_delays import backoff_delay
from omnihub.adapters.channels.shopify import API_VERSION
from omnihub.adapters.channels.shopify.cost_bucket import CostBucket

log = structlog.get_logger(__name__)


class ShopifyError(RuntimeError):
    """The call failed for good (auth, invalid document, retries exhausted)."""

    def __init__(self, message: str, *, retryable: bool = False, errors: list | None = None) -> None:
        super().__init__(message)
        self.retryable = retryable
        self.errors = errors or []


class ShopifyAdminClient:
    def __init__(self, shop_url: str, access_token: str, *, restore_rate: float = 100.0, bucket_size: float | None = None,
                 max_use: float = 0.8, timeout: float = 10.0, max_attempts: int = 6, http: httpx.Client | None = None,
                 on_call=None) -> None:
        self.endpoint = f"{shop_url.rstrip('/')}/admin/api/{API_VERSION}/graphql.json"
        self._headers = {"X-Shopify-Access-Token": access_token, "Content-Type": "application/json"}
        self.http = http or httpx.Client(timeout=timeout, limits=httpx.Limits(max_connections=16, max_keepalive_connections=16))
        self.bucket = CostBucket(restore_rate=restore_rate, maximum=bucket_size, max_use=max_use)
        self.max_attempts = max_attempts
        self._known_cost: dict[str, float] = {}
        self.on_call = on_call  # callable(outcome: str) for metrics: ok | throttled | error
        #: every document sent, for contract tests (bounded)
        self.sent_documents: set[str] = set()

    def close(self) -> None:
        self.http.close()

    def _notify(self, outcome: str) -> None:
        if self.on_call:
            self.on_call(outcome)

    def execute(self, document: str, variables: dict | None = None, *, cost: float | None = None) -> dict:
        """Run one query or mutation; returns `data`. `cost` is the expected requested cost
        (the last one Shopify reported for this document is used when known)."""
        if len(self.sent_documents) < 200:
            self.sent_documents.add(document)
        guess = 10.0 if document.lstrip().startswith("mutation") else 50.0
        for attempt in range(1, self.max_attempts + 1):
            # Read at each attempt: a THROTTLED answer says what this document really costs.
            expected = cost if cost is not None else self._known_cost.get(document, guess)
            reserved = self.bucket.reserve(expected)
            try:
                response = self.http.post(self.endpoint, json={"query": document, "variables": variables or {}},
                                          headers=self._headers)
            except httpx.TransportError as exc:
                self.bucket.settle(reserved, None)
                self._notify("error")
                if attempt == self.max_attempts:
                    raise ShopifyError(f"network error: {exc}", retryable=True) from exc
                time.sleep(backoff_delay(attempt, base=0.2, cap=5))
                continue
            if response.status_code == 429:
                self._notify("throttled")
                refill = self.bucket.throttled(None, reserved)
                wait = float(response.headers.get("Retry-After") or refill)
                time.sleep(wait)
                continue
            if response.status_code >= 500:
                self.bucket.settle(reserved, None)
                self._notify("error")
                if attempt == self.max_attempts:
                    raise ShopifyError(f"Shopify answered {response.status_code}", retryable=True)
                time.sleep(backoff_delay(attempt, base=0.2, cap=5))
                continue
            if response.status_code != 200:
                self.bucket.settle(reserved, None)
            if response.status_code in (401, 403):
                self._notify("error")
                raise ShopifyError(f"Shopify refused the access token ({response.status_code})")
            if response.status_code != 200:
                self._notify("error")
                raise ShopifyError(f"Shopify answered {response.status_code}: {response.text[:300]}")
            body = response.json()
            ext_cost = (body.get("extensions") or {}).get("cost")
            errors = body.get("errors") or []
            if any((e.get("extensions") or {}).get("code") == "THROTTLED" for e in errors if isinstance(e, dict)):
                self._notify("throttled")
                if ext_cost and ext_cost.get("requestedQueryCost") is not None:
                    self._known_cost[document] = float(ext_cost["requestedQueryCost"])
                time.sleep(self.bucket.throttled(ext_cost, reserved))
                continue
            self.bucket.settle(reserved, ext_cost)
            if ext_cost and ext_cost.get("requestedQueryCost") is not None:
                self._known_cost[document] = float(ext_cost["requestedQueryCost"])
            if errors:
                self._notify("error")
                raise ShopifyError(f"GraphQL errors: {errors[:3]}", errors=errors)
            self._notify("ok")
            return body.get("data") or {}
        raise ShopifyError("retries exhausted", retryable=True)
