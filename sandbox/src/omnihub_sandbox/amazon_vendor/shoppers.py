"""Amazon's shoppers buying what a vendor ships itself, at a steady rate, over HTTP.

They buy what Amazon shows as in stock: each shopper picks an item weighted by the units
Amazon holds as sellable across the vendor's warehouses (read from ``/_sandbox/stock``,
refreshed as they go) and checks out through ``POST /_sandbox/orders``; Amazon routes the
basket to a warehouse that has it or refuses it (sold out). When nothing is in stock they
keep coming and are refused, as shoppers find "currently unavailable". What they bought
that the vendor had not declared is counted by the sandbox itself (``/_sandbox/oversells``).
This is the Vendor half of ``omnihub sandbox traffic``.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import httpx


@dataclass
class ShopperCounts:
    placed: int = 0
    refused: int = 0
    errors: int = 0
    units: int = 0
    oversold_units: int = 0

    def as_dict(self) -> dict[str, int]:
        return {"placed": self.placed, "refused": self.refused, "errors": self.errors, "units": self.units,
                "oversold_units": self.oversold_units}


@dataclass
class VendorShoppers:
    """Shoppers at `rate_per_s` against the Vendor sandbox at `base_url`."""

    base_url: str
    rate_per_s: float
    seed: int = 7
    refresh_seconds: float = 1.0
    counts: ShopperCounts = field(default_factory=ShopperCounts)

    def __post_init__(self) -> None:
        self._rng = random.Random(f"amazon-vendor-shoppers:{self.seed}")
        self._weights: dict[str, int] = {}
        self._catalog: list[str] = []
        self._read_at = 0.0

    async def _read_stock(self, client: httpx.AsyncClient) -> None:
        warehouses = (await client.get(f"{self.base_url}/_sandbox/stock")).json()["warehouses"]
        weights: dict[str, int] = {}
        for items in warehouses.values():
            for sku, row in items.items():
                weights[sku] = weights.get(sku, 0) + max(0, row["sellable"])
        self._catalog = sorted(weights)
        self._weights = {sku: n for sku, n in weights.items() if n > 0}
        self._read_at = time.monotonic()

    def _basket(self) -> dict | None:
        if self._weights:
            skus = list(self._weights)
            sku = self._rng.choices(skus, weights=[self._weights[s] for s in skus])[0]
        elif self._catalog:
            sku = self._rng.choice(self._catalog)  # nothing shows in stock: the shopper is refused
        else:
            return None
        quantity = 2 if self._rng.random() < 0.1 else 1
        return {"lines": [{"sku": sku, "quantity": quantity}]}

    async def _shop(self, client: httpx.AsyncClient) -> None:
        basket = self._basket()
        if basket is None:
            self.counts.errors += 1
            return
        try:
            answer = await client.post(f"{self.base_url}/_sandbox/orders", json=basket)
        except httpx.HTTPError:
            self.counts.errors += 1
            return
        if answer.status_code == 201:
            self.counts.placed += 1
            self.counts.units += basket["lines"][0]["quantity"]
            self.counts.oversold_units += answer.json().get("oversold_units", 0)
            sku = basket["lines"][0]["sku"]
            if sku in self._weights:  # what it took is no longer there, until the next read says otherwise
                self._weights[sku] -= basket["lines"][0]["quantity"]
                if self._weights[sku] <= 0:
                    del self._weights[sku]
        elif answer.status_code == 409:
            self.counts.refused += 1
            self._weights.pop(basket["lines"][0]["sku"], None)
        else:
            self.counts.errors += 1

    async def run(self, duration: float, on_progress: Callable[[float], None] | None = None) -> ShopperCounts:
        """Send shoppers for `duration` seconds; `on_progress(done)` gets the share done (0-1)."""
        self.base_url = self.base_url.rstrip("/")
        total = int(self.rate_per_s * duration)
        async with httpx.AsyncClient(timeout=30) as client:
            await self._read_stock(client)
            start = time.monotonic()
            pending: set[asyncio.Task] = set()
            for index in range(total):
                delay = start + index / self.rate_per_s - time.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)
                if time.monotonic() - self._read_at >= self.refresh_seconds:
                    await self._read_stock(client)
                job = asyncio.create_task(self._shop(client))
                pending.add(job)
                job.add_done_callback(pending.discard)
                if on_progress and total:
                    on_progress((index + 1) / total)
            if pending:
                await asyncio.gather(*pending)
        return self.counts
