"""Finding a SKU the way people name it: its SKU, the barcode on the box (UPC/EAN/GTIN),
or words of its title. Store associates type or scan a code; operators type words.

A code is looked up exactly first (SKU, then barcode: a UPC-A's 12 digits are stored as
the 14-digit GTIN, so both spellings find it); words match the variant's or the product's
title, case-insensitively. Every query is bounded (`limit`), none scans more than the
title match needs.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from omnihub.adapters.db import tables as t
from omnihub.domain.limits import SKU_LENGTH

#: what the search box accepts (longer text is no SKU, barcode or title anyone types)
QUERY_LENGTH = 200


@dataclass(frozen=True, slots=True)
class SkuHit:
    sku: str
    title: str
    gtin: str | None
    matched: str  # sku | barcode | title


def _barcodes(code: str) -> list[str]:
    """The spellings a barcode may be stored under: a GTIN is the same number whatever
    zeros lead it, so a UPC-A (12 digits) scanned as an EAN-13 (a 0 before it) or typed
    as a GTIN-14 finds the same SKU."""
    digits = code.strip()
    if not digits.isdigit() or not 8 <= len(digits) <= 14:
        return []
    core = digits.lstrip("0")
    return list(dict.fromkeys([digits, *(core.zfill(n) for n in (8, 12, 13, 14) if len(core) <= n)]))


def _select():
    v, p = t.variants, t.products
    return (sa.select(v.c.sku, v.c.title, v.c.gtin, p.c.title.label("product_title"))
            .select_from(v.join(p, p.c.id == v.c.product_id)))


def _hit(row, matched: str) -> SkuHit:
    title = " / ".join(x for x in (row.product_title, row.title) if x and x != "Default Title")
    return SkuHit(row.sku, title or row.sku, row.gtin, matched)


def find_code(engine: Engine, code: str) -> SkuHit | None:
    """The one SKU a typed or scanned code names (SKU or barcode), or None."""
    code = (code or "").strip()
    if not code or len(code) > SKU_LENGTH or "\x00" in code:
        return None
    v = t.variants
    with engine.connect() as conn:
        row = conn.execute(_select().where(v.c.sku == code)).first()
        if row is not None:
            return _hit(row, "sku")
        if barcodes := _barcodes(code):
            row = conn.execute(_select().where(v.c.gtin.in_(barcodes)).limit(1)).first()
            if row is not None:
                return _hit(row, "barcode")
    return None


def search(engine: Engine, query: str, *, limit: int = 25) -> list[SkuHit]:
    """SKUs for a search box: the exact code first, then titles holding every word."""
    query = (query or "").strip()[:QUERY_LENGTH].replace("\x00", "")
    if not query:
        return []
    exact = find_code(engine, query)
    hits = [exact] if exact else []
    words = [w for w in query.lower().split() if w][:8]
    v, p = t.variants, t.products
    conds = []
    for w in words:
        pattern = "%" + w.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        conds.append(sa.or_(sa.func.lower(v.c.title).like(pattern, escape="\\"),
                            sa.func.lower(p.c.title).like(pattern, escape="\\"),
                            sa.func.lower(v.c.sku).like(pattern, escape="\\")))
    with engine.connect() as conn:
        rows = conn.execute(_select().where(*conds).order_by(v.c.sku).limit(limit)).all()
    seen = {h.sku for h in hits}
    hits += [_hit(r, "title") for r in rows if r.sku not in seen]
    return hits[:limit]
