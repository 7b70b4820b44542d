"""Pushing what Amazon should show for merchant-fulfilled offers, within the official
usage plans.

- A few SKUs: `patchListingsItem` each (5/s, burst 5): replace
  `/attributes/fulfillment_availability` with `[{fulfillment_channel_code: DEFAULT,
  quantity: N}]`. The answer (ACCEPTED) is the acknowledgement.
- Many SKUs: one JSON_LISTINGS_FEED (up to 25,000 PATCH messages): createFeedDocument,
  upload, createFeed (0.0083/s: one every two minutes after a burst of 15), then getFeed
  until DONE and the processing report says which messages failed. The report is the
  acknowledgement.
- When neither budget has room now, the most urgent items go by patch and the rest are
  DEFERRED (not a failure): the engine offers them again shortly.
Amazon has no compare-and-swap: the hub's figure is set as is.
"""

from __future__ import annotations

import json
import time

from omnihub.adapters.channels.amazon.sp_api_client import SpApiClient, SpApiError, quantity_patch
from omnihub.adapters.channels.mapping import ChannelMapping
from omnihub.domain.channel_sync import PushItem, PushOutcome, PushStatus
from omnihub.domain.push_policy import PushPath, PushPolicy

MAX_FEED_MESSAGES = 25_000


class AmazonInventoryPusher:
    per_location = False
    max_batch = MAX_FEED_MESSAGES

    def __init__(self, client: SpApiClient, *, patch_limit: int = 25, product_type: str = "PRODUCT",
                 feed_poll_s: float = 5.0, feed_timeout_s: float = 900.0, sleep=time.sleep,
                 policy: PushPolicy | None = None) -> None:
        self.client = client
        self.patch_limit = patch_limit
        # The road is the push policy's choice (domain/push_policy.py): past what one
        # round of patches sends, the feed.
        self.policy = policy or PushPolicy(bulk_from=patch_limit + 1, max_bulk=MAX_FEED_MESSAGES)
        self.product_type = product_type
        self.feed_poll_s = feed_poll_s
        self.feed_timeout_s = feed_timeout_s
        self._sleep = sleep
        self.feeds_submitted = 0

    def push(self, items: list[PushItem], mapping: ChannelMapping) -> list[PushOutcome]:
        outcomes: list[PushOutcome] = []
        ready: list[tuple[PushItem, str]] = []
        for it in items:
            seller_sku = mapping.items.get(it.sku)
            if not seller_sku:
                outcomes.append(PushOutcome(it.intent_id, PushStatus.FAILED, error=f"SKU not listed on {mapping.channel}"))
            else:
                ready.append((it, seller_sku))
        limiter = self.client.limiter
        if self.policy.path_for(len(ready)) is PushPath.BULK and limiter.available("createFeed") >= 1 \
                and limiter.available("createFeedDocument") >= 1:
            return outcomes + self._feed(ready)
        for it, seller_sku in ready[: self.patch_limit]:
            outcomes.append(self._patch(it, seller_sku))
        outcomes += [PushOutcome(it.intent_id, PushStatus.DEFERRED) for it, _ in ready[self.patch_limit:]]
        return outcomes

    def _patch(self, it: PushItem, seller_sku: str) -> PushOutcome:
        try:
            answer = self.client.patch_quantity(seller_sku, it.target, product_type=self.product_type)
        except SpApiError as exc:
            status = PushStatus.RETRY if exc.retryable or exc.status in (0, 429) else PushStatus.FAILED
            return PushOutcome(it.intent_id, status, error=str(exc)[:500])
        if answer.get("status") == "ACCEPTED":
            return PushOutcome(it.intent_id, PushStatus.OK, landed=max(0, it.target))
        issues = "; ".join(i.get("message", "") for i in answer.get("issues") or [])
        return PushOutcome(it.intent_id, PushStatus.FAILED, error=f"{answer.get('status')}: {issues}"[:500])

    def feed_document(self, ready: list[tuple[PushItem, str]]) -> dict:
        return {
            "header": {"sellerId": self.client.seller_id, "version": "2.0", "issueLocale": "en_US"},
            "messages": [
                {"messageId": n, "sku": seller_sku, "operationType": "PATCH", "productType": self.product_type,
                 "patches": [quantity_patch(it.target)]}
                for n, (it, seller_sku) in enumerate(ready, start=1)
            ],
        }

    def _feed(self, ready: list[tuple[PushItem, str]]) -> list[PushOutcome]:
        ready, later = ready[:self.policy.max_bulk], ready[self.policy.max_bulk:]
        if later:  # the feed holds what it can; the rest is offered again shortly
            return self._feed(ready) + [PushOutcome(it.intent_id, PushStatus.DEFERRED) for it, _ in later]
        content = json.dumps(self.feed_document(ready)).encode()
        try:
            doc = self.client.create_feed_document()
            self.client.upload_document(doc["url"], content)
            feed_id = self.client.create_feed(doc["feedDocumentId"])
            self.feeds_submitted += 1
            deadline = time.monotonic() + self.feed_timeout_s
            while True:
                feed = self.client.get_feed(feed_id)
                status = feed.get("processingStatus")
                if status in ("DONE", "FATAL", "CANCELLED"):
                    break
                if time.monotonic() > deadline:
                    raise SpApiError(f"feed {feed_id} still {status} after {self.feed_timeout_s}s", retryable=True)
                self._sleep(self.feed_poll_s)
            if status != "DONE":
                return [PushOutcome(it.intent_id, PushStatus.RETRY, error=f"feed {feed_id} {status}") for it, _ in ready]
            failed: dict[int, str] = {}
            if feed.get("resultFeedDocumentId"):
                result = self.client.get_feed_document(feed["resultFeedDocumentId"])
                report = json.loads(self.client.download(result["url"]))
                for issue in report.get("issues") or []:
                    if issue.get("severity") == "ERROR" and isinstance(issue.get("messageId"), int):
                        failed[issue["messageId"]] = f"{issue.get('code')}: {issue.get('message')}"
        except SpApiError as exc:
            return [PushOutcome(it.intent_id, PushStatus.RETRY, error=str(exc)[:500]) for it, _ in ready]
        return [PushOutcome(it.intent_id, PushStatus.FAILED, error=failed[n][:500]) if n in failed
                else PushOutcome(it.intent_id, PushStatus.OK, landed=max(0, it.target))
                for n, (it, _) in enumerate(ready, start=1)]
