"""orderCancel as the 2025-09 Admin schema declares it, and a merchant's cancellation in the
admin (the control plane), over real HTTP: the job it answers is done and found by
`job(id:)`; the order then shows cancelledAt, cancelReason, the staff note and REFUNDED
when refunded from PAID (PAID when not); restock puts the committed units back in
available; an unknown order answers NOT_FOUND and a cancelled one INVALID, changing
nothing; `refundMethod` is a OneOf; the merchant's webhooks obey the delivery faults.
Every document sent here validates against the official schema."""

from __future__ import annotations

import json

import pytest
from graphql import parse, validate

from test_shopify_sales_and_oversell import level, set_available
from test_shopify_webhooks import subscribe

CANCEL = """
mutation Cancel($id: ID!, $reason: OrderCancelReason!, $restock: Boolean!, $refundMethod: OrderCancelRefundMethodInput,
                $notify: Boolean, $note: String) {
  orderCancel(orderId: $id, reason: $reason, restock: $restock, refundMethod: $refundMethod,
              notifyCustomer: $notify, staffNote: $note) {
    job { id done }
    jobResult { id done status errors { code } order { id cancelledAt } }
    orderCancelUserErrors { field message code }
  }
}"""
CANCEL_DEPRECATED_REFUND = """
mutation CancelOld($id: ID!, $refund: Boolean) {
  orderCancel(orderId: $id, reason: CUSTOMER, restock: true, refund: $refund) {
    job { id done }
    orderCancelUserErrors { field message code }
  }
}"""
JOB = """
query Job($id: ID!) { job(id: $id) { id done query { order(id: "gid://shopify/Order/0") { id } } } }"""
CANCELLED = """
query Cancelled($id: ID!) {
  order(id: $id) {
    id cancelledAt cancelReason closed displayFinancialStatus cancellation { staffNote }
    lineItems(first: 10) { nodes { sku quantity currentQuantity } }
    fulfillmentOrders(first: 5) { nodes { status } }
  }
}"""
ORDERS_CANCELLED = """
query Orders($query: String) { orders(first: 10, query: $query) { nodes { id cancelledAt cancelReason
  displayFinancialStatus } } }"""
DOCUMENTS = (CANCEL, CANCEL_DEPRECATED_REFUND, JOB, CANCELLED, ORDERS_CANCELLED)


@pytest.fixture
def shop(live_sandbox):
    client, app = live_sandbox(catalog_stores=1, catalog_warehouses=1, initial_stock_max=10)
    catalog = client.control("GET", "/catalog").json()
    warehouse = next(loc for loc in catalog["locations"] if not loc["pos"])
    store = next(loc for loc in catalog["locations"] if loc["pos"])
    return client, catalog, warehouse, store


def _order(client, catalog, warehouse, store, units: int = 3, variant: int = 0, email: str | None = "ada@example.com"):
    sku = catalog["variants"][variant]["sku"]
    set_available(client, sku, warehouse["id"], 8)
    set_available(client, sku, store["id"], 0)
    placed = client.control("POST", "/orders", json={"lines": [{"sku": sku, "quantity": units}], "email": email})
    assert placed.status_code == 201, placed.text
    return sku, placed.json()["admin_graphql_api_id"]


def _cancel(client, gid, **variables) -> dict:
    return client.data(CANCEL, {"id": gid, "reason": "CUSTOMER", "restock": True, **variables})["orderCancel"]


@pytest.mark.shared
def test_every_document_here_is_valid_against_the_official_schema(official_admin_schema):
    for document in DOCUMENTS:
        assert [e.message for e in validate(official_admin_schema, parse(document))] == [], document


@pytest.mark.shared
def test_the_hub_reads_of_cancelled_orders_ask_for_fields_the_official_order_has(official_admin_schema):
    order = official_admin_schema.type_map["Order"]
    for field in ("cancelledAt", "cancelReason", "displayFinancialStatus", "cancellation"):
        assert field in order.fields  # type: ignore[attr-defined]


def test_a_refunded_restocked_cancellation_is_a_done_job_and_shows_on_the_order(shop):
    client, catalog, warehouse, store = shop
    sku, gid = _order(client, catalog, warehouse, store, units=3)
    assert (level(client, sku, warehouse["id"])["available"], level(client, sku, warehouse["id"])["committed"]) == (5, 3)

    out = _cancel(client, gid, refundMethod={"originalPaymentMethodsRefund": True}, note="customer changed their mind")
    assert out["orderCancelUserErrors"] == []
    assert out["job"]["done"] is True and out["job"]["id"].startswith("gid://shopify/Job/")
    assert out["jobResult"]["status"] == "SUCCEEDED" and out["jobResult"]["done"] is True
    assert out["jobResult"]["order"]["id"] == gid and out["jobResult"]["order"]["cancelledAt"]

    job = client.data(JOB, {"id": out["job"]["id"]})["job"]
    assert job["done"] is True and job["id"] == out["job"]["id"] and job["query"] == {"order": None}
    assert client.data(JOB, {"id": "gid://shopify/Job/1"})["job"] is None

    order = client.data(CANCELLED, {"id": gid})["order"]
    assert order["cancelledAt"] and order["cancelReason"] == "CUSTOMER" and order["closed"] is True
    assert order["displayFinancialStatus"] == "REFUNDED"
    assert order["cancellation"] == {"staffNote": "customer changed their mind"}
    assert [(n["quantity"], n["currentQuantity"]) for n in order["lineItems"]["nodes"]] == [(3, 0)]
    assert [n["status"] for n in order["fulfillmentOrders"]["nodes"]] == ["CANCELLED"]
    after = level(client, sku, warehouse["id"])
    assert (after["available"], after["committed"], after["on_hand"]) == (8, 0, 8)  # back on sale
    # The orders query a poller or reconciliation pages through shows the cancellation too.
    nodes = client.data(ORDERS_CANCELLED, {"query": "status:cancelled"})["orders"]["nodes"]
    assert [(n["id"], n["cancelReason"], n["displayFinancialStatus"]) for n in nodes] == [(gid, "CUSTOMER", "REFUNDED")]
    assert nodes[0]["cancelledAt"] == order["cancelledAt"]


def test_without_refund_a_paid_order_stays_paid_and_without_restock_no_unit_goes_back_on_sale(shop):
    client, catalog, warehouse, store = shop
    sku, gid = _order(client, catalog, warehouse, store, units=2, variant=1)
    out = _cancel(client, gid, restock=False, reason="INVENTORY")
    assert out["orderCancelUserErrors"] == [] and out["job"]["done"] is True
    order = client.data(CANCELLED, {"id": gid})["order"]
    assert (order["displayFinancialStatus"], order["cancelReason"]) == ("PAID", "INVENTORY")
    assert order["cancellation"] == {"staffNote": None}
    after = level(client, sku, warehouse["id"])
    assert (after["available"], after["committed"], after["on_hand"]) == (6, 0, 6)


def test_the_deprecated_refund_argument_still_refunds(shop):
    client, catalog, warehouse, store = shop
    _, gid = _order(client, catalog, warehouse, store, units=1, variant=2)
    out = client.data(CANCEL_DEPRECATED_REFUND, {"id": gid, "refund": True})["orderCancel"]
    assert out["orderCancelUserErrors"] == [] and out["job"]["done"] is True
    assert client.data(CANCELLED, {"id": gid})["order"]["displayFinancialStatus"] == "REFUNDED"


def test_unknown_and_already_cancelled_orders_answer_user_errors_and_change_nothing(shop):
    client, catalog, warehouse, store = shop
    sku, gid = _order(client, catalog, warehouse, store, units=2, variant=3)
    unknown = _cancel(client, "gid://shopify/Order/1")
    assert unknown["job"] is None and unknown["jobResult"] is None
    assert unknown["orderCancelUserErrors"] == [{"field": ["orderId"], "message": "Order does not exist.",
                                                 "code": "NOT_FOUND"}]
    assert _cancel(client, gid)["orderCancelUserErrors"] == []
    before = (level(client, sku, warehouse["id"]), client.data(CANCELLED, {"id": gid})["order"])
    again = _cancel(client, gid, reason="OTHER", refundMethod={"originalPaymentMethodsRefund": True})
    assert again["job"] is None
    assert [(e["field"], e["code"]) for e in again["orderCancelUserErrors"]] == [(["orderId"], "INVALID")]
    assert (level(client, sku, warehouse["id"]), client.data(CANCELLED, {"id": gid})["order"]) == before


def test_a_fulfilled_order_cannot_be_cancelled(shop):
    client, catalog, warehouse, store = shop
    sku = catalog["variants"][4]["sku"]
    set_available(client, sku, store["id"], 3)
    sold = client.control("POST", "/pos-sales", json={"location_id": store["id"], "lines": [{"sku": sku, "quantity": 1}]})
    out = _cancel(client, sold.json()["admin_graphql_api_id"])
    assert out["job"] is None and [e["code"] for e in out["orderCancelUserErrors"]] == ["INVALID"]


def test_refund_method_is_a_one_of_and_store_credit_needs_a_customer(shop):
    client, catalog, warehouse, store = shop
    _, gid = _order(client, catalog, warehouse, store, units=1, variant=5, email=None)
    both = client.gql(CANCEL, {"id": gid, "reason": "CUSTOMER", "restock": True,
                               "refundMethod": {"originalPaymentMethodsRefund": True, "storeCreditRefund": {}}})
    assert both["errors"] and "OneOf" in both["errors"][0]["message"]
    credit = _cancel(client, gid, refundMethod={"storeCreditRefund": {}})
    assert credit["job"] is None
    assert [e["code"] for e in credit["orderCancelUserErrors"]] == ["STORE_CREDIT_REFUND_MISSING_CUSTOMER"]
    long_note = _cancel(client, gid, note="x" * 256)
    assert [(e["field"], e["code"]) for e in long_note["orderCancelUserErrors"]] == [(["staffNote"], "INVALID")]
    assert client.data(CANCELLED, {"id": gid})["order"]["cancelledAt"] is None  # refused: still open


def test_store_credit_refunds_an_order_with_a_customer(shop):
    client, catalog, warehouse, store = shop
    _, gid = _order(client, catalog, warehouse, store, units=1, variant=6)
    past = _cancel(client, gid, refundMethod={"storeCreditRefund": {"expiresAt": "2020-01-01T00:00:00Z"}})
    assert [e["code"] for e in past["orderCancelUserErrors"]] == ["STORE_CREDIT_REFUND_EXPIRATION_IN_PAST"]
    out = _cancel(client, gid, refundMethod={"storeCreditRefund": {"expiresAt": "2099-01-01T00:00:00Z"}})
    assert out["orderCancelUserErrors"] == []
    order = client.control("GET", f"/orders/{gid.rsplit('/', 1)[-1]}").json()["order"]
    assert order["financial_status"] == "refunded"
    assert [t["gateway"] for r in order["refunds"] for t in r["transactions"]] == ["shopify_store_credit"]


def test_a_merchant_cancellation_in_the_admin_sends_its_webhooks_subject_to_the_faults(shop, webhook_receiver):
    client, catalog, warehouse, store = shop
    for topic in ("ORDERS_CANCELLED", "REFUNDS_CREATE"):
        subscribe(client, topic, webhook_receiver.url + "/hooks")
    sku, gid = _order(client, catalog, warehouse, store, units=2, variant=7)
    number = gid.rsplit("/", 1)[-1]
    made = client.control("POST", f"/orders/{number}/cancellations", json={"reason": "CUSTOMER", "staff_note": "phoned in"})
    assert made.status_code == 201, made.text
    assert made.json()["financial_status"] == "REFUNDED" and made.json()["cancel_reason"] == "CUSTOMER"
    received = webhook_receiver.wait_for(2)
    topics = sorted(h["headers"]["x-shopify-topic"] for h in received)
    assert topics == ["orders/cancelled", "refunds/create"]
    body = json.loads(next(h["body"] for h in received if h["headers"]["x-shopify-topic"] == "orders/cancelled"))
    assert body["cancel_reason"] == "customer" and body["cancelled_at"] and body["financial_status"] == "refunded"
    assert level(client, sku, warehouse["id"])["available"] == 8
    order = client.data(CANCELLED, {"id": gid})["order"]
    assert order["cancellation"] == {"staffNote": "phoned in"} and order["cancelledAt"] == made.json()["cancelled_at"]

    again = client.control("POST", f"/orders/{number}/cancellations", json={})
    assert again.status_code == 409 and again.json()["error"]["code"] == "INVALID"
    assert client.control("POST", "/orders/1/cancellations", json={}).status_code == 404

    # Every webhook lost: the cancellation is made all the same, and nobody hears of it.
    assert client.control("PUT", "/faults", json={"loss_rate": 1.0}).status_code == 200
    _, lost = _order(client, catalog, warehouse, store, units=1, variant=0)
    seen = len(webhook_receiver.received)
    assert client.control("POST", f"/orders/{lost.rsplit('/', 1)[-1]}/cancellations", json={}).status_code == 201
    assert client.control("POST", "/webhooks/wait-idle").json()["idle"] is True
    assert len(webhook_receiver.received) == seen
    assert client.data(CANCELLED, {"id": lost})["order"]["cancelledAt"]
    assert client.control("GET", "/webhooks/stats").json()["lost"] >= 1
