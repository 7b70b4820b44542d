"""A seeded shop: locations (POS stores and warehouses), products, variants, stock.

Same seed, same shop: SKUs, barcodes and starting quantities are drawn from one RNG, so a
failing run can be replayed. Barcodes are valid GTINs (check digit computed: UPC-A, EAN-13 beyond 100,000 items),
SKUs are unique, and the physical shelf starts equal to on hand (the books are right on day one).
Each product has one to three images (media), their number and URLs derived from the
product's position rather than drawn, so adding them left every other seeded value as it was.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from .store import ShopStore

_STORE_CITIES = [
    ("Brooklyn", "New York", "NY", "11201", 40.6928, -73.9903),
    ("Austin", "Texas", "TX", "78701", 30.2672, -97.7431),
    ("Portland", "Oregon", "OR", "97205", 45.5202, -122.6742),
    ("Chicago", "Illinois", "IL", "60607", 41.8757, -87.6517),
    ("Denver", "Colorado", "CO", "80202", 39.7508, -104.9966),
    ("Boston", "Massachusetts", "MA", "02116", 42.3493, -71.0780),
    ("Seattle", "Washington", "WA", "98101", 47.6101, -122.3344),
    ("Miami", "Florida", "FL", "33131", 25.7663, -80.1917),
]
_WAREHOUSE_CITIES = [
    ("Reno", "Nevada", "NV", "89502", 39.5099, -119.7665),
    ("Columbus", "Ohio", "OH", "43217", 39.8164, -82.9374),
    ("Allentown", "Pennsylvania", "PA", "18106", 40.5690, -75.5740),
    ("Memphis", "Tennessee", "TN", "38118", 35.0440, -89.9180),
]
_ADJECTIVES = ["Classic", "Everyday", "Organic", "Merino", "Canvas", "Trail", "Linen", "Heritage", "Rain", "Studio"]
_NOUNS = ["Tee", "Hoodie", "Tote", "Sneaker", "Jacket", "Beanie", "Backpack", "Chino", "Scarf", "Sock"]
_SIZES = ["XS", "S", "M", "L", "XL", "XXL"]
_COLOURS = ["Black", "Navy", "Olive", "Sand", "Red", "White", "Grey", "Teal"]
_VENDORS = ["Northwind Outfitters", "Harbor & Pine", "Atlas Goods"]


UPC_BLOCK = 100_000  # item references under one 6-digit GS1 company prefix (UPC-A: 6 + 5 digits)
_SEED_CHUNK = 5_000  # variants per insert batch while seeding: memory flat in the shop's size


def gs1_check_digit(body: str) -> str:
    """GS1 mod-10 check digit of a GTIN body (UPC-A, EAN-13, ...): from the right, weights 3, 1, 3, ..."""
    if not body or not body.isdigit():
        raise ValueError("a GTIN body is digits only")
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(body)))
    return str((10 - total % 10) % 10)


def upc_a(eleven_digits: str) -> str:
    """Append the UPC-A check digit: 3x odd positions + even positions, to a multiple of 10."""
    if len(eleven_digits) != 11 or not eleven_digits.isdigit():
        raise ValueError("UPC-A needs 11 digits before the check digit")
    return eleven_digits + gs1_check_digit(eleven_digits)


def ean_13(twelve_digits: str) -> str:
    if len(twelve_digits) != 12 or not twelve_digits.isdigit():
        raise ValueError("EAN-13 needs 12 digits before the check digit")
    return twelve_digits + gs1_check_digit(twelve_digits)


def is_valid_upc_a(code: str) -> bool:
    return len(code) == 12 and code.isdigit() and upc_a(code[:11]) == code


def is_valid_gtin(code: str) -> bool:
    """A UPC-A (12 digits) or EAN-13 (13) whose check digit is right."""
    return len(code) in (12, 13) and code.isdigit() and gs1_check_digit(code[:-1]) == code[-1]


def shop_barcode(company_prefix: str, item_ref: int) -> str:
    """The barcode of the shop's `item_ref`-th item (1-based), unique across the shop.

    A 6-digit UPC company prefix numbers 100,000 items; a shop with more has more prefixes,
    as large retailers do, and its later ranges are EAN-13 under GS1 Germany's 40 (a
    5-digit company number derived from the first prefix, one per range), so a small shop's
    barcodes are the UPC-As they always were.
    """
    block, ref = divmod(item_ref, UPC_BLOCK)
    if block == 0:
        return upc_a(company_prefix + f"{ref:05d}")
    return ean_13("40" + f"{(int(company_prefix) + block) % 100_000:05d}" + f"{ref:05d}")


@dataclass(frozen=True)
class CatalogSize:
    products: int
    variants_per_product: int
    stores: int
    warehouses: int
    initial_stock_max: int


class _Rows:
    """Rows per table, written with executemany once a batch is full."""

    def __init__(self, conn, statements: dict[str, str]) -> None:
        self.conn = conn
        self.statements = statements
        self.rows: dict[str, list[tuple]] = {name: [] for name in statements}

    def add(self, table: str, row: tuple) -> None:
        self.rows[table].append(row)

    def flush(self) -> None:
        for table, rows in self.rows.items():
            if rows:
                self.conn.executemany(self.statements[table], rows)
                rows.clear()


_SEED_INSERTS = {
    "products": "INSERT INTO products(id, title, handle, vendor, product_type, status, tags, created_at, updated_at)"
                " VALUES (?,?,?,?,?,?,?,?,?)",
    "product_media": "INSERT INTO product_media(id, product_id, position, url, alt, width, height, created_at,"
                     " updated_at) VALUES (?,?,?,?,?,?,?,?,?)",
    "variants": "INSERT INTO variants(id, product_id, title, sku, barcode, price, position, inventory_policy,"
                " inventory_item_id, created_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
    "inventory_items": "INSERT INTO inventory_items(id, variant_id, sku, created_at, updated_at) VALUES (?,?,?,?,?)",
    "inventory_levels": "INSERT INTO inventory_levels(inventory_item_id, location_id, available, created_at, updated_at)"
                        " VALUES (?,?,?,?,?)",
    "physical_shelf": "INSERT INTO physical_shelf(inventory_item_id, location_id, quantity, updated_at) VALUES (?,?,?,?)",
}


def seed_shop(store: ShopStore, seed: int, size: CatalogSize, now_iso: str) -> None:
    """Fill an empty store with a reproducible shop.

    Ids are taken a range at a time and rows written in batches (executemany), so seeding
    100,000 products costs time and memory in proportion to the shop, nothing more."""
    rng = random.Random(seed)
    with store.tx() as conn:
        location_ids: list[int] = []
        for index in range(size.stores):
            city, province, code, zip_code, lat, lng = _STORE_CITIES[index % len(_STORE_CITIES)]
            location_ids.append(
                _insert_location(store, conn, f"{city} Store" + (f" {index // len(_STORE_CITIES) + 1}" if index >= len(_STORE_CITIES) else ""),
                                 "store", city, province, code, zip_code, lat, lng, now_iso)
            )
        for index in range(size.warehouses):
            city, province, code, zip_code, lat, lng = _WAREHOUSE_CITIES[index % len(_WAREHOUSE_CITIES)]
            location_ids.append(
                _insert_location(store, conn, f"{city} Warehouse" + (f" {index // len(_WAREHOUSE_CITIES) + 1}" if index >= len(_WAREHOUSE_CITIES) else ""),
                                 "warehouse", city, province, code, zip_code, lat, lng, now_iso)
            )
        company_prefix = f"{rng.randrange(10**5, 10**6):06d}"
        variants = size.products * size.variants_per_product
        next_product = store.take_ids("Product", size.products)
        next_variant = store.take_ids("ProductVariant", variants)
        next_item = store.take_ids("InventoryItem", variants)
        next_media = store.take_ids("MediaImage", sum(_image_count(p) for p in range(size.products)))
        rows = _Rows(conn, _SEED_INSERTS)
        item_ref = 0
        for p in range(size.products):
            title = f"{rng.choice(_ADJECTIVES)} {rng.choice(_NOUNS)} {p + 1}"
            product_id = next_product()
            rows.add("products", (product_id, title, title.lower().replace(" ", "-"), rng.choice(_VENDORS),
                                  title.split()[1], "ACTIVE", "sandbox", now_iso, now_iso))
            for row in _image_rows(next_media, product_id, title, p, now_iso):
                rows.add("product_media", row)
            price = f"{rng.randrange(900, 15000) / 100:.2f}"
            colour = rng.choice(_COLOURS)
            for v in range(size.variants_per_product):
                size_name = _SIZES[v % len(_SIZES)]
                item_ref += 1
                sku = f"SB-{p + 1:05d}-{size_name}" + (f"-{v // len(_SIZES)}" if v >= len(_SIZES) else "")
                variant_id, item_id = next_variant(), next_item()
                rows.add("variants", (variant_id, product_id, f"{size_name} / {colour}", sku,
                                      shop_barcode(company_prefix, item_ref), price, v + 1, "DENY", item_id,
                                      now_iso, now_iso))
                rows.add("inventory_items", (item_id, variant_id, sku, now_iso, now_iso))
                for location_id in location_ids:
                    quantity = rng.randrange(0, size.initial_stock_max + 1)
                    rows.add("inventory_levels", (item_id, location_id, quantity, now_iso, now_iso))
                    rows.add("physical_shelf", (item_id, location_id, quantity, now_iso))
                if item_ref % _SEED_CHUNK == 0:
                    rows.flush()
        rows.flush()
        conn.execute("INSERT OR REPLACE INTO meta(key, value) VALUES ('seeded_at', ?)", (now_iso,))
        conn.execute("INSERT OR REPLACE INTO meta(key, value) VALUES ('seed', ?)", (str(seed),))


def create_product(store: ShopStore, conn, *, title: str, variants: list[dict], image_url: str | None,
                   now_iso: str) -> int:
    """The merchant adds a product in admin: its variants stocked at 0 at every location
    (Shopify creates a level per active location for a tracked item)."""
    product_id = store.next_id("Product")
    handle = title.lower().replace(" ", "-")
    if conn.execute("SELECT 1 FROM products WHERE handle = ?", (handle,)).fetchone():
        handle = f"{handle}-{product_id}"  # Shopify suffixes a taken handle
    conn.execute("INSERT INTO products(id, title, handle, vendor, product_type, status, tags, created_at, updated_at)"
                 " VALUES (?,?,?,?,?,?,?,?,?)",
                 (product_id, title, handle, "Sandbox", "", "ACTIVE", "", now_iso, now_iso))
    if image_url:
        conn.execute("INSERT INTO product_media(id, product_id, position, url, alt, width, height, created_at, updated_at)"
                     " VALUES (?,?,?,?,?,?,?,?,?)",
                     (store.next_id("MediaImage"), product_id, 1, image_url, title, 1200, 1200, now_iso, now_iso))
    locations = [r[0] for r in conn.execute("SELECT id FROM locations WHERE active = 1 ORDER BY id")]
    for position, v in enumerate(variants, start=1):
        variant_id, item_id = store.next_id("ProductVariant"), store.next_id("InventoryItem")
        conn.execute("INSERT INTO variants(id, product_id, title, sku, barcode, price, position, inventory_policy,"
                     " inventory_item_id, created_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                     (variant_id, product_id, v.get("title") or "Default Title", v.get("sku"), v.get("barcode"),
                      "10.00", position, "DENY", item_id, now_iso, now_iso))
        conn.execute("INSERT INTO inventory_items(id, variant_id, sku, created_at, updated_at) VALUES (?,?,?,?,?)",
                     (item_id, variant_id, v.get("sku"), now_iso, now_iso))
        for location_id in locations:
            conn.execute("INSERT INTO inventory_levels(inventory_item_id, location_id, available, created_at, updated_at)"
                         " VALUES (?,?,?,?,?)", (item_id, location_id, 0, now_iso, now_iso))
            conn.execute("INSERT INTO physical_shelf(inventory_item_id, location_id, quantity, updated_at) VALUES (?,?,?,?)",
                         (item_id, location_id, 0, now_iso))
    return product_id


def _image_count(index: int) -> int:
    return 1 + index % 3


def _image_rows(next_media, product_id: int, title: str, index: int, now_iso: str) -> list[tuple]:
    handle = title.lower().replace(" ", "-")
    return [(next_media(), product_id, position,
             f"https://cdn.shopify.com/s/files/1/0600/0000/files/{handle}-{position}.jpg", f"{title}, view {position}",
             1200, 1200, now_iso, now_iso) for position in range(1, 1 + _image_count(index))]


def _insert_location(store, conn, name, kind, city, province, code, zip_code, lat, lng, now_iso) -> int:
    location_id = store.next_id("Location")
    conn.execute(
        "INSERT INTO locations(id, name, kind, pos, fulfills_online_orders, address1, city, province, province_code,"
        " country, country_code, zip, phone, latitude, longitude, created_at, updated_at)"
        " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
        (location_id, name, kind, 1 if kind == "store" else 0, 1, f"{100 + location_id % 800} Main Street", city,
         province, code, "United States", "US", zip_code, "+1 555 0100", lat, lng, now_iso, now_iso),
    )
    return location_id

