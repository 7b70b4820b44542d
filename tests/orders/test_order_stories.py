"""Order stories, told the way a store manager would tell them."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from omnihub.domain.orders import Address, Order, OrderLine
from tests.orders.conftest import NYC_CUSTOMER, order, position, state_changes, stock


def test_bopis_when_the_chosen_store_is_out_of_stock_offers_the_nearest_stores_that_can(estate):
    """Given a customer picking up in SoHo, and SoHo has no boots but Brooklyn and the UES do,
    when the order arrives, then it waits and the answer lists the stores that could serve it,
    nearest to SoHo first."""
    stock(estate, "BOOT-42", "BKN", 2)
    stock(estate, "BOOT-42", "UES", 3)
    r = order(estate, ("BOOT-42", 1), delivery_method="pickup_in_store", pickup_location="SOHO")
    assert r["assignments"] == []
    assert r["state"] == "brokering"
    assert [a["location"] for a in r["alternatives"]] == ["BKN", "UES"]
    why = r["order"]["routing"][-1]["explanation"]
    assert why["unassigned"][0]["quantity"] == 1


def test_express_goes_to_the_nearest_location_that_holds_every_line_and_ships_express(estate):
    """Given shells in the warehouse, SoHo and the UES, but only SoHo and the UES ship express,
    and only the UES has both sizes, when a Midtown customer orders both by express,
    then the UES ships everything, because it is the nearest that holds all lines."""
    for loc in ("WH-NJ", "SOHO", "UES"):
        stock(estate, "SHELL-M", loc, 5)
    stock(estate, "SHELL-L", "UES", 1)
    stock(estate, "SHELL-L", "WH-NJ", 9)
    r = order(estate, ("SHELL-M", 1), ("SHELL-L", 1), delivery_method="express", shipping_address=NYC_CUSTOMER)
    assert {a["location"] for a in r["assignments"]} == {"UES"}
    assert r["state"] == "allocated"
    assert position(estate, "SHELL-L", "UES")["reserved"] == 1


def test_a_standard_order_splits_across_a_warehouse_and_a_store_when_neither_has_it_all(estate):
    """Given 2 boots in the warehouse and 1 in SoHo, when someone orders 3, then two parcels
    go out, 2 from the warehouse and 1 from SoHo, and the channels see 0 left."""
    stock(estate, "BOOT-42", "WH-NJ", 2)
    stock(estate, "BOOT-42", "SOHO", 1)
    r = order(estate, ("BOOT-42", 3), shipping_address=NYC_CUSTOMER)
    placed = {a["location"]: a["quantity"] for a in r["assignments"]}
    assert placed == {"WH-NJ": 2, "SOHO": 1}
    assert estate.get("/api/v1/channels/shopify/availability", params={"sku": "BOOT-42"}).json()[0]["quantity"] == 0


def test_a_pos_endless_aisle_sale_is_routed_to_stock_elsewhere(estate):
    """Given Brooklyn has no medium shells and the warehouse does, when a Brooklyn associate
    sells one to be shipped home (endless aisle), then the warehouse reserves it and
    Brooklyn's stock is untouched."""
    stock(estate, "SHELL-M", "WH-NJ", 4)
    r = order(estate, ("SHELL-M", 1), channel="shopify_pos", origin_location="BKN", tags=["endless_aisle"],
              shipping_address=NYC_CUSTOMER)
    assert [(a["location"], a["quantity"]) for a in r["assignments"]] == [("WH-NJ", 1)]
    assert position(estate, "SHELL-M", "BKN") == {}


def test_a_pos_sale_handed_over_at_the_till_consumes_the_store_stock_on_the_spot(estate):
    stock(estate, "SHELL-M", "BKN", 2)
    r = order(estate, ("SHELL-M", 1), channel="shopify_pos", origin_location="BKN", delivery_method="pickup_in_store")
    assert r["state"] == "delivered"
    p = position(estate, "SHELL-M", "BKN")
    assert (p["on_hand"], p["reserved"]) == (1, 0)


def test_a_partial_cancellation_releases_exactly_its_units(estate):
    """Given an order for 5 boots reserved 3 in the warehouse and 2 in SoHo, when the
    customer cancels 2, then exactly 2 reservations are released and 3 stay."""
    stock(estate, "BOOT-42", "WH-NJ", 3)
    stock(estate, "BOOT-42", "SOHO", 2)
    r = order(estate, ("BOOT-42", 5), shipping_address=NYC_CUSTOMER)
    before = sum(position(estate, "BOOT-42", loc)["reserved"] for loc in ("WH-NJ", "SOHO"))
    c = estate.post(f"/api/v1/orders/{r['order_id']}/cancel", json={"lines": {"1": 2}})
    assert c.status_code == 200, c.text
    after = sum(position(estate, "BOOT-42", loc)["reserved"] for loc in ("WH-NJ", "SOHO"))
    assert (before, after) == (5, 3)
    assert c.json()["state"] == "partly_cancelled"
    assert estate.get("/api/v1/atp/BOOT-42").json()["atp"] == 2


def test_a_held_order_is_released_and_routed(estate):
    stock(estate, "BOOT-42", "WH-NJ", 3)
    r = order(estate, ("BOOT-42", 1), shipping_address=NYC_CUSTOMER)
    oid = r["order_id"]
    estate.post(f"/api/v1/orders/{oid}/cancel", json={"lines": {"1": 1}})
    r = order(estate, ("BOOT-42", 1), external_id="H-1", shipping_address=NYC_CUSTOMER)
    # An operator may only hold an order before it is allocated; this one is allocated.
    assert estate.post(f"/api/v1/orders/{r['order_id']}/hold", json={"reason": "check"}).status_code == 409


def test_keeping_a_stores_last_units_for_walk_in_customers(estate):
    """Given a rule that ships from stores only while 2 units stay on the shelf, when an
    online order would take SoHo's last units, then SoHo is passed over and the
    explanation says why."""
    rules = estate.get("/api/v1/routing-rules").json()
    rules["rules"] = [{
        "name": "ship-from-store-keep-2", "order_filter": {}, "location_filter": {"kinds": ["store"], "min_stock_left": 2},
        "sort": ["distance"], "split": {"mode": "no_split"}, "fallback": "next_rule",
    }, {"name": "warehouse", "order_filter": {}, "location_filter": {"kinds": ["warehouse"]}, "sort": ["priority"],
        "split": {"mode": "no_split"}, "fallback": "queue"}]
    saved = estate.put("/api/v1/routing-rules", json=rules)
    assert saved.status_code == 200, saved.text
    stock(estate, "SHELL-L", "SOHO", 2)
    stock(estate, "SHELL-L", "WH-NJ", 5)
    r = order(estate, ("SHELL-L", 1), shipping_address=NYC_CUSTOMER)
    assert [a["location"] for a in r["assignments"]] == ["WH-NJ"]
    trace = r["order"]["routing"][-1]["explanation"]["trace"][0]
    assert any(rej["filter"] == "min_stock_left" for rej in trace["rejected"])


def test_a_store_that_rejects_its_assignment_sends_the_units_back_to_brokering(estate):
    """Given SoHo was chosen for a boot it cannot find, when SoHo rejects the assignment,
    then the unit is routed to the warehouse and SoHo's boot stops counting for sale."""
    stock(estate, "BOOT-42", "SOHO", 1)
    r = order(estate, ("BOOT-42", 1), shipping_address=NYC_CUSTOMER)
    assert r["assignments"][0]["location"] == "SOHO"
    stock(estate, "BOOT-42", "WH-NJ", 1)
    rej = estate.post(f"/api/v1/orders/{r['order_id']}/assignments/SOHO/reject", json={"reason": "not on the shelf"})
    assert rej.status_code == 200, rej.text
    assert [a["location"] for a in rej.json()["assignments"]] == ["WH-NJ"]
    p = position(estate, "BOOT-42", "SOHO")
    assert (p["reserved"], p["quality_control"]) == (0, 1)


def test_ship_then_return_to_damaged(estate):
    stock(estate, "BOOT-42", "WH-NJ", 2)
    r = order(estate, ("BOOT-42", 2), shipping_address=NYC_CUSTOMER)
    s = estate.post(f"/api/v1/orders/{r['order_id']}/shipments", json={"location": "WH-NJ", "carrier": "UPS", "tracking_number": "1Z9"})
    assert s.status_code == 201 and s.json()["state"] == "shipped"
    got = estate.get(f"/api/v1/orders/{r['order_id']}").json()
    assert got["assignments"][0]["tracking_number"] == "1Z9"
    ret = estate.post(f"/api/v1/orders/{r['order_id']}/returns", json={"location": "WH-NJ", "lines": {"1": 1}, "to_state": "damaged"})
    assert ret.status_code == 201 and ret.json()["state"] == "returned"
    p = position(estate, "BOOT-42", "WH-NJ")
    assert (p["on_hand"], p["damaged"], p["reserved"]) == (1, 1, 0)


def test_same_order_again_is_one_order_and_an_older_version_changes_nothing(estate):
    stock(estate, "BOOT-42", "WH-NJ", 5)
    newer = order(estate, ("BOOT-42", 2), external_id="#1001", channel_updated_at="2026-11-20T10:05:00Z", shipping_address=NYC_CUSTOMER)
    older = order(estate, ("BOOT-42", 4), external_id="#1001", channel_updated_at="2026-11-20T10:00:00Z", shipping_address=NYC_CUSTOMER)
    assert older["order_id"] == newer["order_id"] and older["verdict"] == "stale"
    assert position(estate, "BOOT-42", "WH-NJ")["reserved"] == 2


def test_bad_orders_get_clear_problems(estate):
    r = estate.post("/api/v1/orders", json={"lines": [{"sku": "NOPE", "quantity": 1}]})
    assert r.status_code == 422 and "NOPE" in r.json()["detail"]
    r = estate.post("/api/v1/orders", json={"lines": []})
    assert r.status_code == 422
    r = estate.post("/api/v1/orders", json={"lines": [{"sku": "BOOT-42", "quantity": 1}], "pickup_location": "MARS"})
    assert r.status_code == 404 and r.json()["errors"][0]["field"] == "pickup_location"
    assert estate.get("/api/v1/orders/999").status_code == 404
    bad_rules = estate.put("/api/v1/routing-rules", json={"rules": [{"name": "x", "sort": ["vibes"]}]})
    assert bad_rules.status_code == 422


def test_a_fraud_hold_is_raised_with_its_reasons_and_released_by_an_operator(estate):
    """Given a first-time customer whose billing country differs from the shipping one,
    when the order arrives, then it is held with that reason and its units already count
    against ATP; when an operator releases it, it is routed and reserved."""
    stock(estate, "BOOT-42", "WH-NJ", 3)
    r = order(estate, ("BOOT-42", 1), billing_country="FR", shipping_address=NYC_CUSTOMER,
              customer={"email": "new.buyer@example.com"})
    assert r["state"] == "held"
    assert any(h.startswith("country_mismatch") for h in r["holds"])
    assert estate.get("/api/v1/atp/BOOT-42").json()["atp"] == 2  # the held unit waits in the queue
    released = estate.post(f"/api/v1/orders/{r['order_id']}/release")
    assert released.status_code == 200, released.text
    assert released.json()["state"] == "allocated"
    assert position(estate, "BOOT-42", "WH-NJ")["reserved"] == 1
    assert estate.get("/api/v1/atp/BOOT-42").json()["atp"] == 2


def test_velocity_holds_the_sixth_order_in_an_hour(estate):
    stock(estate, "SHELL-M", "WH-NJ", 20)
    states = [order(estate, ("SHELL-M", 1), customer={"phone": "(212) 555-0100"}, shipping_address=NYC_CUSTOMER)["state"]
              for _ in range(6)]
    assert states == ["allocated"] * 5 + ["held"]


def test_the_same_person_on_shopify_at_the_pos_and_on_amazon_is_one_customer(estate):
    stock(estate, "SHELL-M", "WH-NJ", 5)
    stock(estate, "SHELL-M", "BKN", 5)
    a = order(estate, ("SHELL-M", 1), customer={"channel_customer_id": "gid://shopify/Customer/1", "email": "Ana.Lima@Example.com "},
              shipping_address=NYC_CUSTOMER)
    b = order(estate, ("SHELL-M", 1), channel="shopify_pos", origin_location="BKN", delivery_method="pickup_in_store",
              customer={"phone": "+1 212 555 0199", "email": "ana.lima@example.com"})
    c = order(estate, ("SHELL-M", 1), channel="amazon_seller", customer={"phone": "212-555-0199"}, shipping_address=NYC_CUSTOMER)
    ids = {x["order"]["customer_id"] for x in (a, b, c)}
    assert len(ids) == 1 and None not in ids
    mine = estate.get("/api/v1/orders", params={"customer_id": ids.pop()}).json()["items"]
    assert {o["channel"] for o in mine} == {"shopify", "shopify_pos", "amazon_seller"}


def test_store_mode_lists_nearby_stores_with_pickup_stock_and_says_if_express_is_possible(estate):
    """Given boots in SoHo and Brooklyn, when a shopper in ZIP 10012 (SoHo) looks, then SoHo
    comes first with its units and a pickup-ready time, and express is possible from SoHo."""
    stock(estate, "BOOT-42", "SOHO", 2)
    stock(estate, "BOOT-42", "BKN", 1)
    r = estate.get("/api/v1/availability/stores", params={"sku": "BOOT-42", "near": "10012"})
    assert r.status_code == 200, r.text
    body = r.json()
    stores = [(s["location"], s["available"]["BOOT-42"]) for s in body["stores"]]
    assert stores[0] == ("SOHO", 2) and ("BKN", 1) in stores
    assert body["stores"][0]["pickup_ready_at"] is not None
    assert body["express_possible"] and body["express"]["location"] == "SOHO"
    basket = estate.get("/api/v1/availability/stores", params={"sku": ["BOOT-42:2"], "near": "40.7081,-73.9571",
                                                                 "only_available": True}).json()
    assert [s["location"] for s in basket["stores"]] == ["SOHO"]
    assert estate.get("/api/v1/availability/stores", params={"sku": "BOOT-42", "near": "00000"}).status_code == 422


def test_an_order_refused_half_way_leaves_no_trace(estate):
    """Given an order that has shipped, when the channel sends a newer version adding a
    line (too late: the parcel left), then the version is refused with a clear error and
    what was done before the refusal (its units entering the brokering queue) is undone."""
    stock(estate, "BOOT-42", "WH-NJ", 4)
    stock(estate, "SHELL-M", "WH-NJ", 4)
    r = order(estate, ("BOOT-42", 1), external_id="#9", channel_updated_at="2026-11-20T10:00:00Z", shipping_address=NYC_CUSTOMER)
    assert estate.post(f"/api/v1/orders/{r['order_id']}/shipments", json={"location": "WH-NJ"}).status_code == 201
    newer = estate.post("/api/v1/orders", json={
        "channel": "shopify", "external_id": "#9", "channel_updated_at": "2026-11-20T11:00:00Z",
        "lines": [{"sku": "BOOT-42", "quantity": 1}, {"sku": "SHELL-M", "quantity": 2}], "shipping_address": NYC_CUSTOMER})
    assert newer.status_code == 409, newer.text
    atp = estate.get("/api/v1/atp/SHELL-M").json()
    assert (atp["atp"], atp["brokering_queue"]) == (4, 0)
    doc = estate.get(f"/api/v1/orders/{r['order_id']}").json()
    assert [ln["sku"] for ln in doc["document"]["lines"]] == ["BOOT-42"] and doc["state"] == "shipped"


def test_an_order_the_channel_reopens_after_its_cancellation_stays_cancelled_and_gives_back_every_unit(estate):
    """Given Shopify cancelled an order for 2 boots, when a later update of it arrives without
    the cancellation (Shopify cannot un-cancel: an adapter slip or a re-open elsewhere), then
    the order stays cancelled, none of its units waits in the brokering queue or is reserved,
    every channel can sell both boots again, and GET order flags it `reopened_after_cancel`
    so an operator can create a new order if the customer really still wants the boots."""
    stock(estate, "BOOT-42", "WH-NJ", 3)
    at = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)
    placed = Order("shopify", "#2001", at, (OrderLine("1", "BOOT-42", 2),), shipping_address=Address(country="US"))
    first = estate.hub.orders.ingest(placed)
    assert first.state == "allocated"
    estate.hub.orders.ingest(replace(placed, channel_updated_at=at + timedelta(minutes=5), cancelled=True))
    reopened = estate.hub.orders.ingest(replace(placed, channel_updated_at=at + timedelta(minutes=9)))
    assert (reopened.verdict, reopened.state) == ("updated", "cancelled")
    atp = estate.get("/api/v1/atp/BOOT-42").json()
    assert (atp["atp"], atp["brokering_queue"]) == (3, 0)
    assert position(estate, "BOOT-42", "WH-NJ")["reserved"] == 0
    got = estate.get(f"/api/v1/orders/{first.order_id}").json()
    assert got["state"] == "cancelled" and got["holds"] == ["reopened_after_cancel"]
    assert got["brokering_queue"] is None and got["document"]["channel_updated_at"].startswith("2026-11-20T10:09")
    again = estate.hub.orders.ingest(replace(placed, channel_updated_at=at + timedelta(minutes=9)))
    assert again.verdict == "duplicate" and estate.get("/api/v1/atp/BOOT-42").json()["atp"] == 3


def test_a_channel_edit_after_an_operator_cancelled_the_order_does_not_bring_its_units_back(estate):
    """Given an operator cancelled a shell order in the hub (the customer phoned the store),
    when Shopify, which never heard of that cancellation, sends a later edit of the order,
    then the order stays cancelled, no shell waits in the brokering queue, and the order is
    flagged for the operator, who settles it with the channel."""
    stock(estate, "SHELL-M", "WH-NJ", 1)
    r = order(estate, ("SHELL-M", 1), ("SHELL-L", 2), external_id="#2002", channel="shopify",
              channel_updated_at="2026-11-20T10:00:00Z", shipping_address=NYC_CUSTOMER)
    assert r["state"] == "partly_allocated"  # no large shells anywhere: 2 wait in the queue
    assert estate.post(f"/api/v1/orders/{r['order_id']}/cancel", json={}).status_code == 200
    edit = order(estate, ("SHELL-M", 1), ("SHELL-L", 3), external_id="#2002", channel="shopify",
                 channel_updated_at="2026-11-20T10:30:00Z", shipping_address=NYC_CUSTOMER, notes="gift wrap")
    assert (edit["verdict"], edit["state"], edit["holds"]) == ("updated", "cancelled", ["reopened_after_cancel"])
    for sku in ("SHELL-M", "SHELL-L"):
        assert estate.get(f"/api/v1/atp/{sku}").json()["brokering_queue"] == 0, sku
    assert estate.get("/api/v1/atp/SHELL-M").json()["atp"] == 1


def test_a_split_order_ships_its_first_parcel_and_the_rest_is_routed_when_stock_arrives(estate):
    """Given two boots in the warehouse and no shells anywhere, when a customer orders both,
    the boots are reserved and the shells wait; the boots ship (partly shipped); then shells
    arrive, and the queue routes them: the order stays partly shipped (a parcel is already
    on its way), the shells are reserved, nothing waits, and the second parcel ships it all."""
    stock(estate, "BOOT-42", "WH-NJ", 2)
    r = order(estate, ("BOOT-42", 2), ("SHELL-M", 1), shipping_address=NYC_CUSTOMER)
    assert r["state"] == "partly_allocated"
    oid = r["order_id"]
    s = estate.post(f"/api/v1/orders/{oid}/shipments", json={"location": "WH-NJ", "carrier": "UPS", "tracking_number": "1Z1"})
    assert s.status_code == 201 and s.json()["state"] == "partly_shipped"

    stock(estate, "SHELL-M", "WH-NJ", 3)
    results = estate.hub.orders.retry_queue(now=datetime.now(UTC) + timedelta(days=1))
    assert not [x for x in results if isinstance(x, Exception)], results
    got = estate.get(f"/api/v1/orders/{oid}").json()
    assert got["state"] == "partly_shipped"
    assert got["brokering_queue"] is None
    assert position(estate, "SHELL-M", "WH-NJ")["reserved"] == 1

    s = estate.post(f"/api/v1/orders/{oid}/shipments", json={"location": "WH-NJ", "carrier": "UPS", "tracking_number": "1Z2"})
    assert s.status_code == 201 and s.json()["state"] == "shipped"
    assert position(estate, "SHELL-M", "WH-NJ")["reserved"] == 0


def test_parcels_are_delivered_one_by_one_and_the_order_when_the_last_arrives(estate):
    """Given an order split into two parcels, when the carrier confirms the first, that
    parcel's lines say delivered and the order is still partly shipped (the rest is on a
    shelf); when the second has shipped and is confirmed, the order is delivered. No stock
    moves on delivery, a parcel that never left cannot be delivered, and a delivered
    order can still be returned."""
    stock(estate, "BOOT-42", "WH-NJ", 1)
    stock(estate, "SHELL-M", "SOHO", 1)
    r = order(estate, ("BOOT-42", 1), ("SHELL-M", 1), shipping_address=NYC_CUSTOMER)
    assert r["state"] == "allocated", r
    oid = r["order_id"]
    first = estate.post(f"/api/v1/orders/{oid}/shipments", json={"location": "WH-NJ", "tracking_number": "1ZA"}).json()
    parcel = first["assignments"][0]["shipment_id"]
    wrong = estate.post(f"/api/v1/orders/{oid}/deliveries", json={"shipment_id": "no-such-parcel"})
    assert wrong.status_code == 422 and wrong.json()["errors"][0]["field"] == "shipment_id"

    d = estate.post(f"/api/v1/orders/{oid}/deliveries", json={"shipment_id": parcel})
    assert d.status_code == 200 and d.json()["state"] == "partly_shipped"
    got = estate.get(f"/api/v1/orders/{oid}").json()
    assert {(a["sku"], a["state"]) for a in got["assignments"]} == {("BOOT-42", "delivered"), ("SHELL-M", "reserved")}

    before = position(estate, "SHELL-M", "SOHO")
    estate.post(f"/api/v1/orders/{oid}/shipments", json={"location": "SOHO"})
    d = estate.post(f"/api/v1/orders/{oid}/deliveries", json={})
    assert d.status_code == 200 and d.json()["state"] == "delivered"
    assert position(estate, "SHELL-M", "SOHO")["on_hand"] == before["on_hand"] - 1  # the shipment, not the delivery
    assert state_changes(estate.hub, oid)[-2:] == [("partly_shipped", "shipped"), ("shipped", "delivered")]
    assert estate.post(f"/api/v1/orders/{oid}/deliveries", json={}).status_code == 422  # nothing left on its way
    ret = estate.post(f"/api/v1/orders/{oid}/returns", json={"location": "SOHO", "lines": {"2": 1}})
    assert ret.status_code == 201 and ret.json()["state"] == "returned"


def test_an_order_under_safety_stock_rules_leaves_the_figures_a_rebuild_computes(estate):
    """The batch reads the safety-stock rules once, to route, and the channel projection
    works with the same rules: what the channel shows afterwards is what a rebuild from
    scratch computes."""
    import sqlalchemy as sa

    from omnihub.adapters.db import tables as t
    from omnihub.adapters.db.projection_rebuild import rebuild_all

    hub = estate.hub
    hub.catalog.set_policy(channel="shopify", sku="SHELL-M", safety_stock=2)
    hub.catalog.set_policy(location="SOHO", safety_stock=1)
    stock(estate, "SHELL-M", "WH-NJ", 10)
    stock(estate, "SHELL-M", "SOHO", 4)
    stock(estate, "BOOT-42", "SOHO", 3)
    placed = order(estate, ("SHELL-M", 3), ("BOOT-42", 1), shipping_address=NYC_CUSTOMER)
    assert placed["state"] == "allocated"

    def figures() -> dict:
        ca = t.channel_availability
        with hub.engine.connect() as c:
            return {(r.sku, r.location): r.quantity for r in c.execute(sa.select(ca).where(ca.c.channel == "shopify"))}

    shown = figures()
    rebuild_all(hub.engine)
    assert figures() == shown
    assert shown[("BOOT-42", "SOHO")] == 1  # 3 on hand, 1 reserved, 1 kept back at SoHo
