"""A seeded catalog of items with stock at the seller's ship nodes.

The same seed always gives the same SKUs, names, prices and quantities, so a demo or a
test can name SKUs it knows exist. Each item is stocked at every ship node.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

_PRODUCTS = [
    ("Stainless Steel Water Bottle 24oz", 1899),
    ("Cotton Bath Towel Set", 2999),
    ("LED Desk Lamp", 3499),
    ("Nonstick Frying Pan 12in", 2799),
    ("Kids Rain Boots", 2499),
    ("Camping Folding Chair", 3999),
    ("Bluetooth Speaker", 4999),
    ("Yoga Block Pair", 1499),
    ("Ceramic Coffee Mug", 999),
    ("Memory Foam Pillow", 3299),
]
_VARIANTS = ["Black", "Blue", "Green", "Grey", "Red", "White", "Small", "Medium", "Large"]


@dataclass(frozen=True)
class CatalogItem:
    sku: str
    product_name: str
    price_cents: int
    quantities: dict[str, int]  # ship node -> units


def generate_catalog(seed: int, size: int, max_quantity: int, nodes: list[str]) -> list[CatalogItem]:
    rng = random.Random(f"walmart-catalog:{seed}")
    items: list[CatalogItem] = []
    for n in range(1, size + 1):
        name, price = _PRODUCTS[rng.randrange(len(_PRODUCTS))]
        variant = _VARIANTS[rng.randrange(len(_VARIANTS))]
        items.append(CatalogItem(sku=f"WM-{n:05d}", product_name=f"{name}, {variant}",
                                 price_cents=price + rng.randrange(0, 500, 50),
                                 quantities={node: rng.randint(0, max_quantity) for node in nodes}))
    return items
