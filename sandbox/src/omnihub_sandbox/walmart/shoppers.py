"""Walmart.com's shoppers for ``omnihub sandbox traffic``: checkouts at a steady rate over HTTP.

Like the other channels' shoppers they ignore what the hub believes: they pick SKUs from
the sandbox's catalog and check out through the control plane; Walmart refuses a basket
no ship node can fill from the stock it was last told. Draws come from a seeded RNG so a
run can be repeated; the counts are the shoppers' own, and the oversold units are
Walmart's (``/_sandbox/oversells``).
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Callable
from dataclasses import dataclass

import httpx


@dataclass
class ShopperCounts:
    placed: int = 0
    refused: int = 0
    errors: int = 0


class WalmartShoppers:
    def __init__(self, base_url: str, *, rate_per_s: float, seed: int = 7, max_lines: int = 2, max_quantity: int = 2,
                 concurrency: int = 16) -> None:
        if not 0 < rate_per_s <= 10_000:
            raise ValueError("rate_per_s must be in (0, 10000]")
        self.base_url = base_url.rstrip("/")
        self.rate_per_s = rate_per_s
        self.rng = random.Random(f"walmart-shoppers:{seed}")
        self.max_lines, self.max_quantity = max_lines, max_quantity
        self.concurrency = concurrency
        self.counts = ShopperCounts()

    def _basket(self, skus: list[str]) -> dict[str, object]:
        chosen = self.rng.sample(skus, self.rng.randint(1, min(self.max_lines, len(skus))))
        return {"lines": [{"sku": sku, "quantity": self.rng.randint(1, self.max_quantity)} for sku in chosen]}

    async def run(self, duration_s: float, on_progress: Callable[[float], None] | None = None) -> ShopperCounts:
        async with httpx.AsyncClient(timeout=30, trust_env=False) as client:
            catalog = (await client.get(self.base_url + "/_sandbox/catalog")).raise_for_status().json()
            skus = [item["sku"] for item in catalog["items"]]
            if not skus:
                self.counts.errors += 1
                return self.counts
            semaphore = asyncio.Semaphore(self.concurrency)
            pending: set[asyncio.Task[None]] = set()

            async def checkout(basket: dict[str, object]) -> None:
                async with semaphore:
                    try:
                        answer = await client.post(self.base_url + "/_sandbox/orders", json=basket)
                    except httpx.HTTPError:
                        self.counts.errors += 1
                        return
                if answer.status_code == 201:
                    self.counts.placed += 1
                elif answer.status_code == 409:
                    self.counts.refused += 1
                else:
                    self.counts.errors += 1

            start = time.monotonic()
            total = max(1, int(self.rate_per_s * duration_s))
            for index in range(total):
                delay = start + index / self.rate_per_s - time.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)
                task = asyncio.create_task(checkout(self._basket(skus)))
                pending.add(task)
                task.add_done_callback(pending.discard)
                if on_progress:
                    on_progress((index + 1) / total)
            if pending:
                await asyncio.gather(*pending)
        return self.counts
