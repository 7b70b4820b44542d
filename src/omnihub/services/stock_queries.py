"""Read side of stock: positions, ATP per location and per channel, the explanation of a
figure, and a SKU's ledger history. Every query is bounded by a SKU (≤ one row per
location) or by a page: nothing here reads a whole table."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from omnihub.adapters.db import tables as t
from omnihub.adapters.db.stock_store import positions_by_sku
from omnihub.adapters.db.channel_config import load_config, policies_for, rules_for_sku
from omnihub.domain.atp import ChannelAllocation, explain_channel_atp, location_atp, resolve_policy
from omnihub.domain.channel_projection import TOTAL
from omnihub.domain.ledger import Position
from omnihub.services.catalog import NotFound


@dataclass(slots=True)
class StockQueries:
    engine: Engine

    def _require_sku(self, conn, sku: str) -> None:
        if conn.execute(sa.select(t.variants.c.id).where(t.variants.c.sku == sku)).first() is None:
            raise NotFound(f"unknown SKU {sku!r}", field="sku", code="unknown_sku")

    def positions(self, sku: str) -> dict[str, Position]:
        with self.engine.connect() as conn:
            self._require_sku(conn, sku)
            return positions_by_sku(conn, [sku]).get(sku, {})

    def explain(self, sku: str, channel: str | None = None) -> dict:
        """Why ATP is N: for the online total (channel None) or one channel."""
        with self.engine.connect() as conn:
            self._require_sku(conn, sku)
            cfg = load_config(conn)
            alloc: ChannelAllocation | None = None
            if channel is not None:
                alloc = next((c for c in cfg.channels if c.channel == channel), None)
                if alloc is None:
                    raise NotFound(f"no channel {channel!r}", field="channel", code="not_found")
            pos = positions_by_sku(conn, [sku]).get(sku, {})
            rules = rules_for_sku(policies_for(conn, [sku]), sku)
            q = conn.execute(sa.select(t.sku_demand.c.queued).where(t.sku_demand.c.sku == sku)).scalar() or 0
            return explain_channel_atp(sku, pos, rules, cfg.online, q, alloc, cfg.location_priority).as_dict()

    def explain_every_channel(self, sku: str) -> tuple[dict[str, Position], dict, list[tuple[str, dict]]]:
        """The SKU's positions, the online explanation and each channel's (by code), read
        in one connection: what `positions` and `explain` per channel give, for a page
        that shows them all (the console's SKU page) at a third of the reads."""
        with self.engine.connect() as conn:
            self._require_sku(conn, sku)
            cfg = load_config(conn)
            pos = positions_by_sku(conn, [sku]).get(sku, {})
            rules = rules_for_sku(policies_for(conn, [sku]), sku)
            q = conn.execute(sa.select(t.sku_demand.c.queued).where(t.sku_demand.c.sku == sku)).scalar() or 0
        online = explain_channel_atp(sku, pos, rules, cfg.online, q, None, cfg.location_priority).as_dict()
        per_channel = [(c.channel, explain_channel_atp(sku, pos, rules, cfg.online, q, c, cfg.location_priority).as_dict())
                       for c in cfg.channels]
        return pos, online, per_channel

    def atp(self, skus: list[str], channel: str | None = None) -> list[dict]:
        """ATP for many SKUs at once: per location and total (online or for a channel)."""
        out = []
        with self.engine.connect() as conn:
            known = set(conn.execute(sa.select(t.variants.c.sku).where(t.variants.c.sku.in_(skus))).scalars())
            unknown = [s for s in skus if s not in known]
            if unknown:
                raise NotFound(f"unknown SKU(s): {', '.join(unknown[:10])}", field="skus", code="unknown_sku")
            cfg = load_config(conn)
            alloc = None
            if channel is not None:
                alloc = next((c for c in cfg.channels if c.channel == channel), None)
                if alloc is None:
                    raise NotFound(f"no channel {channel!r}", field="channel", code="not_found")
            positions = positions_by_sku(conn, skus)
            policies = policies_for(conn, skus)
            d = t.sku_demand
            queued = {r.sku: r.queued for r in conn.execute(sa.select(d).where(d.c.sku.in_(skus)))}
            for sku in skus:
                rules = rules_for_sku(policies, sku)
                by_loc = positions.get(sku, {})
                exp = explain_channel_atp(sku, by_loc, rules, cfg.online, queued.get(sku, 0), alloc)
                per_loc = {
                    loc: location_atp(p, resolve_policy(rules, channel, sku, loc), online_selling=cfg.online.get(loc, True))
                    for loc, p in by_loc.items()
                }
                out.append({"sku": sku, "channel": channel, "atp": exp.atp, "brokering_queue": exp.brokering_queue,
                            "locations": per_loc})
        return out

    def channel_availability(self, channel: str, skus: list[str]) -> list[dict]:
        """What the maintained projection says a channel should show (the sync engine's
        source)."""
        ca = t.channel_availability
        with self.engine.connect() as conn:
            rows = conn.execute(
                sa.select(ca).where(ca.c.channel == channel, ca.c.sku.in_(skus)).order_by(ca.c.sku, ca.c.location)
            ).mappings()
            out: dict[str, dict] = {s: {"sku": s, "channel": channel, "quantity": 0, "locations": {}} for s in skus}
            for r in rows:
                if r["location"] == TOTAL:
                    out[r["sku"]]["quantity"] = r["quantity"]
                else:
                    out[r["sku"]]["locations"][r["location"]] = r["quantity"]
        return list(out.values())

    def history(self, sku: str, *, after_id: int = 0, limit: int = 100) -> list[dict]:
        m = t.movements
        with self.engine.connect() as conn:
            self._require_sku(conn, sku)
            rows = conn.execute(
                sa.select(m).where(m.c.sku == sku, m.c.id > after_id).order_by(m.c.id).limit(limit)
            ).mappings()
            return [dict(r) for r in rows]

    def oversells(self, *, after_id: int = 0, limit: int = 100) -> list[dict]:
        o = t.oversell_incidents
        with self.engine.connect() as conn:
            return [dict(r) for r in conn.execute(sa.select(o).where(o.c.id > after_id).order_by(o.c.id).limit(limit)).mappings()]
