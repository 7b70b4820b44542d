"""Stock an order action moves carries, in the ledger itself, who acted (issue 17): the
units an operator's cancellation releases, the reservation her release of a held order
makes, the reservation of an order taken in through the API (its client's), and the
CLI's cancellation as the local admin. An order a channel's webhook or poll brings names
no one: the channel did it."""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from omnihub.adapters.db import tables as t
from omnihub.entrypoints.api.app import create_app
from omnihub.entrypoints.cli.main import app as cli
from tests.conftest import add_location, add_skus, bearer, issue_token

#: ship from the warehouse only, and hold (for an operator) what it cannot ship whole
WAREHOUSE_OR_REFUSE = {
    "rules": [{"name": "warehouse-or-refuse", "order_filter": {}, "location_filter": {"kinds": ["warehouse"]},
               "sort": ["priority"], "split": {"mode": "no_split"}, "fallback": "reject"}],
    "final_fallback": "queue",
}
ADDRESS = {"line1": "1 Main St", "city": "Newark", "postal_code": "07102", "country": "US"}


def _ledger(hub, order_id: int) -> list[tuple[str, str, int, str | None]]:
    m = t.movements
    with hub.engine.connect() as conn:
        rows = conn.execute(sa.select(m.c.reason, m.c.location, m.c.quantity, m.c.actor)
                            .where(m.c.reference == f"order:{order_id}").order_by(m.c.id)).all()
    return [tuple(r) for r in rows]


def test_cancel_and_release_name_their_actor_in_the_ledger(hub, clean_url):
    add_location(hub, "WH", kind="warehouse", capabilities=["ship"], lat=40.73, lng=-74.17)
    add_location(hub, "ST", kind="store", lat=40.72, lng=-74.0)
    add_skus(hub, "A", "B")
    admin = bearer(issue_token(hub, "admin", name="erp-feed"))
    olga = bearer(issue_token(hub, "operator", name="olga-console"))
    with TestClient(create_app(hub=hub)) as api:
        olga_actor = api.get("/api/v1/whoami", headers=olga).json()
        olga_actor = f"token:{olga_actor['id']}:olga-console"
        feed_actor = f"token:{api.get('/api/v1/whoami', headers=admin).json()['id']}:erp-feed"
        assert api.put("/api/v1/routing-rules", json=WAREHOUSE_OR_REFUSE, headers=admin).status_code == 200
        for sku, location in (("A", "WH"), ("B", "ST")):
            r = api.post("/api/v1/stock/receive", json={"sku": sku, "location": location, "quantity": 5}, headers=admin)
            assert r.status_code == 201, r.text

        def order(external_id: str, sku: str) -> dict:
            r = api.post("/api/v1/orders", headers=admin, json={
                "channel": "manual", "external_id": external_id, "lines": [{"sku": sku, "quantity": 2}],
                "shipping_address": ADDRESS})
            assert r.status_code == 201, r.text
            return r.json()

        # an operator cancels an order reserved at the warehouse: the release is hers
        first = order("1001", "A")
        assert [a["location"] for a in first["assignments"]] == ["WH"]
        r = api.post(f"/api/v1/orders/{first['order_id']}/cancel", json={}, headers=olga)
        assert r.status_code == 200, r.text
        assert _ledger(hub, first["order_id"]) == [("reservation", "WH", 2, feed_actor), ("release", "WH", 2, olga_actor)]

        # the warehouse has no B: the rules hold the order; B arrives; her release routes it
        second = order("1002", "B")
        assert second["state"] == "held" and _ledger(hub, second["order_id"]) == []
        assert api.post("/api/v1/stock/receive", json={"sku": "B", "location": "WH", "quantity": 5},
                        headers=admin).status_code == 201
        r = api.post(f"/api/v1/orders/{second['order_id']}/release", headers=olga)
        assert r.status_code == 200, r.text
        assert r.json()["state"] == "allocated"
        assert _ledger(hub, second["order_id"]) == [("reservation", "WH", 2, olga_actor)]

    # the CLI cancels the second one as the local admin
    done = CliRunner().invoke(cli, ["orders", "cancel", str(second["order_id"]), "--database-url", clean_url])
    assert done.exit_code == 0, done.output
    [*_, (reason, location, units, actor)] = _ledger(hub, second["order_id"])
    assert (reason, location, units) == ("release", "WH", 2) and actor.startswith("local_admin:")


#: ship from a warehouse; what none holds waits in the brokering queue
WAREHOUSE_OR_WAIT = {"rules": [{"name": "warehouse-first", "location_filter": {"kinds": ["warehouse"]},
                                "sort": ["priority"]}], "final_fallback": "queue"}
ANY_LOCATION = {"rules": [{"name": "anywhere", "sort": ["priority"]}], "final_fallback": "queue"}


def _due_now(hub) -> None:
    """Every queued order's retry time has come (the queue waits between attempts)."""
    with hub.engine.begin() as conn:
        conn.execute(sa.update(t.brokering_queue).values(next_attempt_at=datetime(2000, 1, 1, tzinfo=UTC)))


def test_a_retry_of_the_queue_names_who_asked_for_it(hub, clean_url):
    """The reservations `POST /brokering-queue/retry` and `omnihub orders retry-queue` make
    are the asker's: an operator's token, the CLI's local admin."""
    add_location(hub, "WH", kind="warehouse", capabilities=["ship"], lat=40.73, lng=-74.17)
    add_location(hub, "ST", kind="store", capabilities=["ship"], lat=40.72, lng=-74.0)
    add_skus(hub, "A")
    admin = bearer(issue_token(hub, "admin", name="erp-feed"))
    olga = bearer(issue_token(hub, "operator", name="olga-console"))
    with TestClient(create_app(hub=hub)) as api:
        olga_actor = f"token:{api.get('/api/v1/whoami', headers=olga).json()['id']}:olga-console"
        assert api.put("/api/v1/routing-rules", json=WAREHOUSE_OR_WAIT, headers=admin).status_code == 200
        r = api.post("/api/v1/stock/receive", json={"sku": "A", "location": "ST", "quantity": 5}, headers=admin)
        assert r.status_code == 201, r.text
        waiting = []
        for external_id in ("2001", "2002"):
            r = api.post("/api/v1/orders", headers=admin, json={
                "channel": "manual", "external_id": external_id, "lines": [{"sku": "A", "quantity": 2}],
                "shipping_address": ADDRESS})
            assert r.status_code == 201, r.text
            assert r.json()["assignments"] == [], r.text  # only the store has A: it waits
            waiting.append(r.json()["order_id"])
        assert api.put("/api/v1/routing-rules", json=ANY_LOCATION, headers=admin).status_code == 200
        _due_now(hub)
        r = api.post("/api/v1/brokering-queue/retry", params={"limit": 1}, headers=olga)
        assert r.status_code == 200 and r.json()["retried"] == 1, r.text
        retried_by_olga = r.json()["results"][0]["order_id"]
        assert _ledger(hub, retried_by_olga) == [("reservation", "ST", 2, olga_actor)]

    [left] = [o for o in waiting if o != retried_by_olga]
    _due_now(hub)
    done = CliRunner().invoke(cli, ["orders", "retry-queue", "--database-url", clean_url])
    assert done.exit_code == 0, done.output
    [(reason, location, units, actor)] = _ledger(hub, left)
    assert (reason, location, units) == ("reservation", "ST", 2) and actor.startswith("local_admin:")
