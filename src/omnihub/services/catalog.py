"""Catalog and configuration use cases: locations, products and variants, channels and
what feeds them, safety stock and threshold rules, channel listings.

Every change that can alter what a channel may sell bumps the configuration version (so
every process's stock writer reloads it) and recomputes the channel projection.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from omnihub.adapters.db import tables as t
from omnihub.adapters.db.channel_config import bump_version
from omnihub.adapters.db.projection_rebuild import rebuild_all
from omnihub.domain.atp import FeedMode
from omnihub.domain.catalog import Capability, LocationKind, validate_gtin
from omnihub.domain.ledger import LedgerError
from omnihub.services.audit_trail import note_change, recording


class Conflict(LedgerError):
    """A uniqueness rule was broken (HTTP 409)."""


class NotFound(LedgerError):
    """The thing asked for does not exist (HTTP 404)."""


@dataclass(slots=True)
class CatalogService:
    engine: Engine

    # -- locations -------------------------------------------------------------------------
    def create_location(self, data: dict) -> dict:
        data = dict(data)
        LocationKind(data["kind"])
        data["capabilities"] = sorted({Capability(c).value for c in data.get("capabilities", [])})
        data["groups"] = sorted(set(data.get("groups", [])))
        with self.engine.begin() as conn:
            try:
                conn.execute(t.locations.insert().values(**data))
            except IntegrityError as exc:
                raise Conflict(f"location {data['code']!r} already exists", field="code", code="duplicate") from exc
            bump_version(conn)
        return self.get_location(data["code"])

    def update_location(self, code: str, changes: dict) -> dict:
        changes = {k: v for k, v in changes.items() if v is not None}
        if not changes:  # an empty patch changes nothing (and `UPDATE ... SET` with nothing is no SQL)
            return self.get_location(code)
        if "capabilities" in changes:
            changes["capabilities"] = sorted({Capability(c).value for c in changes["capabilities"]})
        before = self.get_location(code) if recording() else None  # the audit trail's before and after
        with self.engine.begin() as conn:
            n = conn.execute(t.locations.update().where(t.locations.c.code == code).values(**changes)).rowcount
            if not n:
                raise NotFound(f"no location {code!r}", field="code", code="not_found")
            bump_version(conn)
        if "online_selling" in changes:
            rebuild_all(self.engine)
        after = self.get_location(code)
        if before is not None:
            note_change(target=f"location={code}", before={k: before.get(k) for k in changes},
                        after={k: after.get(k) for k in changes})
        return after

    def get_location(self, code: str) -> dict:
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(t.locations).where(t.locations.c.code == code)).mappings().first()
        if row is None:
            raise NotFound(f"no location {code!r}", field="code", code="not_found")
        return dict(row)

    def list_locations(self) -> list[dict]:
        with self.engine.connect() as conn:
            return [dict(r) for r in conn.execute(sa.select(t.locations).order_by(t.locations.c.code)).mappings()]

    # -- products and variants -------------------------------------------------------------
    def create_product(self, title: str, variants: list[dict], **attrs) -> dict:
        if not variants:
            raise LedgerError("a product needs at least one variant", field="variants")
        seen = set()
        for i, v in enumerate(variants):
            if v["sku"] in seen:
                raise LedgerError(f"SKU {v['sku']!r} appears twice", field=f"variants[{i}].sku")
            seen.add(v["sku"])
            if v.get("gtin"):
                try:
                    validate_gtin(v["gtin"])
                except ValueError as exc:
                    raise LedgerError(str(exc), field=f"variants[{i}].gtin", code="invalid_gtin") from exc
        with self.engine.begin() as conn:
            pid = conn.execute(t.products.insert().values(title=title, **attrs).returning(t.products.c.id)).scalar_one()
            try:
                conn.execute(
                    t.variants.insert(),
                    [{"product_id": pid, "sku": v["sku"], "title": v.get("title", ""), "gtin": v.get("gtin")} for v in variants],
                )
            except IntegrityError as exc:
                raise Conflict("a SKU or GTIN of this product already exists", field="variants", code="duplicate") from exc
        return self.get_product(pid)

    def get_product(self, product_id: int) -> dict:
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(t.products).where(t.products.c.id == product_id)).mappings().first()
            if row is None:
                raise NotFound(f"no product {product_id}", field="id", code="not_found")
            vs = conn.execute(
                sa.select(t.variants.c.sku, t.variants.c.title, t.variants.c.gtin)
                .where(t.variants.c.product_id == product_id).order_by(t.variants.c.id)
            ).mappings()
            return {**dict(row), "variants": [dict(v) for v in vs]}

    def list_products(self, *, after_id: int = 0, limit: int = 100) -> list[dict]:
        with self.engine.connect() as conn:
            ids = conn.execute(
                sa.select(t.products.c.id).where(t.products.c.id > after_id).order_by(t.products.c.id).limit(limit)
            ).scalars().all()
        return [self.get_product(i) for i in ids]

    def get_variant(self, sku: str) -> dict:
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(t.variants).where(t.variants.c.sku == sku)).mappings().first()
        if row is None:
            raise NotFound(f"unknown SKU {sku!r}", field="sku", code="unknown_sku")
        return dict(row)

    # -- channels --------------------------------------------------------------------------
    def upsert_channel(self, code: str, *, name: str, kind: str, per_location: bool = False,
                       share_pct: int = 100, fixed_allocation: int | None = None, buffer: int = 0,
                       feeds: dict[str, str] | None = None, rebuild: bool = True) -> dict:
        if not 0 <= share_pct <= 100:
            raise LedgerError("share_pct must be between 0 and 100", field="share_pct")
        if fixed_allocation is not None and fixed_allocation < 0:
            raise LedgerError("fixed_allocation must be ≥ 0", field="fixed_allocation")
        if buffer < 0:
            raise LedgerError("buffer must be ≥ 0", field="buffer")
        values = dict(name=name, kind=kind, per_location=per_location, share_pct=share_pct,
                      fixed_allocation=fixed_allocation, buffer=buffer)
        before = self._channel_or_none(code) if recording() else None
        with self.engine.begin() as conn:
            if conn.execute(t.channels.update().where(t.channels.c.code == code).values(**values)).rowcount == 0:
                conn.execute(t.channels.insert().values(code=code, **values))
            if feeds is not None:
                known = set(conn.execute(sa.select(t.locations.c.code)).scalars())
                for loc, mode in feeds.items():
                    if loc not in known:
                        raise LedgerError(f"unknown location {loc!r}", field=f"feeds.{loc}", code="unknown_location")
                    FeedMode(mode)
                conn.execute(t.channel_feeds.delete().where(t.channel_feeds.c.channel == code))
                if feeds:
                    conn.execute(t.channel_feeds.insert(), [{"channel": code, "location": k, "mode": v} for k, v in feeds.items()])
            bump_version(conn)
        if rebuild:
            rebuild_all(self.engine)
        after = self.get_channel(code)
        if recording():
            note_change(target=f"channel={code}", before=before or {}, after=_settings_of(after))
        return after

    def _channel_or_none(self, code: str) -> dict | None:
        try:
            return _settings_of(self.get_channel(code))
        except NotFound:
            return None

    def get_channel(self, code: str) -> dict:
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(t.channels).where(t.channels.c.code == code)).mappings().first()
            if row is None:
                raise NotFound(f"no channel {code!r}", field="channel", code="not_found")
            feeds = {r.location: r.mode for r in conn.execute(sa.select(t.channel_feeds).where(t.channel_feeds.c.channel == code))}
        return {**dict(row), "feeds": feeds}

    def list_channels(self) -> list[dict]:
        with self.engine.connect() as conn:
            codes = conn.execute(sa.select(t.channels.c.code).order_by(t.channels.c.code)).scalars().all()
        return [self.get_channel(c) for c in codes]

    def set_listing(self, channel: str, sku: str, external_id: str, **ids) -> None:
        with self.engine.begin() as conn:
            conn.execute(t.channel_listings.delete().where(t.channel_listings.c.channel == channel, t.channel_listings.c.sku == sku))
            try:
                conn.execute(t.channel_listings.insert().values(channel=channel, sku=sku, external_id=external_id, **ids))
            except IntegrityError as exc:
                raise Conflict(f"listing {external_id!r} on {channel} is mapped already, or unknown SKU/channel", field="external_id") from exc

    # -- safety stock and threshold --------------------------------------------------------
    def set_policy(self, *, channel: str | None = None, sku: str | None = None, location: str | None = None,
                   safety_stock: int | None = None, threshold: int | None = None, rebuild: bool = True) -> dict:
        for name, v in (("safety_stock", safety_stock), ("threshold", threshold)):
            if v is not None and v < 0:
                raise LedgerError(f"{name} must be ≥ 0", field=name)
        p = t.stock_policies
        scope = [
            (p.c.channel.is_(None) if channel is None else p.c.channel == channel),
            (p.c.sku.is_(None) if sku is None else p.c.sku == sku),
            (p.c.location.is_(None) if location is None else p.c.location == location),
        ]
        with self.engine.begin() as conn:
            if recording():
                was = conn.execute(sa.select(p.c.safety_stock, p.c.threshold).where(*scope)).mappings().first()
                note_change(target=" ".join(f"{k}={v}" for k, v in (("channel", channel), ("sku", sku), ("location", location))
                                            if v is not None) or "all",
                            before=dict(was) if was else {"safety_stock": None, "threshold": None},
                            after={"safety_stock": safety_stock, "threshold": threshold})
            conn.execute(p.delete().where(*scope))
            if safety_stock is not None or threshold is not None:
                conn.execute(p.insert().values(channel=channel, sku=sku, location=location,
                                               safety_stock=safety_stock, threshold=threshold))
            bump_version(conn)
        if rebuild:
            rebuild_all(self.engine)
        return {"channel": channel, "sku": sku, "location": location, "safety_stock": safety_stock, "threshold": threshold}

    def list_policies(self) -> list[dict]:
        with self.engine.connect() as conn:
            return [dict(r) for r in conn.execute(sa.select(t.stock_policies).order_by(t.stock_policies.c.id)).mappings()]


def _settings_of(channel: dict) -> dict:
    """A channel's allocation settings as the audit trail shows them (not its timestamps)."""
    return {k: channel.get(k) for k in ("name", "kind", "per_location", "share_pct", "fixed_allocation", "buffer", "feeds")}
