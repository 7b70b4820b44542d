"""What state an order ends in when units are cancelled, told per story and checked on
both paths a cancellation takes: a newer channel version (Shopify says the customer
dropped a line) and an operator in the hub (the customer phoned the store). Both must end
in the same state, raise an OrderStateChanged per step, and GET order must show it.

The rule itself (domain/order_states.py, `after_cancellation`): nothing left and nothing
gone → `cancelled`; some units still to fulfil → `partly_cancelled` (an order not yet
brokered, `created` or `held`, stays where it is); nothing left but some units already
left the building → `partly_cancelled`, then `shipped` (or `picked_up`).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from omnihub.domain.orders import Address, Order, OrderLine
from tests.orders.conftest import NYC_CUSTOMER, position, state_changes, stock

AT = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)


def placed(*lines: tuple[str, str, int], ext: str = "#3001") -> Order:
    return Order("shopify", ext, AT, tuple(OrderLine(lid, sku, q) for lid, sku, q in lines),
                 shipping_address=Address(country="US"))


def cancel_units(api, order: Order, order_id: int, via: str, units: dict[str, int], minute: int = 5) -> str:
    """Cancel `units` per line id through the channel (a newer version) or the hub (an
    operator); return the state the answer reports."""
    if via == "channel":
        lines = tuple(replace(ln, cancelled_quantity=ln.cancelled_quantity + units.get(ln.line_id, 0))
                      for ln in order.lines)
        res = api.hub.orders.ingest(replace(order, lines=lines, channel_updated_at=AT + timedelta(minutes=minute)))
        return res.state
    r = api.post(f"/api/v1/orders/{order_id}/cancel", json={"lines": units, "reason": "customer phoned"})
    assert r.status_code == 200, r.text
    return r.json()["state"]


def shown(api, order_id: int) -> str:
    return api.get(f"/api/v1/orders/{order_id}").json()["state"]


def test_a_first_version_that_already_cancels_every_unit_is_cancelled(estate):
    """Given Shopify's first word on an order is that both boots were cancelled (the webhook
    for the placement was lost), then nothing is left to fulfil: the order is cancelled,
    nothing waits in the brokering queue, and the move is announced."""
    stock(estate, "BOOT-42", "WH-NJ", 3)
    first = Order("shopify", "#3000", AT, (OrderLine("1", "BOOT-42", 2, cancelled_quantity=2),),
                  shipping_address=Address(country="US"))
    res = estate.hub.orders.ingest(first)
    assert res.state == "cancelled"
    got = estate.get(f"/api/v1/orders/{res.order_id}").json()
    assert got["state"] == "cancelled" and got["brokering_queue"] is None
    assert estate.get("/api/v1/atp/BOOT-42").json()["atp"] == 3
    assert state_changes(estate.hub, res.order_id) == [("created", "cancelled")]


@pytest.mark.parametrize("via", ["channel", "hub"])
def test_cancelling_every_unit_line_by_line_cancels_the_order(estate, via):
    """Given an allocated order for 2 boots and a shell, when every unit is cancelled line by
    line (not as a whole order), then it is `cancelled`, whoever cancelled it, and every
    reservation is given back."""
    stock(estate, "BOOT-42", "WH-NJ", 2)
    stock(estate, "SHELL-M", "WH-NJ", 1)
    o = placed(("1", "BOOT-42", 2), ("2", "SHELL-M", 1))
    oid = estate.hub.orders.ingest(o).order_id
    assert shown(estate, oid) == "allocated"
    assert cancel_units(estate, o, oid, via, {"1": 2, "2": 1}) == "cancelled"
    assert shown(estate, oid) == "cancelled"
    assert position(estate, "BOOT-42", "WH-NJ")["reserved"] == 0
    assert state_changes(estate.hub, oid) == [("created", "brokering"), ("brokering", "allocated"),
                                              ("allocated", "cancelled")]


@pytest.mark.parametrize("via", ["channel", "hub"])
def test_cancelling_some_units_while_others_are_still_wanted_is_partly_cancelled(estate, via):
    stock(estate, "BOOT-42", "WH-NJ", 3)
    o = placed(("1", "BOOT-42", 3))
    oid = estate.hub.orders.ingest(o).order_id
    assert cancel_units(estate, o, oid, via, {"1": 1}) == "partly_cancelled"
    assert shown(estate, oid) == "partly_cancelled"
    assert position(estate, "BOOT-42", "WH-NJ")["reserved"] == 2
    assert state_changes(estate.hub, oid)[-1] == ("allocated", "partly_cancelled")


@pytest.mark.parametrize("via", ["channel", "hub"])
def test_cancelling_what_is_left_after_a_parcel_left_ends_shipped(estate, via):
    """Given 3 boots, 2 shipped from the warehouse and 1 still reserved in SoHo, when the
    customer cancels the SoHo boot, then nothing is left to fulfil and part of the order is
    on its way: the order says `shipped` (with a cancelled unit on its line), reached
    through `partly_cancelled` so the cancellation is on record, and SoHo's boot is free."""
    stock(estate, "BOOT-42", "WH-NJ", 2)
    stock(estate, "BOOT-42", "SOHO", 1)
    o = placed(("1", "BOOT-42", 3))  # as Shopify states it; placed through the API for a Midtown address
    r = estate.post("/api/v1/orders", json={
        "channel": "shopify", "external_id": o.external_id, "channel_updated_at": AT.isoformat(),
        "lines": [{"line_id": "1", "sku": "BOOT-42", "quantity": 3}], "shipping_address": NYC_CUSTOMER})
    oid = r.json()["order_id"]
    assert {a["location"]: a["quantity"] for a in r.json()["assignments"]} == {"WH-NJ": 2, "SOHO": 1}
    assert estate.post(f"/api/v1/orders/{oid}/shipments", json={"location": "WH-NJ"}).json()["state"] == "partly_shipped"
    assert cancel_units(estate, o, oid, via, {"1": 1}) == "shipped"
    assert shown(estate, oid) == "shipped"
    assert position(estate, "BOOT-42", "SOHO")["reserved"] == 0
    assert state_changes(estate.hub, oid)[-3:] == [("packed", "partly_shipped"),
                                                   ("partly_shipped", "partly_cancelled"),
                                                   ("partly_cancelled", "shipped")]


@pytest.mark.parametrize("via", ["channel", "hub"])
def test_a_held_order_stays_held_when_some_units_are_cancelled_and_is_cancelled_when_all_are(estate, via):
    """Given an order held for a fraud review, when the customer drops one of two boots, the
    hold still stands (the reviewer decides, not the cancellation) and one boot waits; when
    the other goes too, the order is cancelled and leaves the brokering queue."""
    o = placed(("1", "BOOT-42", 2))
    oid = estate.hub.orders.ingest(o).order_id  # no boots anywhere: it waits
    assert estate.post(f"/api/v1/orders/{oid}/hold", json={"reason": "fraud review"}).json()["state"] == "held"
    assert cancel_units(estate, o, oid, via, {"1": 1}) == "held"
    assert estate.get("/api/v1/atp/BOOT-42").json()["brokering_queue"] == 1
    o = replace(o, lines=(replace(o.lines[0], cancelled_quantity=1),))
    assert cancel_units(estate, o, oid, via, {"1": 1}, minute=9) == "cancelled"
    got = estate.get(f"/api/v1/orders/{oid}").json()
    assert got["state"] == "cancelled" and got["brokering_queue"] is None
    assert estate.get("/api/v1/atp/BOOT-42").json()["brokering_queue"] == 0
    assert state_changes(estate.hub, oid)[-1] == ("held", "cancelled")
