"""Shoppers and cashiers: a traffic generator that drives the sandbox over HTTP.

It places online orders and POS sales through the control plane at a target rate and
mix, the way real demand arrives while the hub is syncing: independent of the hub,
indifferent to what the hub believes, refused (deny policy) when Shopify says a SKU is
sold out. Draws come from a seeded RNG so a run can be repeated.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import httpx


@dataclass(frozen=True)
class TrafficMix:
    pos_share: float = 0.3  # share of sales rung up at a POS register; the rest are online checkouts
    max_lines: int = 3
    max_quantity: int = 2

    def __post_init__(self) -> None:
        if not 0.0 <= self.pos_share <= 1.0:
            raise ValueError("pos_share must be between 0 and 1")
        if self.max_lines < 1 or self.max_quantity < 1:
            raise ValueError("max_lines and max_quantity must be at least 1")


@dataclass
class TrafficSummary:
    online_placed: int = 0
    online_refused: int = 0
    pos_placed: int = 0
    pos_refused: int = 0
    errors: int = 0
    pos_oversold_units: int = 0
    elapsed_s: float = 0.0
    refusal_reasons: dict[str, int] = field(default_factory=dict)

    @property
    def attempted(self) -> int:
        return self.online_placed + self.online_refused + self.pos_placed + self.pos_refused + self.errors

    @property
    def rate_per_s(self) -> float:
        return self.attempted / self.elapsed_s if self.elapsed_s else 0.0


class ShopperTraffic:
    def __init__(self, base_url: str, *, rate_per_s: float, mix: TrafficMix | None = None, seed: int = 7,
                 concurrency: int = 32, client: httpx.AsyncClient | None = None) -> None:
        if rate_per_s <= 0 or rate_per_s > 10_000:
            raise ValueError("rate_per_s must be in (0, 10000]")
        self.base_url = base_url.rstrip("/")
        self.rate_per_s = rate_per_s
        self.mix = mix or TrafficMix()
        self.rng = random.Random(seed)
        self.concurrency = concurrency
        self._client = client
        self.skus: list[str] = []
        self.pos_locations: list[int] = []
        self.summary = TrafficSummary()

    async def _load_catalog(self, client: httpx.AsyncClient) -> None:
        response = await client.get(self.base_url + "/_sandbox/catalog")
        response.raise_for_status()
        catalog = response.json()
        self.skus = [v["sku"] for v in catalog["variants"]]
        self.pos_locations = [loc["id"] for loc in catalog["locations"] if loc["pos"]]
        if not self.skus:
            raise RuntimeError("the shop has no products to sell")

    def _basket(self) -> list[dict]:
        count = self.rng.randint(1, min(self.mix.max_lines, len(self.skus)))
        return [{"sku": sku, "quantity": self.rng.randint(1, self.mix.max_quantity)}
                for sku in self.rng.sample(self.skus, count)]

    async def _one_sale(self, client: httpx.AsyncClient, semaphore: asyncio.Semaphore) -> None:
        at_register = bool(self.pos_locations) and self.rng.random() < self.mix.pos_share
        basket = self._basket()
        if at_register:
            path, body = "/_sandbox/pos-sales", {"location_id": self.rng.choice(self.pos_locations), "lines": basket}
        else:
            path, body = "/_sandbox/orders", {"lines": basket, "email": f"shopper{self.rng.randint(1, 5000)}@example.com"}
        async with semaphore:
            try:
                response = await client.post(self.base_url + path, json=body)
            except httpx.HTTPError:
                self.summary.errors += 1
                return
        s = self.summary
        if response.status_code == 201:
            if at_register:
                s.pos_placed += 1
                s.pos_oversold_units += response.json().get("oversold_units", 0)
            else:
                s.online_placed += 1
        elif response.status_code in (404, 409, 422):
            code = response.json().get("error", {}).get("code", str(response.status_code))
            s.refusal_reasons[code] = s.refusal_reasons.get(code, 0) + 1
            if at_register:
                s.pos_refused += 1
            else:
                s.online_refused += 1
        else:
            s.errors += 1

    async def run(self, duration_s: float, on_progress: Callable[[TrafficSummary, float], None] | None = None
                  ) -> TrafficSummary:
        if duration_s <= 0:
            raise ValueError("duration_s must be positive")
        client = self._client or httpx.AsyncClient(timeout=30)
        try:
            await self._load_catalog(client)
            semaphore = asyncio.Semaphore(self.concurrency)
            tasks: set[asyncio.Task] = set()
            start = time.monotonic()
            total = int(duration_s * self.rate_per_s)
            for index in range(total):
                due = start + index / self.rate_per_s
                delay = due - time.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)
                task = asyncio.create_task(self._one_sale(client, semaphore))
                tasks.add(task)
                task.add_done_callback(tasks.discard)
                if on_progress:
                    self.summary.elapsed_s = time.monotonic() - start
                    on_progress(self.summary, min(1.0, (index + 1) / total))
            if tasks:
                await asyncio.gather(*tasks)
            self.summary.elapsed_s = max(time.monotonic() - start, duration_s if total else 0.0)
            return self.summary
        finally:
            if self._client is None:
                await client.aclose()
