"""A rule's effect before it is saved (the console's rules page): the figures the
preview needs, read in one connection and bounded (the last `orders` routed orders, a
few SKUs, their positions and policy rules), then the domain's pure what-if
(domain/rule_preview.py). Nothing is written, and no transaction is opened for writing.

Which SKUs show their ATP before → after: the edited rule's own SKU when it names one;
otherwise the SKUs the recent orders asked for most (those held at the edited rule's
location when it names one), then any SKU stocked there, up to `skus`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import orjson
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from omnihub.adapters.db import tables as t
from omnihub.adapters.db.channel_config import load_config, policies_for, rules_for_sku
from omnihub.adapters.db.order_documents import order_from_doc
from omnihub.adapters.db.stock_store import positions_by_sku
from omnihub.domain.atp import ChannelAllocation, PolicyRule
from omnihub.domain.orders import Order
from omnihub.domain.routing_rules import RoutingRuleSet
from omnihub.domain.rule_preview import AtpChange, RoutingReplay, atp_before_after, replay, with_allocation, with_policy
from omnihub.services.routing_rules_store import RuleStore

RECENT_ORDERS = 100
SKUS_SHOWN = 5


@dataclass(frozen=True)
class RuleEdit:
    """One edit as a form sends it: a policy rule, a channel's allocation, or the whole
    routing rule set."""

    kind: Literal["policy", "channel", "routing"]
    policy: PolicyRule | None = None
    channel: str | None = None
    share_pct: int = 100
    fixed: int | None = None
    buffer: int = 0
    rules: RoutingRuleSet | None = None


@dataclass(frozen=True)
class Preview:
    edit: RuleEdit
    skus: list[str]
    atp: dict[str, list[AtpChange]]  # by SKU: online, then each channel
    replay: RoutingReplay
    code_of: dict[int, str]
    orders_read: int
    rules_version: int
    notes: list[str] = field(default_factory=list)


def _recent_orders(conn: Connection, n: int) -> list[Order]:
    """The newest `n` orders that were routed (a till sale or an order cancelled before
    routing has no decision to compare with), newest first."""
    o, d = t.orders, t.routing_decisions
    rows = conn.execute(
        sa.select(o.c.id, o.c.document)
        .where(o.c.state != "cancelled", sa.exists().where(d.c.order_id == o.c.id))
        .order_by(o.c.id.desc()).limit(n)).all()
    return [order_from_doc(r[1] if isinstance(r[1], dict) else orjson.loads(r[1]), r[0]) for r in rows]


def _skus_shown(conn: Connection, edit: RuleEdit, recent: list[Order], n: int) -> list[str]:
    if edit.policy is not None and edit.policy.sku is not None:
        return [edit.policy.sku]
    location = edit.policy.location if edit.policy is not None else None
    asked: dict[str, int] = {}
    for order in recent:
        for line in order.lines:
            asked[line.sku] = asked.get(line.sku, 0) + line.open_quantity
    ranked = sorted(asked, key=lambda s: (-asked[s], s))
    if location is not None and ranked:
        p = t.positions
        held = set(conn.execute(sa.select(p.c.sku).where(p.c.location == location, p.c.sku.in_(ranked))).scalars())
        ranked = [s for s in ranked if s in held]
    chosen = ranked[:n]
    if len(chosen) < n:
        p = t.positions
        q = sa.select(p.c.sku).where(p.c.on_hand > 0).distinct().order_by(p.c.sku).limit(n)
        if location is not None:
            q = q.where(p.c.location == location)
        chosen += [s for s in conn.execute(q).scalars() if s not in chosen][: n - len(chosen)]
    return chosen


def preview(engine: Engine, rule_store: RuleStore, edit: RuleEdit, *, orders: int = RECENT_ORDERS,
            skus: int = SKUS_SHOWN) -> Preview:
    with engine.connect() as conn:
        cfg = load_config(conn)
        recent = _recent_orders(conn, orders)
        shown = _skus_shown(conn, edit, recent, skus)
        every = sorted(set(shown) | {line.sku for order in recent for line in order.lines})
        positions = positions_by_sku(conn, every)
        policies = policies_for(conn, every)
        d = t.sku_demand
        queued = dict(conn.execute(sa.select(d.c.sku, d.c.queued).where(d.c.sku.in_(shown))).all()) if shown else {}
        rules_now = rule_store.current(conn)

    before = {sku: rules_for_sku(policies, sku) for sku in every}
    after = {sku: with_policy(rules, edit.policy) for sku, rules in before.items()} if edit.policy is not None else before
    channels_after: list[ChannelAllocation] = cfg.channels
    if edit.kind == "channel" and edit.channel is not None:
        channels_after = with_allocation(cfg.channels, edit.channel, share_pct=edit.share_pct, fixed=edit.fixed,
                                         buffer=edit.buffer)
    notes: list[str] = []
    atp: dict[str, list[AtpChange]] = {}
    if edit.kind == "routing":
        notes.append("Routing rules choose where orders are fulfilled; they do not change what any channel may sell.")
    else:
        for sku in shown:
            atp[sku] = atp_before_after(sku, positions.get(sku, {}), before[sku], after[sku], cfg.online,
                                        int(queued.get(sku, 0)), cfg.channels, channels_after, cfg.location_priority)
    if edit.kind == "channel":
        notes.append("A channel's allocation changes what it may sell, not where orders are fulfilled: "
                     "no order routes otherwise.")
    by_id = {sku: {cfg.id_of[code]: pos for code, pos in at.items() if code in cfg.id_of} for sku, at in positions.items()}
    rules_edited = edit.rules if edit.rules is not None else rules_now
    replayed = replay(recent, rules_now, rules_edited, cfg.locations, by_id, before, after, cfg.code_of, cfg.online)
    return Preview(edit, shown, atp, replayed, dict(cfg.code_of), len(recent), rules_now.version, notes)
