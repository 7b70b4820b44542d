"""Shopify catalog data → the hub's channel products, from either way of reading it.

- Bulk JSONL (CATALOG_BULK_QUERY): a product line, then its variant and media lines, each
  carrying `__parentId`. Products are handed out one at a time, as soon as the next one
  starts, so memory holds one product, not the file. Should a child come before its
  parent or after another product started (Shopify only promises grouping when asked
  for it), it is kept aside until its parent shows up, or handed out on its own with the
  parent's id: the importer merges it into the product it already made.
- Paged variants (VARIANTS): the fall-back path, grouped by product per page.
- Paged products (PRODUCTS_CHANGED): the small deltas of the product polls.

Every line is validated (pydantic) before the hub believes it; a line that does not fit
is reported, not fatal.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator

from pydantic import BaseModel, Field, ValidationError

Problem = Callable[[str], None]


class ChannelImage(BaseModel):
    id: str | None = None
    url: str
    alt: str | None = None


class ChannelVariant(BaseModel):
    id: str
    sku: str | None = None
    barcode: str | None = None
    title: str = ""
    inventory_item_id: str | None = None


class ChannelProduct(BaseModel):
    """One product as a channel lists it: ids, titles, variants (SKU, barcode), images."""

    id: str
    title: str
    vendor: str | None = None
    product_type: str | None = None
    created_at: str | None = None  # Shopify's own times (ISO, whole seconds): what the product polls' cursors follow
    updated_at: str | None = None
    variants: list[ChannelVariant] = Field(default_factory=list)
    images: list[ChannelImage] = Field(default_factory=list)


class _ProductLine(BaseModel):
    id: str
    title: str
    vendor: str | None = None
    productType: str | None = None
    createdAt: str | None = None
    updatedAt: str | None = None


class _Ref(BaseModel):
    id: str


class _VariantLine(BaseModel):
    id: str
    sku: str | None = None
    barcode: str | None = None
    title: str | None = None
    inventoryItem: _Ref | None = None


class _ImageRef(BaseModel):
    url: str
    altText: str | None = None


class _MediaLine(BaseModel):
    id: str
    mediaContentType: str | None = None
    image: _ImageRef | None = None


def gid_type(gid: str) -> str:
    """`gid://shopify/ProductVariant/1` → 'ProductVariant'."""
    parts = gid.split("/")
    return parts[3] if len(parts) > 4 and gid.startswith("gid://") else ""


def _header(line: dict) -> ChannelProduct:
    p = _ProductLine.model_validate(line)
    return ChannelProduct(id=p.id, title=p.title, vendor=p.vendor, product_type=p.productType, created_at=p.createdAt,
                          updated_at=p.updatedAt)


def _attach(product: ChannelProduct, line: dict) -> None:
    kind = gid_type(line.get("id") or "")
    if kind == "ProductVariant":
        v = _VariantLine.model_validate(line)
        product.variants.append(ChannelVariant(id=v.id, sku=v.sku or None, barcode=v.barcode or None, title=v.title or "",
                                               inventory_item_id=v.inventoryItem.id if v.inventoryItem else None))
    elif kind in ("MediaImage", "Video", "ExternalVideo", "Model3d"):
        m = _MediaLine.model_validate(line)
        if m.image is not None:  # videos and 3D models: not images, nothing to keep
            product.images.append(ChannelImage(id=m.id, url=m.image.url, alt=m.image.altText))


def products_from_bulk_lines(lines: Iterable[dict], problem: Problem) -> Iterator[ChannelProduct]:
    current: ChannelProduct | None = None
    finished: dict[str, ChannelProduct] = {}  # id → header only, for children that come late
    waiting: dict[str, list[dict]] = {}  # children whose parent has not come yet
    for line in lines:
        try:
            parent = line.get("__parentId")
            if parent is None:
                if current is not None:
                    yield current
                    finished[current.id] = current.model_copy(update={"variants": [], "images": []})
                current = _header(line)
                for child in waiting.pop(current.id, ()):
                    _attach(current, child)
            elif current is not None and parent == current.id:
                _attach(current, line)
            elif parent in finished:
                late = finished[parent].model_copy(update={"variants": [], "images": []})
                _attach(late, line)
                yield late
            else:
                waiting.setdefault(parent, []).append(line)
        except ValidationError as exc:
            problem(f"line {line.get('id') or line.get('__parentId')}: not understood ({exc.errors()[0]['msg']})")
    if current is not None:
        yield current
    for parent, children in waiting.items():
        problem(f"{len(children)} line(s) name parent {parent}, which is not in the file")


def products_from_variant_page(nodes: list[dict], problem: Problem) -> list[ChannelProduct]:
    """One page of VARIANTS → products (the featured image stands for the product's images)."""
    by_id: dict[str, ChannelProduct] = {}
    for node in nodes:
        try:
            p = node["product"]
            product = by_id.get(p["id"])
            if product is None:
                product = by_id[p["id"]] = _header(p)
                image = ((((p.get("featuredMedia") or {}).get("preview") or {}).get("image")) or {}).get("url")
                if image:
                    product.images.append(ChannelImage(url=image))
            _attach(product, node)
        except (KeyError, TypeError, ValidationError) as exc:
            problem(f"variant {node.get('id')}: not understood ({exc})")
    return list(by_id.values())


def products_from_product_page(nodes: list[dict], problem: Problem) -> tuple[list[ChannelProduct], bool]:
    """One page of PRODUCTS_CHANGED → products, and whether any product has more variants
    than the page carried (then the delta is read by bulk query, which has no such cap)."""
    products, truncated = [], False
    for node in nodes:
        try:
            product = _header(node)
            image = ((((node.get("featuredMedia") or {}).get("preview") or {}).get("image")) or {}).get("url")
            if image:
                product.images.append(ChannelImage(url=image))
            variants = node.get("variants") or {}
            for v in variants.get("nodes") or []:
                _attach(product, v)
            truncated = truncated or bool((variants.get("pageInfo") or {}).get("hasNextPage"))
            products.append(product)
        except (KeyError, TypeError, ValidationError) as exc:
            problem(f"product {node.get('id')}: not understood ({exc})")
    return products, truncated
