"""Running one Shopify bulk query: start it, wait for it, stream its JSONL result.

A bulk operation is how Shopify hands over a whole catalog: it pages through the data
itself, writes one JSON object per line to a file and gives a URL to it. The hub asks
with `bulkOperationRunQuery`, polls the operation by id (quickly at first, then backing
off to a few seconds, since a large shop takes minutes), and reads the file as a stream of
lines: never the whole file in memory, and a dropped connection resumes where it stopped
(HTTP Range) rather than starting over.

The result URL is a signed storage link, not the Admin API: it is fetched without the
access token.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Literal

import httpx
import orjson
from pydantic import BaseModel, ValidationError

from omnihub.adapters.channels.retry_delays import backoff_delay
from omnihub.adapters.channels.shopify import documents as docs
from omnihub.adapters.channels.shopify.admin_client import ShopifyError

Status = Literal["CREATED", "RUNNING", "CANCELING", "CANCELED", "COMPLETED", "FAILED", "EXPIRED"]
FINISHED = ("COMPLETED", "CANCELED", "FAILED", "EXPIRED")


class BulkOperation(BaseModel):
    """What Shopify says of a bulk operation (counts are UnsignedInt64, sent as strings)."""

    id: str
    status: Status
    errorCode: str | None = None
    objectCount: int = 0
    rootObjectCount: int = 0
    fileSize: int | None = None
    url: str | None = None
    partialDataUrl: str | None = None
    createdAt: str | None = None  # Shopify's clock: when it began reading (a catalog cursor starts here)


class BulkOperationBusy(ShopifyError):
    """Shopify would not start another bulk operation now (OPERATION_IN_PROGRESS)."""


class BulkOperationFailed(ShopifyError):
    """The bulk operation ended without a result: FAILED, CANCELED or EXPIRED."""

    def __init__(self, operation: BulkOperation) -> None:
        reason = f" ({operation.errorCode})" if operation.errorCode else ""
        hint = {"ACCESS_DENIED": "the app lacks an access scope the query needs",
                "TIMEOUT": "the query ran longer than Shopify allows; narrow it",
                "INTERNAL_SERVER_ERROR": "Shopify failed while running it; try again later"}.get(operation.errorCode or "")
        super().__init__(f"Shopify bulk operation {operation.id} ended {operation.status}{reason}"
                         + (f": {hint}" if hint else ""))
        self.operation = operation


class BulkQuery:
    """One bulk query against one shop, through the connector's Admin client."""

    def __init__(self, client, *, first_poll_s: float = 0.05, max_poll_s: float = 5.0, timeout_s: float = 6 * 3600,
                 download_attempts: int = 5, sleep: Callable[[float], None] = time.sleep) -> None:
        self.client = client
        self.first_poll_s = first_poll_s
        self.max_poll_s = max_poll_s
        self.timeout_s = timeout_s
        self.download_attempts = download_attempts
        self.sleep = sleep

    def start(self, query: str) -> BulkOperation:
        payload = self.client.execute(docs.BULK_RUN_QUERY, {"query": query})["bulkOperationRunQuery"]
        errors = payload.get("userErrors") or []
        if any(e.get("code") == "OPERATION_IN_PROGRESS" for e in errors):
            raise BulkOperationBusy(f"Shopify is running other bulk operations: {errors[0]['message']}", errors=errors)
        if errors or not payload.get("bulkOperation"):
            raise ShopifyError(f"Shopify refused the bulk query: {errors}", errors=errors)
        return self._operation(payload["bulkOperation"])

    def wait(self, operation_id: str, on_poll: Callable[[BulkOperation], None] | None = None) -> BulkOperation:
        """Poll until the operation ends; raises BulkOperationFailed unless it COMPLETED."""
        deadline = time.monotonic() + self.timeout_s
        delay = self.first_poll_s
        while True:
            node = self.client.execute(docs.BULK_OPERATION, {"id": operation_id}).get("node")
            if node is None:
                raise ShopifyError(f"Shopify does not know bulk operation {operation_id}")
            operation = self._operation(node)
            if on_poll:
                on_poll(operation)
            if operation.status == "COMPLETED":
                return operation
            if operation.status in FINISHED:
                raise BulkOperationFailed(operation)
            if time.monotonic() + delay > deadline:
                raise ShopifyError(f"bulk operation {operation_id} still {operation.status} after {self.timeout_s:.0f} s",
                                   retryable=True)
            self.sleep(delay)
            delay = min(self.max_poll_s, delay * 1.5)

    def lines(self, url: str | None) -> Iterator[dict]:
        """Each JSON object of the result file, read as a stream. A result with no object
        has no file (url null): nothing to read."""
        if url is None:
            return
        offset = 0  # bytes of whole lines already handed out
        for attempt in range(1, self.download_attempts + 1):
            try:
                with self.client.http.stream("GET", url, headers={"Range": f"bytes={offset}-"} if offset else {},
                                             timeout=httpx.Timeout(30.0, read=120.0)) as response:
                    if response.status_code == 416:  # nothing after offset: the file was read whole
                        return
                    if response.status_code not in (200, 206):
                        raise ShopifyError(f"bulk result download answered {response.status_code}",
                                           retryable=response.status_code >= 500)
                    skip = offset if response.status_code == 200 else 0  # the server ignored Range
                    pending = b""
                    for chunk in response.iter_bytes():
                        if skip:
                            dropped = min(skip, len(chunk))
                            chunk, skip = chunk[dropped:], skip - dropped
                        pending += chunk
                        *complete, pending = pending.split(b"\n")
                        for raw in complete:
                            offset += len(raw) + 1
                            if raw.strip():
                                yield orjson.loads(raw)
                    if pending.strip():
                        offset += len(pending)
                        yield orjson.loads(pending)
                    return
            except (httpx.TransportError, ShopifyError) as exc:
                if attempt == self.download_attempts or (isinstance(exc, ShopifyError) and not exc.retryable):
                    raise ShopifyError(f"bulk result download failed: {exc}", retryable=True) from exc
                self.sleep(backoff_delay(attempt, base=0.2, cap=5))

    @staticmethod
    def _operation(node: dict) -> BulkOperation:
        try:
            return BulkOperation.model_validate(node)
        except ValidationError as exc:
            raise ShopifyError(f"Shopify answered a bulk operation the hub cannot read: {exc}") from exc
