"""A store picks its orders: ship-from-store and pickup orders are on its pick list; a
whole pick marks the units picked, a short pick sends the missing units to quality
control and back through routing with the reason in the order's history; a pickup order
wholly picked gets its pickup code, which the hand-over checks (wrong codes counted, the
order locked after too many), and the parcels that left (shipped or collected) are found
by the fulfilment job that tells the channels."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest
import sqlalchemy as sa

from omnihub.adapters.bus.in_process import _events_of
from omnihub.adapters.db import tables as t
from omnihub.domain.channel_fulfilment import Told
from omnihub.domain.pickup_codes import MAX_WRONG_CODES
from omnihub.services.fulfilment_sync import FulfilmentSync
from omnihub.domain.order_states import OrderState
from omnihub.services.catalog import NotFound
from omnihub.services.order_pipeline import OrderError
from omnihub.services.pickup_desk import PickupLocked, WrongPickupCode
from tests.orders.conftest import NYC_CUSTOMER, check_state_history, order, position, stock

SOHO_CUSTOMER = {"country": "US", "lat": 40.7240, "lng": -74.0020}


def _reasons(hub, order_id: int) -> list[str]:
    with hub.engine.connect() as c:
        rows = c.execute(sa.select(t.outbox.c.payload).where(t.outbox.c.topic == "order.state_changed")
                         .order_by(t.outbox.c.id)).scalars().all()
    return [e["reason"] for p in rows for e in _events_of(p) if e["order_id"] == order_id]


def _stored(hub, order_id: int) -> SimpleNamespace:
    with hub.engine.connect() as c:
        state = c.execute(sa.select(t.orders.c.state).where(t.orders.c.id == order_id)).scalar_one()
    return SimpleNamespace(id=order_id, state=OrderState(state), external_id=str(order_id))


def _assignments(hub, order_id: int) -> list[tuple[str, str, int]]:
    a = t.order_assignments
    with hub.engine.connect() as c:
        return sorted((r.location, r.state, r.quantity) for r in c.execute(
            sa.select(a.c.location, a.c.state, a.c.quantity).where(a.c.order_id == order_id)))


def test_a_whole_pick_then_the_parcel_with_its_tracking(estate):
    hub = estate.hub
    stock(estate, "SHELL-M", "SOHO", 3)
    made = order(estate, ("SHELL-M", 2), shipping_address=SOHO_CUSTOMER)
    oid = made["order_id"]
    listed = hub.picking.pick_list("SOHO")
    assert [(o.order_id, [(ln.sku, ln.title, ln.units) for ln in o.lines]) for o in listed.to_pick] == [
        (oid, [("SHELL-M", "Rain shell", 2)])]
    assert hub.picking.pick_list("UES").to_pick == ()
    with pytest.raises(OrderError, match="nothing to pick at UES"):
        hub.picking.pick(oid, "UES", {})
    result = hub.picking.pick(oid, "SOHO", {}, actor="user:1:sam")
    assert result.state == "picked" and _assignments(hub, oid) == [("SOHO", "picked", 2)]
    assert "picked at SOHO" in _reasons(hub, oid)
    after = hub.picking.pick_list("SOHO")
    assert after.to_pick == () and [o.order_id for o in after.to_ship] == [oid]
    shipped = hub.picking.ship(oid, "SOHO", carrier="UPS", tracking="1Z999", actor="user:1:sam")
    assert shipped.state == "shipped" and position(estate, "SHELL-M", "SOHO")["on_hand"] == 1
    check_state_history(hub, [_stored(hub, oid)])


def test_a_short_pick_sends_the_missing_units_back_to_routing_with_the_reason(estate):
    hub = estate.hub
    stock(estate, "SHELL-M", "SOHO", 2)
    stock(estate, "SHELL-M", "UES", 2)
    oid = order(estate, ("SHELL-M", 2), shipping_address=SOHO_CUSTOMER)["order_id"]
    assert _assignments(hub, oid) == [("SOHO", "reserved", 2)]
    [line] = hub.picking.pick_list("SOHO").to_pick[0].lines
    with pytest.raises(OrderError, match="3 found, only 2 to pick"):
        hub.picking.pick(oid, "SOHO", {line.line_id: 3})
    result = hub.picking.pick(oid, "SOHO", {line.line_id: 1}, reason="shelf empty", actor="user:1:sam")
    assert result.verdict == "short_picked" and result.state == "partly_picked"
    assert _assignments(hub, oid) == [("SOHO", "picked", 1), ("SOHO", "rejected", 1), ("UES", "reserved", 1)]
    soho = position(estate, "SHELL-M", "SOHO")
    assert (soho["reserved"], soho["quality_control"]) == (1, 1)  # the shelf is no longer trusted
    assert position(estate, "SHELL-M", "UES")["reserved"] == 1
    assert "short pick at SOHO: 1 × SHELL-M not found (shelf empty)" in _reasons(hub, oid)
    [qc] = [m for m in hub.queries.history("SHELL-M") if m["to_state"] == "quality_control"]
    assert qc["reference"] == f"order:{oid} short pick: shelf empty" and qc["actor"] == "user:1:sam"
    # UES picks its unit: the order is wholly picked
    assert hub.picking.pick(oid, "UES", {}).state == "picked"
    check_state_history(hub, [_stored(hub, oid)])


def test_nothing_found_moves_the_order_back_to_brokering_before_routing(estate):
    hub = estate.hub
    stock(estate, "SHELL-M", "SOHO", 1)
    stock(estate, "SHELL-M", "WH-NJ", 5)
    oid = order(estate, ("SHELL-M", 1), shipping_address=SOHO_CUSTOMER)["order_id"]
    assert _assignments(hub, oid) == [("SOHO", "reserved", 1)]
    [line] = hub.picking.pick_list("SOHO").to_pick[0].lines
    result = hub.picking.pick(oid, "SOHO", {line.line_id: 0})
    assert result.state == "allocated" and ("WH-NJ", "reserved", 1) in _assignments(hub, oid)
    assert any(r.startswith("short pick at SOHO: 1 × SHELL-M not found") for r in _reasons(hub, oid))


class _Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 12, 4, 15, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


def _ready_pickup(estate, method: str = "pickup_in_store", store: str = "BKN") -> int:
    hub = estate.hub
    stock(estate, "BOOT-42", store, 3)
    oid = order(estate, ("BOOT-42", 1), delivery_method=method, pickup_location=store,
                shipping_address=NYC_CUSTOMER)["order_id"]
    assert hub.pickups.status(oid) is None  # not ready before it is picked
    assert hub.picking.pick(oid, store, {}).state == "picked"
    return oid


def test_a_pickup_wholly_picked_gets_its_code_and_is_handed_over_with_it(estate):
    hub = estate.hub
    oid = _ready_pickup(estate)
    ready = hub.pickups.status(oid)
    assert ready["location"] == "BKN" and len(ready["code"]) == 6 and ready["code"].isdigit()
    [waiting] = hub.pickups.waiting("BKN")
    assert (waiting.order_id, [(ln.sku, ln.units) for ln in waiting.lines], waiting.curbside) == (oid, [("BOOT-42", 1)], False)
    assert hub.picking.pick_list("BKN").pickups_waiting == 1
    with pytest.raises(OrderError, match="hand it over"):
        hub.picking.ship(oid, "BKN", carrier="UPS", tracking="1Z1")
    wrong = "000000" if ready["code"] != "000000" else "111111"
    with pytest.raises(WrongPickupCode, match="4 tries left"):
        hub.pickups.hand_over(oid, "BKN", wrong)
    with pytest.raises(NotFound, match="not waiting for pickup at UES"):
        hub.pickups.hand_over(oid, "UES", ready["code"])
    code = f"{ready['code'][:3]} {ready['code'][3:]}"  # as read out, with a space
    result = hub.pickups.hand_over(oid, "BKN", code, actor="user:1:sam")
    assert result.state == "picked_up"
    assert position(estate, "BOOT-42", "BKN")["on_hand"] == 2
    assert _assignments(hub, oid) == [("BKN", "picked_up", 1)]
    assert hub.pickups.waiting("BKN") == [] and hub.pickups.status(oid)["handed_over_by"] == "user:1:sam"
    assert "collected by the customer" in _reasons(hub, oid)


def test_wrong_codes_lock_the_hand_over_until_the_lock_ends(estate):
    hub = estate.hub
    clock = _Clock()
    hub.pickups.clock = clock
    oid = _ready_pickup(estate)
    code = hub.pickups.status(oid)["code"]
    wrong = "000000" if code != "000000" else "111111"
    for left in range(MAX_WRONG_CODES - 1, 0, -1):
        with pytest.raises(WrongPickupCode) as refused:
            hub.pickups.hand_over(oid, "BKN", wrong)
        assert refused.value.tries_left == left
    with pytest.raises(PickupLocked, match="locked until 15:15 UTC"):
        hub.pickups.hand_over(oid, "BKN", wrong)
    with pytest.raises(PickupLocked):  # the right code too, while it is locked
        hub.pickups.hand_over(oid, "BKN", code)
    assert hub.pickups.status(oid)["wrong_codes"] == MAX_WRONG_CODES
    clock.now += timedelta(minutes=16)
    assert hub.pickups.hand_over(oid, "BKN", code).state == "picked_up"


def test_the_curbside_customer_s_arrival_puts_the_order_first(estate):
    hub = estate.hub
    first = _ready_pickup(estate, store="SOHO")
    curbside = _ready_pickup(estate, "curbside", store="SOHO")
    assert [w.order_id for w in hub.pickups.waiting("SOHO")] == [first, curbside]
    with pytest.raises(NotFound, match="no order"):
        hub.pickups.arrived(curbside, "amazon_seller")  # not its channel
    hub.pickups.arrived(curbside, "shopify", "silver Civic, bay 3")
    [top, _] = hub.pickups.waiting("SOHO")
    assert (top.order_id, top.curbside, top.arrival_note) == (curbside, True, "silver Civic, bay 3")
    assert top.customer_arrived_at is not None


class _Recording:
    def __init__(self) -> None:
        self.notices = []

    def tell(self, notice):
        self.notices.append(notice)
        return Told("F1")


def test_parcels_shipped_and_pickups_collected_are_found_by_the_fulfilment_job(estate):
    hub = estate.hub
    stock(estate, "SHELL-M", "SOHO", 3)
    shipped = order(estate, ("SHELL-M", 1), shipping_address=SOHO_CUSTOMER)["order_id"]
    hub.picking.pick(shipped, "SOHO", {})
    hub.picking.ship(shipped, "SOHO", carrier="UPS", tracking="1Z999")
    collected = _ready_pickup(estate)
    hub.pickups.hand_over(collected, "BKN", hub.pickups.status(collected)["code"])
    till = order(estate, ("BOOT-42", 1), channel="shopify_pos", delivery_method="pickup_in_store",
                 origin_location="BKN")  # rung up at the till: handed over there and then, its channel knows
    assert _assignments(hub, till["order_id"]) == [("BKN", "picked_up", 1)]
    recording = _Recording()
    job = FulfilmentSync(hub.engine, {"shopify": recording, "shopify_pos": recording})
    run = job.run_once()
    assert (run.discovered, run.sent) == (2, 2)
    told = {n.shipment_id: n for n in recording.notices}
    assert told[f"{shipped}-SOHO-1Z999"].tracking_number == "1Z999"
    pickup = told[f"{collected}-BKN-pickup"]
    assert (pickup.carrier, pickup.tracking_number, [q for _, q in pickup.lines]) == (None, None, [1])
    assert till["order_id"] not in {int(sid.split("-")[0]) for sid in told}
