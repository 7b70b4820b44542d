"""Screening of incoming orders inside the pipeline's batch: the unified customer each
order belongs to, and the fraud rules that may hold it.

Both run set-based (a few queries per batch, whatever its size) because they sit on the
order hot path. A customer is found by any normalized e-mail or phone key or by their id
on the channel; two stored profiles that one order joins are merged (their orders are
repointed to the older profile).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from omnihub.adapters.db.stored_times import as_utc
from omnihub.adapters.db import tables as t
from omnihub.adapters.db.bulk_sql import fetch_by_keys, next_ids, upsert_many
from omnihub.adapters.db.batch_jobs import StagedTransaction
from omnihub.domain.customers import ChannelCustomer, UnifiedCustomer, resolve
from omnihub.domain.fraud import (
    ChannelRiskRule,
    CountryMismatchRule,
    CustomerOrderFacts,
    FirstOrderValueRule,
    VelocityRule,
    assess,
)
from omnihub.domain.orders import Order, RiskLevel

#: The rules a new hub starts with; `OrderScreening(fraud_rules=...)` replaces them.
DEFAULT_FRAUD_RULES = (
    VelocityRule(max_orders=5, window=timedelta(hours=1)),
    CountryMismatchRule(),
    FirstOrderValueRule(max_value_minor=150_000, currency="USD"),
    ChannelRiskRule(hold_at=RiskLevel.HIGH),
)
FACTS_WINDOW = timedelta(days=2)


def channel_customer(order: Order) -> ChannelCustomer | None:
    """The customer as the order's channel names them; None for an order naming nobody."""
    c = order.customer
    if not (c.email or c.phone or c.channel_customer_id):
        return None
    return ChannelCustomer(order.channel, c.channel_customer_id, c.email, c.phone)


def customer_keys(order: Order) -> list[str]:
    """The customer keys an order names (normalised e-mail or phone, the channel's
    customer id): what its job touches, so that two writers never resolve the same
    person at once (see adapters/db/batch_jobs.py)."""
    named = channel_customer(order)
    if named is None:
        return []
    probe = resolve(named, ())
    return [*probe.customer.keys, *[f"{ch}\x1f{ext}" for ch, ext in probe.customer.channel_ids]]


@dataclass(slots=True)
class CustomerWrites:
    """What resolving a batch's customers will write: kept apart so that a writer
    computing outside the write turn writes it once it holds the turn."""

    now: datetime
    created: list[tuple[int, str | None]] = field(default_factory=list)  # (id, display name)
    merges: dict[int, int] = field(default_factory=dict)  # merged id → surviving id
    keys: dict[str, int] = field(default_factory=dict)
    channel_ids: dict[tuple[str, str], int] = field(default_factory=dict)


class OrderScreening:
    def __init__(self, fraud_rules=DEFAULT_FRAUD_RULES) -> None:
        self.fraud_rules = tuple(fraud_rules)

    # -- unified customers ------------------------------------------------------------------
    def customers(self, conn: Connection, orders: Sequence[Order]) -> list[Order]:
        """The orders with their unified customer ids, the profiles written."""
        out, writes = self.resolve_customers(conn, orders)
        if writes is not None:
            self.write_customers(conn, writes)
        return out

    def resolve_customers(self, conn: Connection, orders: Sequence[Order],
                          tx: StagedTransaction | None = None) -> tuple[list[Order], CustomerWrites | None]:
        """Reads only: the orders with their customer ids and what that will write.
        In a writer's batch (`tx`), ids come from the transaction, and a merge of two
        stored profiles (it repoints their orders, which no job named) needs the whole
        database to itself (`require_everything`)."""
        wanted_keys: set[str] = set()
        wanted_ids: set[tuple[str, str]] = set()
        incoming: list[ChannelCustomer | None] = []
        for o in orders:
            cc = channel_customer(o)
            incoming.append(cc)
            if cc is None:
                continue
            probe = resolve(cc, ())
            wanted_keys |= probe.customer.keys
            wanted_ids |= probe.customer.channel_ids
        if not wanted_keys and not wanted_ids:
            return list(orders), None
        profiles: dict[int, UnifiedCustomer] = {}
        owner_of_key: dict[str, int] = {}
        owner_of_id: dict[tuple[str, str], int] = {}
        for key, cid in fetch_by_keys(conn, "customer_keys", ("key", "customer_id"), ("key",), [(k,) for k in sorted(wanted_keys)]):
            owner_of_key[key] = cid
        for ch, ext, cid in fetch_by_keys(conn, "customer_channel_ids", ("channel", "channel_customer_id", "customer_id"),
                                          ("channel", "channel_customer_id"), sorted(wanted_ids)):
            owner_of_id[(ch, ext)] = cid
        for cid in set(owner_of_key.values()) | set(owner_of_id.values()):
            profiles[cid] = UnifiedCustomer(cid)
        for key, cid in owner_of_key.items():
            p = profiles[cid]
            kind, _, value = key.partition(":")
            profiles[cid] = replace(p, emails=p.emails | {value}) if kind == "email" else replace(p, phones=p.phones | {value})
        for ext, cid in owner_of_id.items():
            profiles[cid] = replace(profiles[cid], channel_ids=profiles[cid].channel_ids | {ext})

        writes = CustomerWrites(datetime.now(UTC))
        new_keys, new_ids, merges = writes.keys, writes.channel_ids, writes.merges
        out: list[Order] = []
        last_id = 0
        for o, in_channel in zip(orders, incoming):
            if in_channel is None:
                out.append(o)
                continue
            res = resolve(in_channel, profiles.values())
            cust = res.customer
            if cust.id is None:
                (cid,) = next_ids(conn, "customers", 1) if tx is None else tx.new_ids("customers", 1)
                cid = last_id = max(cid, last_id + 1)  # not inserted yet: MAX(id) has not moved
                writes.created.append((cid, cust.name or None))
                cust = replace(cust, id=cid)
            else:
                cid = cust.id
            if res.merged_ids and tx is not None:
                tx.require_everything("merging two customer profiles")
            for gone in res.merged_ids:
                merges[gone] = cid
                profiles.pop(gone, None)
            profiles[cid] = cust
            for k in cust.keys:
                if owner_of_key.get(k) != cid:
                    owner_of_key[k] = new_keys[k] = cid
            for ext in cust.channel_ids:
                if owner_of_id.get(ext) != cid:
                    owner_of_id[ext] = new_ids[ext] = cid
            out.append(replace(o, customer=replace(o.customer, customer_id=cid)))
        return out, writes

    def write_customers(self, conn: Connection, writes: CustomerWrites) -> None:
        if writes.created:
            conn.execute(t.customers.insert(), [{"id": cid, "display_name": name, "created_at": writes.now}
                                                for cid, name in writes.created])
        if writes.merges:
            for gone, kept in writes.merges.items():
                conn.execute(t.orders.update().where(t.orders.c.customer_id == gone).values(customer_id=kept))
                conn.execute(t.customer_keys.update().where(t.customer_keys.c.customer_id == gone).values(customer_id=kept))
                conn.execute(t.customer_channel_ids.update().where(t.customer_channel_ids.c.customer_id == gone).values(customer_id=kept))
                conn.execute(t.customers.delete().where(t.customers.c.id == gone))
        self._upsert(conn, "customer_keys", ("key",), [(k, c) for k, c in writes.keys.items()])
        self._upsert(conn, "customer_channel_ids", ("channel", "channel_customer_id"),
                     [(ch, ext, c) for (ch, ext), c in writes.channel_ids.items()])

    @staticmethod
    def _upsert(conn: Connection, table: str, keys: tuple[str, ...], rows: list[tuple]) -> None:
        upsert_many(conn, table, (*keys, "customer_id"), keys, rows)

    # -- fraud ------------------------------------------------------------------------------
    def fraud(self, conn: Connection, orders: Sequence[Order]) -> dict[tuple[str, str], list[str]]:
        """Hold reasons per new order, from each customer's earlier orders (stored ones and
        those earlier in this batch)."""
        ids = sorted({o.customer.customer_id for o in orders if o.customer.customer_id is not None})
        history: dict[int, list[datetime]] = {}
        counts: dict[int, int] = {}
        if ids:
            oldest = min(o.placed for o in orders) - FACTS_WINDOW
            o_t = t.orders
            for cid, placed in conn.execute(
                sa.select(o_t.c.customer_id, o_t.c.placed_at).where(o_t.c.customer_id.in_(ids), o_t.c.placed_at >= oldest)
            ):
                history.setdefault(cid, []).append(as_utc(placed))
            for cid, n in conn.execute(
                sa.select(o_t.c.customer_id, sa.func.count()).where(o_t.c.customer_id.in_(ids)).group_by(o_t.c.customer_id)
            ):
                counts[cid] = n
        out: dict[tuple[str, str], list[str]] = {}
        for o in orders:
            cid = o.customer.customer_id
            facts = CustomerOrderFacts(counts.get(cid, 0), tuple(history.get(cid, ()))) if cid is not None else CustomerOrderFacts()
            reasons = assess(o, facts, self.fraud_rules)
            if reasons:
                out[o.key] = [f"{r.rule}: {r.message}" for r in reasons]
            if cid is not None:
                history.setdefault(cid, []).append(o.placed)
                counts[cid] = counts.get(cid, 0) + 1
        return out

