"""Webhook delivery, at least once, with the faults Shopify documents.

Shopify signs each body with the app's client secret (``X-Shopify-Hmac-Sha256``, base64 of
HMAC-SHA256 over the raw bytes) and promises little else: a delivery can be lost, come
twice, come late (up to a day) or out of order; a receiver that does not answer 2xx within
5 s is retried 8 times over about 4 hours. The dispatcher reproduces all of that from a
seeded RNG so a run can be replayed, and scales every delay by ``time_scale`` so tests
and demos need not wait hours.

A scheduler thread keeps a heap of due deliveries; a small pool of sender threads posts
them. Pending deliveries live in memory: a restart loses them, which is one more way a
webhook can go missing (the hub's reconciliation must cope anyway).
"""

from __future__ import annotations

import base64
import hashlib
import heapq
import hmac
import itertools
import json
import random
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import httpx

from .config import API_VERSION, WebhookFaults
from .events import Event


def sign(body: bytes, secret: str) -> str:
    """X-Shopify-Hmac-Sha256: base64(HMAC-SHA256(client secret, raw body))."""
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


@dataclass(order=True)
class _Scheduled:
    due: float
    seq: int
    delivery: "Delivery" = field(compare=False)


@dataclass
class Delivery:
    url: str
    topic: str
    body: bytes
    webhook_id: str
    event_id: str
    triggered_at: str
    attempt: int = 0
    copy: int = 0


class WebhookDispatcher:
    def __init__(
        self,
        *,
        secret: str,
        shop_domain: str,
        faults: WebhookFaults,
        seed: int,
        time_scale: float,
        timeout_s: float,
        retries: int,
        backoff_base_s: float,
        senders: int,
        targets_for: Callable[[str], list[tuple[str, list[str]]]],
    ) -> None:
        self._secret = secret
        self._shop_domain = shop_domain
        self._faults = faults
        self._rng = random.Random(seed * 7919 + 17)
        self._time_scale = time_scale
        self._timeout_s = timeout_s
        self._retries = retries
        self._backoff_base_s = backoff_base_s
        self._targets_for = targets_for
        self._heap: list[_Scheduled] = []
        self._seq = itertools.count()
        self._cond = threading.Condition()
        self._stats: Counter[str] = Counter()
        self._by_topic: Counter[str] = Counter()
        self._in_flight = 0
        self._senders = senders
        self._pool: ThreadPoolExecutor | None = None
        self._thread: threading.Thread | None = None
        self._stopping = False
        self._client: httpx.Client | None = None

    # -- configuration -----------------------------------------------------------------
    @property
    def faults(self) -> WebhookFaults:
        return self._faults

    def set_faults(self, faults: WebhookFaults, seed: int | None = None) -> None:
        with self._cond:
            self._faults = faults
            if seed is not None:
                self._rng = random.Random(seed * 7919 + 17)

    def reset_stats(self) -> None:
        with self._cond:
            self._stats.clear()
            self._by_topic.clear()

    # -- lifecycle ---------------------------------------------------------------------
    def start(self) -> None:
        with self._cond:
            if self._thread is not None:
                return
            self._stopping = False
            self._client = httpx.Client(timeout=self._timeout_s)
            self._pool = ThreadPoolExecutor(max_workers=self._senders, thread_name_prefix="shopify-webhook")
            self._thread = threading.Thread(target=self._run, name="shopify-webhook-scheduler", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        with self._cond:
            if self._thread is None:
                return
            self._stopping = True
            self._cond.notify_all()
            thread, pool, client = self._thread, self._pool, self._client
            self._thread = None
        thread.join(timeout=5)
        if pool:
            pool.shutdown(wait=True, cancel_futures=True)
        if client:
            client.close()

    # -- publishing --------------------------------------------------------------------
    def _uuid(self) -> str:
        return str(uuid.UUID(int=self._rng.getrandbits(128), version=4))

    def publish(self, event: Event) -> None:
        """Plan the deliveries of one event to every subscribed endpoint."""
        targets = self._targets_for(event.topic)
        if not targets:
            return
        self.start()
        with self._cond:
            self._stats["events"] += 1
            event_id = self._uuid()
            now = time.monotonic()
            for url, include_fields in targets:
                body_dict = event.body
                if include_fields:
                    body_dict = {k: v for k, v in event.body.items() if k in include_fields}
                body = json.dumps(body_dict, separators=(",", ":")).encode()
                delivery = Delivery(url, event.topic, body, self._uuid(), event_id, event.triggered_at)
                self._stats["planned"] += 1
                self._by_topic[event.topic] += 1
                faults = self._faults
                # Draw every fault for every delivery so the RNG stream does not depend on outcomes.
                lost = self._rng.random() < faults.loss_rate
                duplicated = self._rng.random() < faults.duplicate_rate
                delayed = self._rng.random() < faults.delay_rate
                delay_s = self._rng.uniform(0.0, faults.max_delay_s)
                reordered = self._rng.random() < faults.reorder_rate
                if lost:
                    self._stats["lost"] += 1
                    continue
                due = now
                if delayed:
                    self._stats["delayed"] += 1
                    due += delay_s * self._time_scale
                if reordered:
                    self._stats["reordered"] += 1
                    due += faults.reorder_window_s * self._time_scale
                self._push(due, delivery)
                if duplicated:
                    self._stats["duplicated"] += 1
                    twin = Delivery(url, event.topic, body, delivery.webhook_id, event_id, event.triggered_at, copy=1)
                    self._push(due, twin)
            self._cond.notify_all()

    def _push(self, due: float, delivery: Delivery) -> None:
        heapq.heappush(self._heap, _Scheduled(due, next(self._seq), delivery))

    # -- delivering --------------------------------------------------------------------
    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._stopping and (not self._heap or self._heap[0].due > time.monotonic()):
                    timeout = None if not self._heap else max(0.0, self._heap[0].due - time.monotonic())
                    self._cond.wait(timeout)
                if self._stopping:
                    return
                item = heapq.heappop(self._heap)
                self._in_flight += 1
            pool = self._pool  # made by start(), before this thread
            assert pool is not None
            try:
                pool.submit(self._send, item.delivery)
            except RuntimeError:
                return

    def headers(self, delivery: Delivery) -> dict[str, str]:
        return {
            "Content-Type": "application/json",
            "User-Agent": "Shopify-Captain-Hook",
            "X-Shopify-Topic": delivery.topic,
            "X-Shopify-Hmac-Sha256": sign(delivery.body, self._secret),
            "X-Shopify-Shop-Domain": self._shop_domain,
            "X-Shopify-API-Version": API_VERSION,
            "X-Shopify-Webhook-Id": delivery.webhook_id,
            "X-Shopify-Event-Id": delivery.event_id,
            "X-Shopify-Triggered-At": delivery.triggered_at,
        }

    def _send(self, delivery: Delivery) -> None:
        ok = False
        client = self._client  # made by start(), before any delivery
        assert client is not None
        try:
            response = client.post(delivery.url, content=delivery.body, headers=self.headers(delivery))
            ok = 200 <= response.status_code < 300
        except (httpx.HTTPError, RuntimeError):
            ok = False
        with self._cond:
            self._in_flight -= 1
            self._stats["attempts"] += 1
            if ok:
                self._stats["delivered"] += 1
            else:
                self._stats["failed_attempts"] += 1
                if delivery.attempt < self._retries and not self._stopping:
                    delivery.attempt += 1
                    self._stats["retries"] += 1
                    backoff = self._backoff_base_s * (2 ** (delivery.attempt - 1)) * self._time_scale
                    self._push(time.monotonic() + backoff, delivery)
                    self._cond.notify_all()
                else:
                    self._stats["gave_up"] += 1

    # -- observing ---------------------------------------------------------------------
    def stats(self) -> dict:
        with self._cond:
            out: dict[str, Any] = {k: self._stats.get(k, 0) for k in (
                "events", "planned", "lost", "duplicated", "delayed", "reordered", "attempts", "delivered",
                "failed_attempts", "retries", "gave_up")}
            out["pending"] = len(self._heap) + self._in_flight
            out["by_topic"] = dict(self._by_topic)
            out["faults"] = self._faults.model_dump()
            return out

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """Block until nothing is scheduled or in flight (for tests and the CLI)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._cond:
                if not self._heap and self._in_flight == 0:
                    return True
            time.sleep(0.01)
        return False
