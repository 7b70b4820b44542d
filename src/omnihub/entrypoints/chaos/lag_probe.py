"""Sync lag as a shopper would see it, per channel: goods arrive (the simulator's shelf,
then the receipt keyed into the hub over its API), and the clock runs until the channel's
own figure moves. Measured from the outside, through the day's faults; a probe that does
not land within `give_up_s` counts at that bound.

- Shopify: goods at a store; the lag ends when Shopify's level there changes (polled).
- Amazon: goods at a warehouse (the Amazon sandbox's shelf, then the hub); the lag ends at
  the moment the Amazon sandbox records the listing's quantity rising, its own timestamp
  (`quantity_changed_at`, on the sandbox's clock), not when a poll happened to see it.
"""

from __future__ import annotations

import random
import threading
import time

import httpx


class LagProbe:
    """One channel's probe, in a thread of its own (a slow channel delays no other's)."""

    channel = ""

    def __init__(self, api: str, token: str, *, every_s: float, seed: int, give_up_s: float = 60.0) -> None:
        self.api, self.token = api, token
        self.every_s = every_s
        self.give_up_s = give_up_s
        self.rng = random.Random(seed if self.channel == "shopify" else f"{seed}:{self.channel}")
        self.samples: list[tuple[float, float]] = []  # (sent at, monotonic; lag ms)
        self.errors = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"chaos-lag-{self.channel}", daemon=True)

    def _receive(self, http: httpx.Client, sku: str, code: str) -> bool:
        r = http.post(self.api + "/api/v1/stock/receive", json={"sku": sku, "location": code, "quantity": 1},
                      headers={"Authorization": f"Bearer {self.token}"})
        if r.status_code >= 300:
            self.errors += 1
            return False
        return True

    def _one(self, http: httpx.Client) -> None:
        raise NotImplementedError

    def _run(self) -> None:
        with httpx.Client(timeout=30) as http:
            while not self._stop.wait(self.every_s * (0.5 + self.rng.random())):
                try:
                    self._one(http)
                except (httpx.HTTPError, KeyError, ValueError, TypeError):
                    self.errors += 1

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(70)


class ShopifyLagProbe(LagProbe):
    channel = "shopify"

    def __init__(self, shop: str, api: str, token: str, store_ids: dict[str, int], skus: list[str], **kw) -> None:
        super().__init__(api, token, **kw)
        self.shop, self.store_ids, self.skus = shop, store_ids, skus

    def _one(self, http: httpx.Client) -> None:
        code = self.rng.choice(sorted(self.store_ids))
        sku = self.rng.choice(self.skus)
        where: dict[str, str | int] = {"sku": sku, "location_id": self.store_ids[code]}
        before = http.get(self.shop + "/_sandbox/inventory", params=where).raise_for_status().json()["available"]
        http.post(self.shop + "/_sandbox/inventory/receipts", json={**where, "quantity": 1}).raise_for_status()
        sent = time.monotonic()
        if not self._receive(http, sku, code):
            return
        while not self._stop.is_set():
            now = http.get(self.shop + "/_sandbox/inventory", params=where).raise_for_status().json()["available"]
            waited = time.monotonic() - sent
            if now != before or waited >= self.give_up_s:
                self.samples.append((sent, waited * 1000))
                return
            time.sleep(0.05)


class AmazonLagProbe(LagProbe):
    channel = "amazon_seller"

    def __init__(self, amazon: str, api: str, token: str, warehouses: list[str], listings: list[tuple[str, str]],
                 **kw) -> None:
        super().__init__(api, token, **kw)
        self.amazon, self.warehouses, self.listings = amazon, warehouses, listings  # (hub SKU, Amazon seller SKU)
        self._offset: float | None = None  # the sandbox's clock minus this machine's

    def _one(self, http: httpx.Client) -> None:
        if self._offset is None:
            self._offset = float(http.get(self.amazon + "/_sandbox/clock").raise_for_status().json()["offset_seconds"])
        code, (sku, seller_sku) = self.rng.choice(self.warehouses), self.rng.choice(self.listings)
        listing = self.amazon + f"/_sandbox/listings/{seller_sku}"
        before = http.get(listing).raise_for_status().json()
        http.post(self.amazon + f"/_sandbox/shelf/{seller_sku}/receipts", json={"quantity": 1}).raise_for_status()
        sent_wall, sent = time.time(), time.monotonic()
        if not self._receive(http, sku, code):
            return
        while not self._stop.is_set():
            now = http.get(listing).raise_for_status().json()
            changed_at = now.get("quantity_changed_at")
            # Shoppers only lower a listing: the first rise after the receipt is the hub's push
            if now["quantity"] > before["quantity"] and changed_at is not None and changed_at - self._offset >= sent_wall:
                self.samples.append((sent, max(0.0, (changed_at - self._offset - sent_wall) * 1000)))
                return
            if time.monotonic() - sent >= self.give_up_s:
                self.samples.append((sent, self.give_up_s * 1000))
                return
            before = now if now["quantity"] < before["quantity"] else before  # a sale meanwhile
            time.sleep(0.05)
