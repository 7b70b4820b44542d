"""A till sale is recorded once, whether reconciliation or the order's webhook sees it
first (issue 19, point 3; domain/till_sales.py).

Over real HTTP against the Shopify sandbox: a POS sale at a store whose orders/create
webhook is late (it lands in the inbox, which no worker processes yet). Reconciliation
does not see the order itself (its run's window has moved on, as it would after a
webhook retried for hours), only the store's level drop, and records the unit as sold at
the till. Then the webhook is processed: the order comes in, and its unit does not leave
the shelf a second time. A later sale at the same till, on time, does.
"""

from __future__ import annotations

import sqlalchemy as sa

from omnihub.adapters.db import tables as t
from omnihub.entrypoints.reconciliation_wiring import reconciliation
from tests.sync.channel_world import build_world
from tests.sync.test_reconciliation import _by_key, _on_hand, _settle


class _WindowMovedOn:
    """The channel's reader, except that it no longer lists the orders named (they were
    placed before the run's window)."""

    def __init__(self, reader, hidden: set[str]) -> None:
        self._reader, self._hidden = reader, hidden

    def order_headers(self, since):
        return (h for h in self._reader.order_headers(since) if h.external_id not in self._hidden)

    def __getattr__(self, name):
        return getattr(self._reader, name)


def _sales_at(hub, sku: str, location: str) -> list[tuple[int, str | None]]:
    m = t.movements
    with hub.engine.connect() as conn:
        return [tuple(r) for r in conn.execute(sa.select(m.c.quantity, m.c.reference).where(
            m.c.sku == sku, m.c.location == location, m.c.reason == "sale").order_by(m.c.id))]


def _process_inbox(hub, world) -> None:
    world.shopify_control("POST", "/webhooks/wait-idle")
    while hub.inbox.process_once():
        pass


def _hub_order(hub, external_id: str):
    o = t.orders
    with hub.engine.connect() as conn:
        return conn.execute(sa.select(o.c.id, o.c.channel, o.c.state).where(o.c.external_id == external_id)).first()


def test_a_till_sale_reconciliation_recorded_leaves_the_shelf_once_when_its_late_order_comes_in(
        hub, serve, shopify_sandbox, amazon_sandbox):
    world = build_world(hub, serve, shopify_sandbox, amazon_sandbox)
    _settle(hub, "shopify", "amazon_seller")
    _process_inbox(hub, world)
    gids = world.location_gids()
    shows = world.hub_shows("shopify")
    sku, store = next(k for k, q in sorted(shows.items()) if q >= 3 and k[1] in gids and k[1] not in world.warehouses)
    on_hand = _on_hand(hub, sku, store)

    sold = world.shopify_control("POST", "/pos-sales", json={"location_id": gids[store],
                                                             "lines": [{"sku": sku, "quantity": 1}]})
    assert sold.status_code == 201, sold.text
    late_order = str(sold.json()["order_id"])
    assert _hub_order(hub, late_order) is None  # its webhook waits in the inbox

    job = reconciliation(hub, shopify=world.worker.shopify)
    job.readers["shopify"] = _WindowMovedOn(job.readers["shopify"], {late_order})
    run = job.run("shopify", trigger="cli")
    assert run["state"] == "done", run
    till = _by_key(run)[("missed_pos_sale", sku, store, None)]
    assert till["repaired"] and "till sale of 1" in till["action"], till
    assert _on_hand(hub, sku, store) == on_hand - 1
    assert [q for q, _ in _sales_at(hub, sku, store)] == [1]

    # The late webhook: the order comes in, fulfilled at the till, and sells nothing again.
    _process_inbox(hub, world)
    row = _hub_order(hub, late_order)
    assert row is not None and row.channel == "shopify_pos" and row.state == "delivered", row
    assert _on_hand(hub, sku, store) == on_hand - 1
    assert [q for q, _ in _sales_at(hub, sku, store)] == [1]
    with hub.engine.connect() as conn:
        left = conn.execute(sa.select(t.till_sales_recorded.c.units_left).where(
            t.till_sales_recorded.c.sku == sku)).scalars().all()
    assert left == [0]

    # The next sale at that till, its webhook on time, is a sale of its own.
    again = world.shopify_control("POST", "/pos-sales", json={"location_id": gids[store],
                                                              "lines": [{"sku": sku, "quantity": 1}]})
    assert again.status_code == 201, again.text
    _process_inbox(hub, world)
    assert _hub_order(hub, str(again.json()["order_id"])) is not None
    assert _on_hand(hub, sku, store) == on_hand - 2
    assert [(q, ref) for q, ref in _sales_at(hub, sku, store)][1:] == [
        (1, f"order:{_hub_order(hub, str(again.json()['order_id'])).id}")]

    # And the webhook first, reconciliation after: the order explains the drop; nothing is
    # recorded twice.
    rerun = reconciliation(hub, shopify=world.worker.shopify).run("shopify", trigger="cli")
    assert not [f for f in rerun["findings"] if f["kind"] == "missed_pos_sale"], rerun["findings"]
    assert _on_hand(hub, sku, store) == on_hand - 2
