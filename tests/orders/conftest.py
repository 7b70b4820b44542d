"""A small retail estate for the order stories: a warehouse in New Jersey, two Manhattan
stores and one in Brooklyn, with an online and a POS channel."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.conftest import admin_app

NYC_CUSTOMER = {"country": "US", "lat": 40.7505, "lng": -73.9934}  # Midtown


@pytest.fixture
def estate(hub):
    with TestClient(admin_app(hub)) as api:
        for loc in [
            {"code": "WH-NJ", "name": "Newark warehouse", "kind": "warehouse", "lat": 40.7357, "lng": -74.1724,
             "capabilities": ["ship"], "priority": 10},
            {"code": "SOHO", "name": "SoHo store", "kind": "store", "lat": 40.7233, "lng": -74.0030,
             "capabilities": ["ship", "pickup", "curbside", "express"], "priority": 50},
            {"code": "UES", "name": "Upper East Side store", "kind": "store", "lat": 40.7736, "lng": -73.9566,
             "capabilities": ["ship", "pickup", "express"], "priority": 50},
            {"code": "BKN", "name": "Brooklyn store", "kind": "store", "lat": 40.7081, "lng": -73.9571,
             "capabilities": ["pickup"], "priority": 60},
        ]:
            assert api.post("/api/v1/locations", json=loc).status_code == 201
        api.post("/api/v1/products", json={"title": "Rain shell", "variants": [{"sku": "SHELL-M"}, {"sku": "SHELL-L"}]})
        api.post("/api/v1/products", json={"title": "Boots", "variants": [{"sku": "BOOT-42"}]})
        api.put("/api/v1/channels/shopify", json={"name": "Shopify", "kind": "shopify", "per_location": True})
        api.hub = hub
        yield api


def stock(api, sku, location, qty):
    r = api.post("/api/v1/stock/receive", json={"sku": sku, "location": location, "quantity": qty})
    assert r.status_code == 201, r.text


def order(api, *lines, **kw):
    body = {"channel": kw.pop("channel", "shopify"), "lines": [{"sku": s, "quantity": q} for s, q in lines]}
    body.update(kw)
    r = api.post("/api/v1/orders", json=body)
    assert r.status_code == 201, r.text
    return r.json()


def position(api, sku, location):
    return api.get(f"/api/v1/positions/{sku}").json()["locations"].get(location, {})


def state_changes(hub, order_id: int) -> list[tuple[str, str]]:
    """The order's OrderStateChanged events as (old, new), in the order they were raised,
    read from the outbox (the relay is off in tests, so nothing is lost to a subscriber)."""
    import sqlalchemy as sa

    from omnihub.adapters.bus.in_process import _events_of
    from omnihub.adapters.db import tables as t

    with hub.engine.connect() as c:
        rows = c.execute(sa.select(t.outbox.c.payload).where(t.outbox.c.topic == "order.state_changed")
                         .order_by(t.outbox.c.id)).scalars().all()
    return [(e["old"], e["new"]) for p in rows for e in _events_of(p) if e["order_id"] == order_id]


def check_state_history(hub, orders) -> None:
    """Every state change raised its OrderStateChanged: each order's events, in order, walk
    the state machine's legal moves from `created` to the state it is stored in."""
    from omnihub.domain.order_states import OrderState, transition

    for o in orders:
        state = OrderState.CREATED
        for old, new in state_changes(hub, o.id):
            assert old == state, (o.external_id, state_changes(hub, o.id))
            state = transition(state, OrderState(new))
        assert state == o.state, (o.external_id, o.state, state_changes(hub, o.id))
