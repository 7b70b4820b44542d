"""The channel and location settings the stock writer needs on every batch, cached per
process and reloaded when `config_version` moves (any rule change bumps it)."""

from __future__ import annotations

from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from omnihub.adapters.db import tables as t
from omnihub.adapters.db.bulk_sql import driver_rows
from omnihub.domain.atp import ChannelAllocation, FeedMode, PolicyRule
from omnihub.domain.catalog import Capability, GeoPoint, Location, LocationKind


@dataclass(slots=True)
class StockConfig:
    version: int = -1
    channels: list[ChannelAllocation] = field(default_factory=list)
    online: dict[str, bool] = field(default_factory=dict)  # location code → sells online
    location_priority: dict[str, int] = field(default_factory=dict)
    locations: dict[int, Location] = field(default_factory=dict)  # by id, for routing
    code_of: dict[int, str] = field(default_factory=dict)
    id_of: dict[str, int] = field(default_factory=dict)
    #: SKUs the stock writer has seen in the catalog. Variants are never deleted, so a SKU
    #: once known stays known; the set starts afresh with each config version (a wiped
    #: database restarts the version), and saves a catalog read per batch.
    known_skus: set[str] = field(default_factory=set)
    #: whether any safety-stock/threshold rule exists (most hubs start with none): if not,
    #: the hot path skips reading them for each batch
    has_policies: bool = True


def current_version(conn: Connection) -> int:
    """Read by every writer batch: on the driver's own cursor (see bulk_sql.driver_rows)."""
    rows = driver_rows(conn, "SELECT version FROM config_version WHERE id = 1", ())
    return int(rows[0][0] or 0) if rows else 0


def bump_version(conn: Connection) -> None:
    """Call inside the transaction that changes channels, feeds, policies or locations."""
    updated = conn.execute(
        t.config_version.update().where(t.config_version.c.id == 1).values(version=t.config_version.c.version + 1)
    ).rowcount
    if not updated:
        conn.execute(t.config_version.insert().values(id=1, version=1))


def load_config(conn: Connection) -> StockConfig:
    cfg = StockConfig(version=current_version(conn))
    cfg.has_policies = conn.execute(sa.select(t.stock_policies.c.id).limit(1)).first() is not None
    feeds: dict[str, dict[str, FeedMode]] = {}
    for row in conn.execute(sa.select(t.channel_feeds)):
        feeds.setdefault(row.channel, {})[row.location] = FeedMode(row.mode)
    for row in conn.execute(sa.select(t.channels).order_by(t.channels.c.code)):
        cfg.channels.append(
            ChannelAllocation(
                channel=row.code,
                feeds=feeds.get(row.code, {}),
                share_pct=row.share_pct,
                fixed=row.fixed_allocation,
                buffer=row.buffer,
                per_location=row.per_location,
            )
        )
    for row in conn.execute(sa.select(t.locations)):
        cfg.online[row.code] = bool(row.online_selling)
        cfg.location_priority[row.code] = row.priority
        cfg.locations[row.id] = location_from_row(row)
        cfg.code_of[row.id] = row.code
        cfg.id_of[row.code] = row.id
    return cfg


def location_from_row(row) -> Location:
    return Location(
        id=row.id,
        code=row.code,
        name=row.name,
        kind=LocationKind(row.kind),
        geo=GeoPoint(row.lat, row.lng) if row.lat is not None and row.lng is not None else None,
        capabilities=frozenset(Capability(c) for c in row.capabilities),
        priority=row.priority,
        cost_per_shipment_minor=row.cost_per_shipment_minor,
        daily_order_capacity=row.daily_order_capacity,
        time_zone=row.time_zone,
        online_selling=bool(row.online_selling),
        processing_hours=row.processing_hours,
        cutoff_local=row.cutoff_local,
        groups=frozenset(row.groups),
    )


class ConfigCache:
    def __init__(self) -> None:
        self._cfg = StockConfig()

    def get(self, conn: Connection) -> StockConfig:
        if current_version(conn) != self._cfg.version:
            self._cfg = load_config(conn)
        return self._cfg


def policies_for(conn: Connection, skus: list[str], cfg: StockConfig | None = None) -> dict[str | None, list[PolicyRule]]:
    """Policy rules that can apply to these SKUs, grouped by SKU (None = any SKU). With the
    config of the same transaction, nothing is read when it knows there are none."""
    if cfg is not None and not cfg.has_policies:
        return {}
    p = t.stock_policies
    rows = conn.execute(
        sa.select(p.c.channel, p.c.sku, p.c.location, p.c.safety_stock, p.c.threshold).where(
            sa.or_(p.c.sku.is_(None), p.c.sku.in_(skus))
        )
    )
    out: dict[str | None, list[PolicyRule]] = {}
    for r in rows:
        out.setdefault(r.sku, []).append(
            PolicyRule(channel=r.channel, sku=r.sku, location=r.location, safety_stock=r.safety_stock, threshold=r.threshold)
        )
    return out


def rules_for_sku(policies: dict[str | None, list[PolicyRule]], sku: str) -> list[PolicyRule]:
    return policies.get(None, []) + policies.get(sku, [])
