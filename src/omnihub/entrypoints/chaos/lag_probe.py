"""Sync lag as a shopper would see it: goods arrive at a store (the simulator's shelf, then
the receipt keyed into the hub over its API), and the clock runs until Shopify's own level
for that position moves. Measured from the outside, through the day's faults; a probe
that does not land within `give_up_s` counts at that bound.
"""

from __future__ import annotations

import random
import threading
import time

import httpx


class LagProbe:
    def __init__(self, shop: str, api: str, token: str, store_ids: dict[str, int], skus: list[str], *,
                 every_s: float, seed: int, give_up_s: float = 60.0) -> None:
        self.shop, self.api, self.token = shop, api, token
        self.store_ids = store_ids
        self.skus = skus
        self.every_s = every_s
        self.give_up_s = give_up_s
        self.rng = random.Random(seed)
        self.samples: list[tuple[float, float]] = []  # (sent at, monotonic; lag ms)
        self.errors = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="chaos-lag-probe", daemon=True)

    def _one(self, http: httpx.Client) -> None:
        code = self.rng.choice(sorted(self.store_ids))
        sku = self.rng.choice(self.skus)
        where: dict[str, str | int] = {"sku": sku, "location_id": self.store_ids[code]}
        before = http.get(self.shop + "/_sandbox/inventory", params=where).raise_for_status().json()["available"]
        http.post(self.shop + "/_sandbox/inventory/receipts", json={**where, "quantity": 1}).raise_for_status()
        sent = time.monotonic()
        r = http.post(self.api + "/api/v1/stock/receive", json={"sku": sku, "location": code, "quantity": 1},
                      headers={"Authorization": f"Bearer {self.token}"})
        if r.status_code >= 300:
            self.errors += 1
            return
        while not self._stop.is_set():
            now = http.get(self.shop + "/_sandbox/inventory", params=where).raise_for_status().json()["available"]
            waited = time.monotonic() - sent
            if now != before or waited >= self.give_up_s:
                self.samples.append((sent, waited * 1000))
                return
            time.sleep(0.05)

    def _run(self) -> None:
        with httpx.Client(timeout=30) as http:
            while not self._stop.wait(self.every_s * (0.5 + self.rng.random())):
                try:
                    self._one(http)
                except (httpx.HTTPError, KeyError, ValueError):
                    self.errors += 1

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(70)
