"""Counting the chaos day from the simulators' own records: the orders each channel took,
the units each sold beyond its shelf, the figure each shows for every position, read from
their control planes over HTTP. The hub is read only for what it holds (its orders, the
figure it means each channel to show) to set against those records, never for its own
verdict; the one exception is labelled: `reconcile` holds what its reconciliation runs
recorded (their findings), beside the simulators' count of what stayed open.
"""

from __future__ import annotations

from collections import Counter

import httpx
import sqlalchemy as sa

from omnihub.adapters.db import tables as t
from omnihub.entrypoints.cli.demo_report import HUB_CHANNELS, hub_orders, sandbox_orders


def shown_levels(shop: str, amazon: str, store_ids: dict[str, int]) -> dict[tuple[str, str, str], int]:
    """(channel, sku, location) → what the channel shows: Shopify per store, Amazon per SKU."""
    code_of = {i: c for c, i in store_ids.items()}
    out: dict[tuple[str, str, str], int] = {}
    with httpx.Client(timeout=60) as http:
        for lv in http.get(shop + "/_sandbox/inventory/levels").raise_for_status().json()["levels"]:
            if lv["location_id"] in code_of:
                out[("shopify", lv["sku"], code_of[lv["location_id"]])] = lv["available"]
        for row in http.get(amazon + "/_sandbox/listings").raise_for_status().json()["listings"]:
            out[("amazon_seller", row["sku"], "")] = row["quantity"]
    return out


def hub_meant(engine) -> dict[tuple[str, str, str], int]:
    """What the hub means each channel to show (its projection), never below 0."""
    ca = t.channel_availability
    with engine.connect() as conn:
        rows = conn.execute(sa.select(ca.c.channel, ca.c.sku, ca.c.location, ca.c.quantity)
                            .where(ca.c.channel.in_(["shopify", "amazon_seller"]))).all()
    return {(c, s, loc): max(0, q) for c, s, loc, q in rows if (c == "shopify") == (loc != "")}


def discrepancies(shown: dict, meant: dict) -> list[dict]:
    return [{"channel": k[0], "sku": k[1], "location": k[2], "shown": shown[k], "hub": meant[k]}
            for k in sorted(shown.keys() & meant.keys()) if shown[k] != meant[k]]


def order_figures(shop: str, amazon: str, engine) -> dict:
    taken = sandbox_orders(shop, amazon)
    held = hub_orders(engine)
    o = t.orders
    with engine.connect() as conn:
        repeats = conn.execute(sa.select(o.c.channel, o.c.external_id, sa.func.count()).where(
            o.c.channel.in_(list(HUB_CHANNELS.values()))).group_by(o.c.channel, o.c.external_id)
            .having(sa.func.count() > 1)).all()
    return {"orders_by_channel": {c: len(ids) for c, ids in taken.items()},
            "orders_in_hub_by_channel": {c: len(ids) for c, ids in held.items()},
            "orders_lost": sum(len(ids - held[c]) for c, ids in taken.items()),
            "orders_lost_by_channel": {c: len(ids - held[c]) for c, ids in taken.items()},
            "orders_lost_sample": sorted(e for c, ids in taken.items() for e in ids - held[c])[:10],
            "orders_duplicated": sum(n - 1 for _, _, n in repeats)}


def oversold(shop: str, amazon: str) -> dict:
    with httpx.Client(timeout=60) as http:
        s = http.get(shop + "/_sandbox/oversells").raise_for_status().json()
        a = http.get(amazon + "/_sandbox/oversells").raise_for_status().json()
    by = {"shopify_online": s["by_channel"].get("online", 0), "shopify_pos": s["by_channel"].get("pos", 0),
          "amazon": a["units"]}
    return {"oversold_units": sum(by.values()), "oversold_units_by_channel": by}


def reconcile_figures(engine) -> dict:
    """The hub's reconciliation runs, as it recorded them (labelled as such in the report)."""
    r, f = t.reconciliation_runs, t.reconciliation_findings
    with engine.connect() as conn:
        runs = conn.execute(sa.select(r.c.channel, r.c.state, r.c.trigger)).all()
        found = conn.execute(sa.select(f.c.kind, f.c.repaired, sa.func.count()).group_by(f.c.kind, f.c.repaired)).all()
    by_class: Counter = Counter()
    fixed = 0
    for kind, repaired, n in found:
        by_class[kind] += n
        fixed += n if repaired else 0
    return {"reconcile_runs": len(runs), "reconcile_runs_by_state": dict(Counter(s for _, s, _ in runs)),
            "reconcile_runs_by_trigger": dict(Counter(tr for _, _, tr in runs)),
            "findings": sum(by_class.values()), "findings_repaired_by_the_run": fixed,
            "findings_by_class": dict(by_class)}


def finding_keys(engine) -> set[tuple[str, str, str]]:
    """(channel, sku, location) of every level finding the reconciliation runs kept."""
    r, f = t.reconciliation_runs, t.reconciliation_findings
    with engine.connect() as conn:
        rows = conn.execute(sa.select(r.c.channel, f.c.sku, f.c.location).join(r, r.c.id == f.c.run_id)
                            .where(f.c.sku.is_not(None))).all()
    return {(c, s, loc or "") for c, s, loc in rows}


def amazon_listings(engine) -> list[tuple[str, str]]:
    """(hub SKU, Amazon seller SKU) of every listing the hub maps on Amazon."""
    li = t.channel_listings
    with engine.connect() as conn:
        return sorted(conn.execute(sa.select(li.c.sku, li.c.external_id).where(li.c.channel == "amazon_seller")).all())
