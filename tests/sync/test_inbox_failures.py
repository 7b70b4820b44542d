"""Deliveries that cannot go in never take the valid ones with them: each delivery of a
claimed batch is settled on its own merits. Poisoned ones (beyond the hub's limits, no
lines, fields of the wrong shape, a body that is not JSON) are parked, each with its own
reason; a transient failure is tried again with back-off (next attempt stored, attempts
counted, parked at the cap); an operator lists, pages, reads and retries what is parked,
from the API and the CLI. Over real HTTP through the hub's webhook endpoint."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import httpx
import sqlalchemy as sa
from cryptography.fernet import Fernet
from sqlalchemy.exc import OperationalError
from typer.testing import CliRunner

from omnihub.adapters.channels.credentials import CredentialVault
from omnihub.adapters.channels.shopify.webhook_signature import sign
from omnihub.adapters.db import tables as t
from tests.conftest import admin_app
from omnihub.entrypoints.cli.main import app as cli
from tests.sync.conftest import SHOPIFY_SECRET

SHOP = "omnihub-poison.myshopify.com"


def _api(hub, serve):
    hub.vault = CredentialVault(hub.engine, Fernet.generate_key().decode())
    hub.vault.put("shopify", {"shop_url": f"https://{SHOP}", "access_token": "x", "client_secret": SHOPIFY_SECRET})
    return serve(admin_app(hub))


def _post(url: str, body: bytes, webhook_id: str, topic: str = "orders/create") -> None:
    answer = httpx.post(url + "/webhooks/shopify", content=body, headers={
        "X-Shopify-Hmac-Sha256": sign(body, SHOPIFY_SECRET), "X-Shopify-Webhook-Id": webhook_id,
        "X-Shopify-Topic": topic, "X-Shopify-Shop-Domain": SHOP, "Content-Type": "application/json"})
    assert answer.status_code == 200 and answer.json() == {"status": "accepted"}, answer.text


def _order(number: int, **changes) -> dict:
    order = {"id": number, "updated_at": "2026-11-01T10:00:00+00:00", "created_at": "2026-11-01T10:00:00+00:00",
             "source_name": "web", "currency": "USD", "email": f"buyer{number}@example.com",
             "line_items": [{"id": number * 10, "sku": "A", "quantity": 1, "current_quantity": 1, "price": "9.99"}],
             "shipping_address": {"zip": "10001", "country_code": "US", "city": "New York"}}
    order.update(changes)
    return order


def _line(number: int, **changes) -> list[dict]:
    return [{"id": number * 10, "sku": "A", "quantity": 1, "current_quantity": 1, "price": "9.99", **changes}]


def _hub_orders(hub) -> set[str]:
    with hub.engine.connect() as conn:
        return set(conn.execute(sa.select(t.orders.c.external_id)).scalars())


def _inbox(hub) -> dict[str, tuple[str, int]]:
    ib = t.channel_inbox
    with hub.engine.connect() as conn:
        return {r.delivery_id: (r.state, r.attempts) for r in conn.execute(sa.select(ib))}


def _cli(hub, *args: str):
    out = CliRunner().invoke(cli, ["sync", "inbox-failures", *args, "--database-url", hub.settings.database_url],
                             env={"COLUMNS": "300"})
    assert out.exit_code == 0, out.output
    return out.stdout


def test_poisoned_deliveries_are_parked_each_with_its_reason_and_every_valid_order_goes_in(stocked, serve):
    hub = stocked
    api = _api(hub, serve)
    poisoned = {  # Shopify order number → (body, what its reason must name)
        9001: (_order(9001, line_items=_line(9001, price="100000000000000000000.00")), "unit_price_minor"),
        9002: (_order(9002, line_items=_line(9002, quantity=10**9, current_quantity=10**9)), "quantity"),
        9003: (_order(9003, line_items=[]), "no_lines"),
        9004: (_order(9004, line_items=_line(9004, quantity=0, current_quantity=0)), "quantity"),
        9005: (_order(9005, line_items="not a list"), "line_items"),
        9006: (_order(9006, line_items=_line(9006, quantity="lots")), "quantity"),
        9007: (_order(9007, shipping_address="10 Downing Street"), "ShopifyPayloadError"),
        9008: (_order(9008, line_items=_line(9008, price="NaN")), "amount"),
    }
    valid = [str(n) for n in range(1001, 1051)]
    bad = list(poisoned)
    for i, number in enumerate(valid):  # interleaved: the poisoned share the claimed batch with the valid
        _post(api.url, json.dumps(_order(int(number))).encode(), f"w-{number}")
        if i % 6 == 0 and bad:
            n = bad.pop(0)
            _post(api.url, json.dumps(poisoned[n][0]).encode(), f"w-{n}")
    assert not bad
    posted = poisoned
    _post(api.url, b'{"id": 9009, "line_items": [', "w-9009")  # not JSON at all

    assert hub.inbox.process_once(limit=200) == 59  # one claimed batch
    assert _hub_orders(hub) == set(valid)  # every valid order is in, none of the poisoned
    states = _inbox(hub)
    assert all(states[f"w-{n}"][0] == "done" for n in valid)
    assert not [k for k, (state, _) in states.items() if state == "pending"]

    failures = httpx.get(api.url + "/api/v1/sync/inbox/failures").json()["failures"]
    assert all(f["state"] == "parked" for f in failures), failures
    by_order = {}
    for f in failures:
        number = f["delivery_id"].rsplit(":", 1)[-1] if f["topic"] == "order/refused" else f["delivery_id"][2:]
        by_order[int(number)] = f
    assert sorted(by_order) == [*sorted(posted), 9009], failures  # one row each, nothing else
    for number, (_, named) in posted.items():
        assert named in by_order[number]["error"], (number, by_order[number])
    assert by_order[9009]["error"].startswith("JSONDecodeError")
    assert len({f["error"] for f in failures}) == len(failures)  # each its own reason
    # The refusals name the hub's limits, not a database error or a neighbour's.
    assert by_order[9001]["error"].startswith("out_of_range") and "100000000000" in by_order[9001]["error"]
    assert by_order[9002]["error"].startswith("out_of_range") and "100000" in by_order[9002]["error"]
    assert by_order[9003]["error"].startswith("no_lines")

    # Paged by id (keyset), each row readable with its stored body.
    first = httpx.get(api.url + "/api/v1/sync/inbox/failures", params={"limit": 4}).json()
    assert len(first["failures"]) == 4 and first["next_after_id"] == first["failures"][-1]["id"]
    rest = httpx.get(api.url + "/api/v1/sync/inbox/failures", params={"after_id": first["next_after_id"]}).json()
    assert [f["id"] for f in first["failures"] + rest["failures"]] == [f["id"] for f in failures]
    assert rest["next_after_id"] is None
    alias = httpx.get(api.url + "/api/v1/sync/inbox/failures", params={"after": first["next_after_id"]}).json()
    assert alias["failures"] == rest["failures"]
    shown = httpx.get(api.url + f"/api/v1/sync/inbox/failures/{by_order[9005]['id']}").json()
    assert shown["body"] == posted[9005][0] and shown["headers"]["x-shopify-topic"] == "orders/create"
    garbage = httpx.get(api.url + f"/api/v1/sync/inbox/failures/{by_order[9009]['id']}").json()
    assert garbage["body"] == '{"id": 9009, "line_items": ['  # what could not be read, as it came
    missing = httpx.get(api.url + "/api/v1/sync/inbox/failures/999999")
    assert missing.status_code == 404 and missing.headers["content-type"] == "application/problem+json"

    listed = _cli(hub, "--limit", "3")
    assert listed.count(" parked ") == 3 and f"--after {first['failures'][2]['id']}" in listed
    shown_cli = json.loads(_cli(hub, "show", str(by_order[9005]["id"])))
    assert shown_cli["body"] == posted[9005][0]


def test_a_transient_failure_is_retried_with_back_off_and_then_succeeds(stocked, serve):
    hub = stocked
    api = _api(hub, serve)
    now = [datetime.now(UTC)]
    hub.inbox.clock = lambda: now[0]
    for number in (2001, 2002, 2003):
        _post(api.url, json.dumps(_order(number)).encode(), f"w-{number}")
    real = hub.inbox.ingest_many
    injected = []

    def database_busy_once(orders):
        if injected:
            return real(orders)
        injected.append(True)  # once: the writer answers 2002 with the database busy
        return _failing("2002", OperationalError("UPDATE positions", {}, Exception("database is locked")), orders, real)

    hub.inbox.ingest_many = database_busy_once
    assert hub.inbox.drain() == 3
    assert _hub_orders(hub) == {"2001", "2003"}  # its neighbours went in
    [row] = httpx.get(api.url + "/api/v1/sync/inbox/failures").json()["failures"]
    assert (row["delivery_id"], row["state"], row["attempts"]) == ("w-2002", "pending", 1)
    assert "OperationalError" in row["error"] and "database is locked" in row["error"]
    next_at = datetime.fromisoformat(row["next_attempt_at"])
    assert now[0] + timedelta(seconds=0.9) <= next_at <= now[0] + timedelta(seconds=2.1)  # 1-2 s back-off
    assert hub.inbox.drain() == 0  # not before its time
    now[0] = next_at + timedelta(seconds=0.1)
    assert hub.inbox.drain() == 1
    assert _hub_orders(hub) == {"2001", "2002", "2003"}
    assert _inbox(hub)["w-2002"] == ("done", 1)
    assert httpx.get(api.url + "/api/v1/sync/inbox/failures").json()["failures"] == []

    # The pipeline's answer timing out for the whole call: each order is ingested on its own.
    calls = []

    def times_out_once(orders):
        calls.append(len(orders))
        if len(calls) == 1:
            raise TimeoutError("the stock writer did not answer in time")
        return real(orders)

    hub.inbox.ingest_many = times_out_once
    for number in (2004, 2005):
        _post(api.url, json.dumps(_order(number)).encode(), f"w-{number}")
    assert hub.inbox.drain() == 2
    assert calls == [2, 1, 1] and {"2004", "2005"} <= _hub_orders(hub)


def _failing(external_id, error, orders, ingest):
    """The pipeline's answers, with `error` as the answer for `external_id` (not ingested)."""
    answers = iter(ingest([o for o in orders if o.external_id != external_id]))
    return [error if o.external_id == external_id else next(answers) for o in orders]


def test_a_failure_that_never_passes_is_parked_at_the_cap(stocked, serve):
    hub = stocked
    api = _api(hub, serve)
    now = [datetime.now(UTC)]
    hub.inbox.clock = lambda: now[0]
    hub.inbox.max_attempts = 4
    real = hub.inbox.ingest_many
    hub.inbox.ingest_many = lambda orders: _failing("3001", TimeoutError("the channel call timed out"), orders, real)
    _post(api.url, json.dumps(_order(3001)).encode(), "w-3001")
    seen = []
    for _ in range(10):
        hub.inbox.drain()
        seen.append(_inbox(hub)["w-3001"])
        now[0] += timedelta(minutes=11)  # past any back-off
    assert seen[:4] == [("pending", 1), ("pending", 2), ("pending", 3), ("parked", 4)]
    assert seen[-1] == ("parked", 4)  # parked: no more attempts
    [row] = httpx.get(api.url + "/api/v1/sync/inbox/failures").json()["failures"]
    assert row["state"] == "parked" and row["error"].startswith("gave up after 4 attempts: TimeoutError")

    # An operator sends it through again once the cause is gone.
    hub.inbox.ingest_many = real
    answer = httpx.post(api.url + f"/api/v1/sync/inbox/failures/{row['id']}/retry")
    assert answer.status_code == 200 and answer.json()["state"] == "pending", answer.text
    assert hub.inbox.drain() == 1
    assert "3001" in _hub_orders(hub) and _inbox(hub)["w-3001"][0] == "done"
    again = httpx.post(api.url + f"/api/v1/sync/inbox/failures/{row['id']}/retry")
    assert again.status_code == 404 and again.headers["content-type"] == "application/problem+json"


def test_an_operator_retries_a_refused_order_once_its_cause_is_fixed(stocked, serve):
    hub = stocked
    api = _api(hub, serve)
    _post(api.url, json.dumps(_order(4001, line_items=_line(4001, sku="NEW-SKU"))).encode(), "w-4001")
    hub.inbox.drain()
    [row] = httpx.get(api.url + "/api/v1/sync/inbox/failures").json()["failures"]
    assert row["topic"] == "order/refused" and row["error"].startswith("unknown_sku")
    hub.catalog.create_product("New", [{"sku": "NEW-SKU"}])  # the merchant adds the product
    out = _cli(hub, "retry", str(row["id"]))
    assert "queued again" in out and "delivery" in out  # sent again by the webhook that brought it
    assert hub.inbox.drain() == 1
    assert "4001" in _hub_orders(hub)
    assert httpx.get(api.url + "/api/v1/sync/inbox/failures").json()["failures"] == []
