"""Orders a channel cancelled while the hub did not hear of it are brought into line by
reconciliation (issue 19, point 3), over real HTTP against the Shopify and Amazon sandboxes.

The worker is not running: webhooks and notifications wait in the hub's inbox, as good as
lost, until a test processes them (a late delivery); where a test wants them lost for
good it sets the sandbox's loss rate to 1. The merchant cancels in the Shopify admin
(the sandbox's control plane), the buyer on Amazon.

- open in the hub: `missed_cancellation`, cancelled through the pipeline (reservation
  released, ATP back, the channel's level pushed); the late webhook and a second run
  change nothing more;
- some units already shipped by the hub: `cancelled_after_shipment`, left for a person
  with the reason, reported by one run only, whether the webhook was lost or came in.
"""

from __future__ import annotations

import json
import time

import sqlalchemy as sa

from omnihub.adapters.db import tables as t
from tests.sync.channel_world import build_world
from tests.sync.test_reconciliation import _settle, _shopify_available, _start_and_wait
from tests.sync.test_till_sale_counted_once import _process_inbox


def _hub_order(hub, external_id: str):
    o = t.orders
    with hub.engine.connect() as conn:
        return conn.execute(sa.select(o.c.id, o.c.state).where(o.c.external_id == external_id)).one()


def _assignments(hub, order_id: int, state: str) -> list[tuple[str, str, int]]:
    oa = t.order_assignments
    with hub.engine.connect() as conn:
        return sorted(tuple(r) for r in conn.execute(sa.select(oa.c.sku, oa.c.location, oa.c.quantity).where(
            oa.c.order_id == order_id, oa.c.state == state)))


def _releases(hub, order_id: int) -> list[tuple[str, str, int]]:
    m = t.movements
    with hub.engine.connect() as conn:
        return [tuple(r) for r in conn.execute(sa.select(m.c.sku, m.c.location, m.c.quantity).where(
            m.c.reference == f"order:{order_id}", m.c.reason == "release").order_by(m.c.id))]


def _position(hub, sku: str, location: str) -> tuple[int, int]:
    p = t.positions
    with hub.engine.connect() as conn:
        row = conn.execute(sa.select(p.c.on_hand, p.c.reserved).where(p.c.sku == sku, p.c.location == location)).one()
    return row.on_hand, row.reserved


def _confirmed(hub, channel: str, sku: str, location: str) -> int | None:
    lv = t.channel_levels
    with hub.engine.connect() as conn:
        return conn.execute(sa.select(lv.c.confirmed).where(lv.c.channel == channel, lv.c.sku == sku,
                                                            lv.c.location == location)).scalar()


def _inbox(hub, topic: str, external_id: str) -> list[str]:
    """The states of the inbox's deliveries of `topic` about this order."""
    i = t.channel_inbox
    with hub.engine.connect() as conn:
        rows = conn.execute(sa.select(i.c.state, i.c.body).where(i.c.topic == topic).order_by(i.c.id)).all()
    def about(body: dict) -> str:  # a Shopify order's REST body, or an Amazon ORDER_CHANGE notification
        change = (body.get("Payload") or {}).get("OrderChangeNotification") or {}
        return str(change.get("AmazonOrderId") or body.get("id"))

    return [r.state for r in rows if about(json.loads(r.body)) == external_id]


def _about(run: dict, external_id: str) -> list[tuple[str, bool]]:
    return [(f["kind"], f["repaired"]) for f in run["findings"] if f["external_id"] == external_id]


def _store_sku(world, units: int) -> str:
    gids = world.location_gids()
    shows = world.hub_shows("shopify")
    return next(s for (s, loc), q in sorted(shows.items()) if q >= units + 1 and loc in gids and loc not in world.warehouses)


def _placed_and_reserved(hub, world, sku: str, units: int) -> tuple[str, int]:
    placed = world.shopify_control("POST", "/orders", json={"lines": [{"sku": sku, "quantity": units}]})
    assert placed.status_code == 201, placed.text
    external_id = str(placed.json()["order_id"])
    _process_inbox(hub, world)  # orders/create arrives: the units are reserved
    order_id = _hub_order(hub, external_id).id
    assert sum(q for *_, q in _assignments(hub, order_id, "reserved")) == units
    return external_id, order_id


def _amazon_order(world, sku: str, units: int) -> str:
    placed = world.amazon_control("POST", "/orders", json={"lines": [{"sku": sku, "quantity": units}],
                                                          "ship_to": {"postal_code": "10001"}})
    assert placed.status_code == 201, placed.text
    return placed.json()["amazon_order_id"]


def _merchant_cancels(world, external_id: str, **body) -> dict:
    made = world.shopify_control("POST", f"/orders/{external_id}/cancellations", json={"reason": "CUSTOMER", **body})
    assert made.status_code == 201, made.text
    world.shopify_control("POST", "/webhooks/wait-idle")
    return made.json()


def test_a_merchant_cancellation_whose_webhook_was_lost_is_applied_once(hub, serve, shopify_sandbox, amazon_sandbox):
    world = build_world(hub, serve, shopify_sandbox, amazon_sandbox)
    _settle(hub, "shopify", "amazon_seller")
    _process_inbox(hub, world)
    sku = _store_sku(world, 2)
    external_id, order_id = _placed_and_reserved(hub, world, sku, 2)
    [(_, store, _)] = _assignments(hub, order_id, "reserved")
    _settle(hub, "shopify")
    shown_while_reserved = world.hub_shows("shopify")[(sku, store)]
    assert _confirmed(hub, "shopify", sku, store) == shown_while_reserved
    position_while_reserved = _position(hub, sku, store)

    time.sleep(1.1)  # Shopify's updatedAt counts whole seconds: the cancellation is a later version
    _merchant_cancels(world, external_id, restock=True)  # orders/cancelled waits in the inbox: lost for now

    run = _start_and_wait(world, "shopify")
    assert run["state"] == "done", run
    assert _about(run, external_id) == [("missed_cancellation", True)], run["findings"]
    [finding] = [f for f in run["findings"] if f["external_id"] == external_id]
    assert "CUSTOMER" in finding["action"] and "reservations released" in finding["action"]
    assert run["summary"]["missed_cancellation"] == 1
    assert _hub_order(hub, external_id).state == "cancelled"
    assert _assignments(hub, order_id, "reserved") == []
    assert _releases(hub, order_id) == [(sku, store, 2)]
    assert _position(hub, sku, store) == (position_while_reserved[0], position_while_reserved[1] - 2)
    hub.relay.drain()
    assert world.hub_shows("shopify")[(sku, store)] == shown_while_reserved + 2  # ATP back
    _settle(hub, "shopify")  # the channel is told: its level is pushed and confirmed
    assert _confirmed(hub, "shopify", sku, store) == shown_while_reserved + 2
    assert _shopify_available(world, sku, world.location_gids()[store])["available"] == shown_while_reserved + 2

    # The webhook arrives late: the hub has that version already, nothing moves again.
    assert _inbox(hub, "orders/cancelled", external_id) == ["pending"]
    _process_inbox(hub, world)
    assert _inbox(hub, "orders/cancelled", external_id) == ["done"]
    assert _hub_order(hub, external_id).state == "cancelled"
    assert _releases(hub, order_id) == [(sku, store, 2)]
    assert _position(hub, sku, store) == (position_while_reserved[0], position_while_reserved[1] - 2)
    hub.relay.drain()
    assert world.hub_shows("shopify")[(sku, store)] == shown_while_reserved + 2

    again = _start_and_wait(world, "shopify")
    assert again["state"] == "done", again
    assert _about(again, external_id) == [], again["findings"]
    assert "missed_cancellation" not in again["summary"]


def test_a_cancellation_after_the_hub_shipped_is_left_for_a_person_once(hub, serve, shopify_sandbox, amazon_sandbox):
    world = build_world(hub, serve, shopify_sandbox, amazon_sandbox)
    _settle(hub, "shopify", "amazon_seller")
    _process_inbox(hub, world)
    sku = _store_sku(world, 2)
    lost_id, lost_order = _placed_and_reserved(hub, world, sku, 1)
    heard_id, heard_order = _placed_and_reserved(hub, world, sku, 1)
    for order_id in (lost_order, heard_order):  # shipped in the hub; Shopify is not told yet (no worker)
        [(_, store, _)] = _assignments(hub, order_id, "reserved")
        hub.order_ops.ship(order_id, store, carrier="UPS", tracking=f"1Z{order_id:016d}")
    shipped_position = _position(hub, sku, store)

    time.sleep(1.1)
    assert world.shopify_control("PUT", "/faults", json={"loss_rate": 1.0}).status_code == 200
    _merchant_cancels(world, lost_id)  # its webhooks are lost for good
    assert world.shopify_control("PUT", "/faults", json={"loss_rate": 0.0}).status_code == 200
    _merchant_cancels(world, heard_id)
    _process_inbox(hub, world)  # this one's webhook came in: the hub keeps the order shipped, and says nothing
    assert _hub_order(hub, heard_id).state == "shipped"

    first = _start_and_wait(world, "shopify")
    assert first["state"] == "done", first
    for external_id, order_id in ((lost_id, lost_order), (heard_id, heard_order)):
        assert _about(first, external_id) == [("cancelled_after_shipment", False)], first["findings"]
        [finding] = [f for f in first["findings"] if f["external_id"] == external_id]
        assert finding["action"].startswith("left for a person: cancelled on the channel (CUSTOMER) after the hub "
                                             "shipped 1 unit(s)"), finding["action"]
        assert f"hub order {order_id}" in finding["action"] and "refund the customer" in finding["action"]
        assert _hub_order(hub, external_id).state == "shipped"  # nothing the hub can undo
    assert first["summary"]["cancelled_after_shipment"] == 2
    assert _position(hub, sku, store) == shipped_position  # no unit came back
    r = t.cancellations_after_shipment
    with hub.engine.connect() as conn:
        recorded = conn.execute(sa.select(r.c.external_id, r.c.run_id, r.c.units_gone).order_by(r.c.external_id)).all()
    assert [tuple(x) for x in recorded] == sorted([(lost_id, first["id"], 1), (heard_id, first["id"], 1)])

    second = _start_and_wait(world, "shopify")  # the same window: reported already, not again
    assert second["state"] == "done", second
    assert _about(second, lost_id) == [] and _about(second, heard_id) == [], second["findings"]
    assert "cancelled_after_shipment" not in second["summary"]
    with hub.engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(r)).scalar_one() == 2


def test_amazon_buyer_cancellations_are_applied_once_or_left_for_a_person_once(hub, serve, shopify_sandbox,
                                                                                  amazon_sandbox):
    world = build_world(hub, serve, shopify_sandbox, amazon_sandbox)
    _settle(hub, "shopify", "amazon_seller")
    listed = [r["sku"] for r in world.amazon_control("GET", "/listings").json()["listings"] if r["quantity"] >= 2]
    sku, other_sku = listed[:2]
    amazon_id, shipped_id = (_amazon_order(world, s, n) for s, n in ((sku, 2), (other_sku, 1)))
    world.amazon_control("POST", "/clock/advance", json={"seconds": 180})  # getOrders lists up to 2 min ago
    time.sleep(0.6)  # Pending → Unshipped in the sandbox's own time

    first = _start_and_wait(world, "amazon_seller")  # their notifications are lost too: the run ingests them
    assert _about(first, amazon_id) == _about(first, shipped_id) == [("missed_order", True)], first["findings"]
    shipped_order = _hub_order(hub, shipped_id).id
    [(_, shipped_from, _)] = _assignments(hub, shipped_order, "reserved")
    hub.order_ops.ship(shipped_order, shipped_from, carrier="USPS", tracking="9400111899223197428490")  # Amazon not told
    order_id = _hub_order(hub, amazon_id).id
    [(_, warehouse, _)] = _assignments(hub, order_id, "reserved")
    _settle(hub, "amazon_seller")
    shown_while_reserved = world.hub_shows("amazon_seller")[(sku, "")]
    position_while_reserved = _position(hub, sku, warehouse)

    for external_id in (amazon_id, shipped_id):  # Amazon shows both Unshipped: the buyer may cancel
        cancelled = world.amazon_control("POST", f"/orders/{external_id}/cancel")
        assert cancelled.status_code == 200 and cancelled.json()["status"] == "Canceled", cancelled.text
    world.amazon_control("POST", "/clock/advance", json={"seconds": 180})

    run = _start_and_wait(world, "amazon_seller")
    assert run["state"] == "done", run
    assert _about(run, amazon_id) == [("missed_cancellation", True)], run["findings"]
    assert "Canceled on Amazon" in next(f["action"] for f in run["findings"] if f["external_id"] == amazon_id)
    assert _hub_order(hub, amazon_id).state == "cancelled"
    assert _releases(hub, order_id) == [(sku, warehouse, 2)]
    assert _position(hub, sku, warehouse) == (position_while_reserved[0], position_while_reserved[1] - 2)
    assert _about(run, shipped_id) == [("cancelled_after_shipment", False)], run["findings"]
    assert "left for a person: cancelled on the channel (Canceled on Amazon) after the hub shipped 1 unit(s)" in next(
        f["action"] for f in run["findings"] if f["external_id"] == shipped_id)
    assert _hub_order(hub, shipped_id).state == "shipped"
    hub.relay.drain()
    assert world.hub_shows("amazon_seller")[(sku, "")] == shown_while_reserved + 2
    _settle(hub, "amazon_seller")
    assert _confirmed(hub, "amazon_seller", sku, "") == shown_while_reserved + 2

    world.amazon_control("POST", "/notifications/deliver")  # the ORDER_CHANGE notifications come in late
    assert "pending" in _inbox(hub, "ORDER_CHANGE", amazon_id)
    while hub.inbox.process_once():
        pass
    assert set(_inbox(hub, "ORDER_CHANGE", amazon_id)) == {"done"}
    assert _hub_order(hub, amazon_id).state == "cancelled"
    assert _releases(hub, order_id) == [(sku, warehouse, 2)]
    again = _start_and_wait(world, "amazon_seller")
    assert _about(again, amazon_id) == [] and _about(again, shipped_id) == [], again["findings"]
