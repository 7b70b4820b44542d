"""A seeded catalog of products, so every Amazon simulator starts with a believable seller
or vendor.

The same seed always yields the same SKUs, ASINs, titles, prices and quantities, which
lets a demo script or a test name SKUs it knows will exist.
"""

from __future__ import annotations

import random
import string
from dataclasses import dataclass

_PRODUCTS = [
    ("LUGGAGE", "Hardside Carry-On Spinner Suitcase", 8999),
    ("SHOES", "Trail Running Shoe", 6499),
    ("SHIRT", "Organic Cotton Crew T-Shirt", 1999),
    ("KITCHEN", "Cast Iron Skillet 10 inch", 3499),
    ("HOME", "Linen Throw Pillow Cover", 1599),
    ("TOYS_AND_GAMES", "Wooden Building Blocks Set", 2999),
    ("SPORTING_GOODS", "Yoga Mat 6mm", 2799),
    ("BACKPACK", "Waterproof Daypack 22L", 4599),
    ("WATCH", "Solar Field Watch", 12999),
    ("HEADPHONES", "Wireless Over-Ear Headphones", 7999),
]
_VARIANTS = ["Black", "Navy", "Olive", "Sand", "Red", "Grey", "Small", "Medium", "Large", "XL"]


@dataclass(frozen=True)
class CatalogListing:
    sku: str
    asin: str
    product_type: str
    item_name: str
    price_cents: int
    quantity: int


def generate_catalog(seed: int, size: int, max_quantity: int, prefix: str = "AMZ") -> list[CatalogListing]:
    """`size` products; `prefix` starts each SKU (the Seller's ``AMZ-``, the Vendor's own).

    The Seller's catalog keeps the stream it always had (same seed, same products).
    """
    rng = random.Random(f"amazon-catalog:{seed}" if prefix == "AMZ" else f"amazon-catalog:{prefix}:{seed}")
    listings: list[CatalogListing] = []
    seen_asins: set[str] = set()
    for n in range(1, size + 1):
        product_type, title, price = _PRODUCTS[rng.randrange(len(_PRODUCTS))]
        variant = _VARIANTS[rng.randrange(len(_VARIANTS))]
        while True:
            asin = "B0" + "".join(rng.choice(string.ascii_uppercase + string.digits) for _ in range(8))
            if asin not in seen_asins:
                seen_asins.add(asin)
                break
        listings.append(
            CatalogListing(
                sku=f"{prefix}-{product_type[:4]}-{n:05d}",
                asin=asin,
                product_type=product_type,
                item_name=f"{title}, {variant}",
                price_cents=price + rng.randrange(0, 1000, 100),
                quantity=rng.randint(0, max_quantity),
            )
        )
    return listings


def asin_for(seed: int, sku: str) -> str:
    """A stable ASIN for a SKU created later (by a feed UPDATE or the control API)."""
    rng = random.Random(f"amazon-asin:{seed}:{sku}")
    return "B0" + "".join(rng.choice(string.ascii_uppercase + string.digits) for _ in range(8))
