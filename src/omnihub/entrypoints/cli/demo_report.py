"""What `omnihub demo --report` writes: the sandboxes' own counts beside the hub's.

The orders and the oversold units are counted by the sandboxes, read from their control
planes over HTTP (what the shop and Amazon took, what left a shelf that was not on it);
the hub's side is read from its database. The hub is never asked to judge itself: an
oversold unit is one a sandbox sold beyond its shelf, not one the hub thinks it oversold.
"""

from __future__ import annotations

import httpx

from omnihub.benchmarks.sync import AckLags, lag_figures
from omnihub.services.estate_figures import backlog, orders_of_channels

#: report channel → the hub's channel of its orders
HUB_CHANNELS = {"shopify_online": "shopify", "shopify_pos": "shopify_pos", "amazon": "amazon_seller"}
_SHOPIFY_SOURCES = {"web": "shopify_online", "pos": "shopify_pos"}


def sandbox_orders(shop: str, amazon: str) -> dict[str, set[str]]:
    """Every order each sandbox took, by report channel (the sandboxes' own lists)."""
    out: dict[str, set[str]] = {c: set() for c in HUB_CHANNELS}
    with httpx.Client(timeout=60) as http:
        for row in http.get(shop + "/_sandbox/orders").raise_for_status().json()["orders"]:
            out[_SHOPIFY_SOURCES.get(row["source_name"], "shopify_online")].add(str(row["id"]))
        for row in http.get(amazon + "/_sandbox/orders").raise_for_status().json()["orders"]:
            out["amazon"].add(row["amazon_order_id"])
    return out


def hub_orders(engine) -> dict[str, set[str]]:
    by_hub = {hub: report for report, hub in HUB_CHANNELS.items()}
    out: dict[str, set[str]] = {c: set() for c in HUB_CHANNELS}
    for channel, external_id in orders_of_channels(engine, HUB_CHANNELS.values()):
        out[by_hub[channel]].add(external_id)
    return out


def missing_in_hub(shop: str, amazon: str, engine) -> int:
    have = hub_orders(engine)
    return sum(len(ids - have[c]) for c, ids in sandbox_orders(shop, amazon).items())


def hub_backlog(engine) -> dict[str, int]:
    """Work the hub has not finished (services/estate_figures.py)."""
    return backlog(engine)


def collect(*, shop: str, amazon: str, hub, lags: AckLags, traffic, settled: bool, extra: dict) -> dict:
    in_sandboxes = sandbox_orders(shop, amazon)
    in_hub = hub_orders(hub.engine)
    backlog = hub_backlog(hub.engine)
    with httpx.Client(timeout=60) as http:
        shop_oversells = http.get(shop + "/_sandbox/oversells").raise_for_status().json()
        amazon_oversells = http.get(amazon + "/_sandbox/oversells").raise_for_status().json()
    by_channel = {"shopify_online": shop_oversells["by_channel"].get("online", 0),
                  "shopify_pos": shop_oversells["by_channel"].get("pos", 0), "amazon": amazon_oversells["units"]}
    lag = lag_figures(lags.all())
    report = {
        **extra,
        "settled": settled,
        "orders_by_channel": {c: len(ids) for c, ids in in_sandboxes.items()},
        "orders_in_hub_by_channel": {c: len(ids) for c, ids in in_hub.items()},
        "orders_missing_in_hub": sum(len(ids - in_hub[c]) for c, ids in in_sandboxes.items()),
        "refused_orders": backlog["refused"],
        "inbox_failures": backlog["inbox_failed"],
        "orders_waiting_for_stock": backlog["brokering_queue"],
        "oversold_units": sum(by_channel.values()),
        "oversold_units_by_channel": by_channel,
        "amazon_units_not_checked_against_a_shelf": amazon_oversells.get("unchecked_units", 0),
        "sync_lag_p50_ms": lag["lag_p50_ms"],
        "sync_lag_p99_ms": lag["lag_p99_ms"],
        "sync_lag_max_ms": lag["lag_max_ms"],
        "sync_pushes_acknowledged": {c: len(v) for c, v in lags.by_channel.items()},
        "sync_pending": hub.sync.pending(),
    }
    if traffic is not None:
        run = traffic.run
        s = run.shopper.summary if run.shopper else None
        report["shoppers"] = {
            "shopify_online": {"placed": s.online_placed if s else 0, "sold_out": s.online_refused if s else 0},
            "shopify_pos": {"placed": s.pos_placed if s else 0, "sold_out": s.pos_refused if s else 0},
            "amazon": {"placed": run.amazon["placed"], "sold_out": run.amazon["refused"]},
            "errors": (s.errors if s else 0) + run.amazon["errors"],
        }
    return report
