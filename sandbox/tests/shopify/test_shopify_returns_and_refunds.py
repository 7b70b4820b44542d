"""Returns and refunds as Shopify runs them: a request approved or declined, a return
opened by the merchant, processed with dispositions (restocked units raise the restock
location's stock; the others move none) and an optional refund linked to it, closed and
reopened; refundCreate's restock types (a refund without a return moves no stock), its
money rules and its idempotency; the `returns` and `refunds` reads on an order; the
returns/* and refunds/create webhooks, signed like every other."""

from __future__ import annotations

import json
import uuid
from decimal import Decimal

import pytest

from shopify_sandbox_harness import SECRET
from test_shopify_sales_and_oversell import level, set_available
from test_shopify_webhooks import shopify_hmac_ok, subscribe

FULFILLED_ORDER = """
query($id: ID!) { order(id: $id) { id name displayFinancialStatus returnStatus
  lineItems(first: 5) { nodes { id sku quantity refundableQuantity } }
  fulfillments { id location { id } fulfillmentLineItems(first: 5) { nodes { id quantity lineItem { id sku } } } }
  transactions { id kind status amountSet { shopMoney { amount } } }
  fulfillmentOrders(first: 5) { nodes { id status lineItems(first: 5) { nodes { id remainingQuantity } } } } } }"""
RETURN_FIELDS = """id name status totalQuantity closedAt requestApprovedAt decline { reason note }
  order { id }
  returnLineItems(first: 5) { nodes { id quantity processedQuantity processableQuantity refundedQuantity
    returnReason customerNote fulfillmentLineItem { id lineItem { sku } } } }
  reverseFulfillmentOrders(first: 2) { nodes { id status lineItems(first: 5) { nodes { id totalQuantity
    dispositions { type quantity location { id } } } } } }
  refunds(first: 5) { nodes { id totalRefundedSet { shopMoney { amount } } } }"""
RETURN_REQUEST = """
mutation($input: ReturnRequestInput!) { returnRequest(input: $input) { return { %s } userErrors { field message code } } }
""" % RETURN_FIELDS
RETURN_CREATE = """
mutation($input: ReturnInput!) { returnCreate(returnInput: $input) { return { %s } userErrors { field message code } } }
""" % RETURN_FIELDS
RETURN_APPROVE = """
mutation($input: ReturnApproveRequestInput!) { returnApproveRequest(input: $input) {
  return { id status requestApprovedAt } userErrors { field message code } } }"""
RETURN_DECLINE = """
mutation($input: ReturnDeclineRequestInput!) { returnDeclineRequest(input: $input) {
  return { id status decline { reason note } } userErrors { field message code } } }"""
RETURN_PROCESS = """
mutation($input: ReturnProcessInput!) { returnProcess(input: $input) { return { %s } userErrors { field message code } } }
""" % RETURN_FIELDS
RETURN_CLOSE = """mutation($id: ID!) { returnClose(id: $id) { return { id status closedAt } userErrors { code message } } }"""
RETURN_REOPEN = """mutation($id: ID!) { returnReopen(id: $id) { return { id status closedAt } userErrors { code message } } }"""
RETURN_CANCEL = """mutation($id: ID!) { returnCancel(id: $id) { return { id status } userErrors { code message } } }"""
READ_RETURN = """query($id: ID!) { return(id: $id) { %s } }""" % RETURN_FIELDS
ORDER_RETURNS = """
query($id: ID!, $q: String) { order(id: $id) { returnStatus returns(first: 10, query: $q) { nodes { id name status } }
  refunds { id note createdAt return { id } totalRefundedSet { shopMoney { amount currencyCode } }
    refundLineItems(first: 5) { nodes { quantity restockType restocked location { id } lineItem { sku }
      subtotalSet { shopMoney { amount } } } }
    transactions(first: 5) { nodes { kind status gateway amountSet { shopMoney { amount } } parentTransaction { id kind } } } } } }"""
REFUND_CREATE = """
mutation($input: RefundInput!, $key: String!) { refundCreate(input: $input) @idempotent(key: $key) {
  refund { id note totalRefundedSet { shopMoney { amount } } refundLineItems(first: 5) { nodes { quantity restockType } } }
  order { id displayFinancialStatus } userErrors { field message } } }"""
DOCUMENTS = [FULFILLED_ORDER, RETURN_REQUEST, RETURN_CREATE, RETURN_APPROVE, RETURN_DECLINE, RETURN_PROCESS, RETURN_CLOSE,
             RETURN_REOPEN, RETURN_CANCEL, READ_RETURN, ORDER_RETURNS, REFUND_CREATE]

RETURN_SAMPLE_KEYS = {"id", "admin_graphql_api_id", "status", "order", "total_return_line_items", "name",
                      "return_line_items", "return_shipping_fees", "exchange_line_items", "total_exchange_line_items"}
STATUS_SAMPLE_KEYS = {"id", "admin_graphql_api_id", "order_id", "status"}
DECLINE_SAMPLE_KEYS = {"id", "admin_graphql_api_id", "status", "order", "decline"}
REFUND_SAMPLE_KEYS = {"id", "order_id", "created_at", "note", "user_id", "processed_at", "duties", "total_duties_set",
                      "return", "refund_shipping_lines", "restock", "admin_graphql_api_id", "order_adjustments",
                      "refund_line_items", "transactions"}


@pytest.fixture
def shop(live_sandbox, webhook_receiver):
    client, app = live_sandbox(catalog_stores=1, catalog_warehouses=1, initial_stock_max=10)
    catalog = client.control("GET", "/catalog").json()
    store = next(loc for loc in catalog["locations"] if loc["pos"])
    warehouse = next(loc for loc in catalog["locations"] if not loc["pos"])
    return client, app, catalog, store, warehouse


def shipped_order(client, sku: str, warehouse: dict, units: int = 3) -> dict:
    """An online order of `units` of `sku`, shipped in full from the warehouse."""
    set_available(client, sku, warehouse["id"], 10)
    placed = client.control("POST", "/orders", json={"lines": [{"sku": sku, "quantity": units}]}).json()
    order = client.data(FULFILLED_ORDER, {"id": placed["admin_graphql_api_id"]})["order"]
    fo = order["fulfillmentOrders"]["nodes"][0]["id"]
    done = client.data("""mutation($f: FulfillmentInput!) { fulfillmentCreate(fulfillment: $f) { userErrors { message } } }""",
                       {"f": {"lineItemsByFulfillmentOrder": [{"fulfillmentOrderId": fo}]}})
    assert done["fulfillmentCreate"]["userErrors"] == []
    return client.data(FULFILLED_ORDER, {"id": placed["admin_graphql_api_id"]})["order"]


def hooks_by_topic(receiver, count: int) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {}
    for hook in receiver.wait_for(count):
        assert shopify_hmac_ok(hook["body"], hook["headers"]["x-shopify-hmac-sha256"], SECRET)
        out.setdefault(hook["headers"]["x-shopify-topic"], []).append(json.loads(hook["body"]))
    return out


def test_a_requested_return_approved_processed_refunded_closed_and_reopened(shop, webhook_receiver):
    client, app, catalog, store, warehouse = shop
    for topic in ("RETURNS_REQUEST", "RETURNS_APPROVE", "RETURNS_PROCESS", "RETURNS_CLOSE", "RETURNS_REOPEN",
                  "REFUNDS_CREATE"):
        subscribe(client, topic, webhook_receiver.url + "/hooks/returns")
    sku = catalog["variants"][0]["sku"]
    order = shipped_order(client, sku, warehouse)
    [fli] = order["fulfillments"][0]["fulfillmentLineItems"]["nodes"]
    requested = client.data(RETURN_REQUEST, {"input": {"orderId": order["id"], "returnLineItems": [
        {"fulfillmentLineItemId": fli["id"], "quantity": 2, "returnReason": "SIZE_TOO_SMALL",
         "customerNote": "too tight"}]}})["returnRequest"]
    assert requested["userErrors"] == []
    ret = requested["return"]
    assert ret["status"] == "REQUESTED" and ret["name"] == f"{order['name']}-R1" and ret["totalQuantity"] == 2
    assert ret["requestApprovedAt"] is None
    [line] = ret["returnLineItems"]["nodes"]
    assert (line["quantity"], line["returnReason"], line["customerNote"]) == (2, "SIZE_TOO_SMALL", "too tight")
    assert line["fulfillmentLineItem"]["id"] == fli["id"]
    assert client.data(ORDER_RETURNS, {"id": order["id"]})["order"]["returnStatus"] == "RETURN_REQUESTED"

    approved = client.data(RETURN_APPROVE, {"input": {"id": ret["id"]}})["returnApproveRequest"]
    assert approved["userErrors"] == [] and approved["return"]["status"] == "OPEN"
    assert approved["return"]["requestApprovedAt"] is not None
    assert client.data(ORDER_RETURNS, {"id": order["id"]})["order"]["returnStatus"] == "IN_PROGRESS"

    [rfo] = client.data(READ_RETURN, {"id": ret["id"]})["return"]["reverseFulfillmentOrders"]["nodes"]
    [reverse_line] = rfo["lineItems"]["nodes"]
    assert rfo["status"] == "OPEN" and reverse_line["totalQuantity"] == 2
    before = level(client, sku, warehouse["id"])
    sale = next(t for t in order["transactions"] if t["kind"] == "SALE")
    price = Decimal(sale["amountSet"]["shopMoney"]["amount"]) / 3
    processed = client.data(RETURN_PROCESS, {"input": {"returnId": ret["id"], "returnLineItems": [
        {"id": line["id"], "quantity": 2, "dispositions": [
            {"reverseFulfillmentOrderLineItemId": reverse_line["id"], "quantity": 1, "dispositionType": "RESTOCKED",
             "locationId": warehouse["admin_graphql_api_id"]},
            {"reverseFulfillmentOrderLineItemId": reverse_line["id"], "quantity": 1,
             "dispositionType": "NOT_RESTOCKED"}]}],
        "financialTransfer": {"issueRefund": {"orderTransactions": [
            {"parentId": sale["id"], "transactionAmount": {"amount": f"{price * 2:.2f}", "currencyCode": "USD"}}]}}}}
    )["returnProcess"]
    assert processed["userErrors"] == []
    done = processed["return"]
    assert done["status"] == "OPEN"  # processing does not close a return; returnClose does
    [done_line] = done["returnLineItems"]["nodes"]
    assert (done_line["processedQuantity"], done_line["processableQuantity"], done_line["refundedQuantity"]) == (2, 0, 2)
    dispositions = done["reverseFulfillmentOrders"]["nodes"][0]["lineItems"]["nodes"][0]["dispositions"]
    assert sorted((d["type"], d["quantity"]) for d in dispositions) == [("NOT_RESTOCKED", 1), ("RESTOCKED", 1)]
    after = level(client, sku, warehouse["id"])
    assert after["available"] == before["available"] + 1 and after["physical_shelf"] == before["physical_shelf"] + 1
    [refund] = done["refunds"]["nodes"]
    assert Decimal(refund["totalRefundedSet"]["shopMoney"]["amount"]) == price * 2

    reads = client.data(ORDER_RETURNS, {"id": order["id"]})["order"]
    assert [r["status"] for r in reads["returns"]["nodes"]] == ["OPEN"]
    [read_refund] = reads["refunds"]
    assert read_refund["return"] == {"id": ret["id"]}
    assert [(i["quantity"], i["restockType"], i["restocked"]) for i in read_refund["refundLineItems"]["nodes"]] == [
        (2, "NO_RESTOCK", False)]  # the dispositions restocked, not the refund
    [tx] = read_refund["transactions"]["nodes"]
    assert tx["kind"] == "REFUND" and tx["status"] == "SUCCESS" and tx["parentTransaction"] == {"id": sale["id"],
                                                                                                 "kind": "SALE"}
    assert client.data(FULFILLED_ORDER, {"id": order["id"]})["order"]["displayFinancialStatus"] == "PARTIALLY_REFUNDED"

    closed = client.data(RETURN_CLOSE, {"id": ret["id"]})["returnClose"]
    assert closed["return"]["status"] == "CLOSED" and closed["return"]["closedAt"]
    assert client.data(ORDER_RETURNS, {"id": order["id"]})["order"]["returnStatus"] == "RETURNED"
    assert client.data(READ_RETURN, {"id": ret["id"]})["return"]["reverseFulfillmentOrders"]["nodes"][0]["status"] == "CLOSED"
    reopened = client.data(RETURN_REOPEN, {"id": ret["id"]})["returnReopen"]
    assert reopened["return"] == {"id": ret["id"], "status": "OPEN", "closedAt": None}

    hooks = hooks_by_topic(webhook_receiver, 6)
    assert set(hooks) == {"returns/request", "returns/approve", "returns/process", "refunds/create", "returns/close",
                          "returns/reopen"}
    request_body = hooks["returns/request"][0]
    assert set(request_body) == RETURN_SAMPLE_KEYS and request_body["status"] == "requested"
    assert request_body["order"]["admin_graphql_api_id"] == order["id"] and request_body["total_return_line_items"] == 2
    assert request_body["return_line_items"][0]["quantity"] == 2
    assert hooks["returns/approve"][0]["status"] == "open" and hooks["returns/process"][0]["status"] == "open"
    assert set(hooks["returns/close"][0]) == STATUS_SAMPLE_KEYS and hooks["returns/close"][0]["status"] == "closed"
    assert hooks["returns/reopen"][0]["status"] == "open"
    refund_body = hooks["refunds/create"][0]
    assert REFUND_SAMPLE_KEYS <= set(refund_body)
    assert refund_body["return"]["admin_graphql_api_id"] == ret["id"]
    assert refund_body["refund_line_items"][0]["restock_type"] == "no_restock"


def test_return_refusals_change_nothing(shop, webhook_receiver):
    client, app, catalog, store, warehouse = shop
    sku = catalog["variants"][1]["sku"]
    order = shipped_order(client, sku, warehouse, units=2)
    [fli] = order["fulfillments"][0]["fulfillmentLineItems"]["nodes"]

    def create(quantity, order_id=order["id"], item=fli["id"]):
        return client.data(RETURN_CREATE, {"input": {"orderId": order_id, "returnLineItems": [
            {"fulfillmentLineItemId": item, "quantity": quantity, "returnReason": "DEFECTIVE"}]}})["returnCreate"]

    too_many = create(3)
    assert too_many["return"] is None and too_many["userErrors"][0]["code"] == "LESS_THAN_OR_EQUAL_TO"
    assert too_many["userErrors"][0]["field"] == ["returnInput", "returnLineItems", "0", "quantity"]
    assert create(1, order_id="gid://shopify/Order/1")["userErrors"][0]["code"] == "NOT_FOUND"
    assert create(1, item="gid://shopify/FulfillmentLineItem/1")["userErrors"][0]["code"] == "NOT_FOUND"
    assert client.data(ORDER_RETURNS, {"id": order["id"]})["order"]["returns"]["nodes"] == []

    opened = create(2)
    assert opened["userErrors"] == [] and opened["return"]["status"] == "OPEN"
    assert opened["return"]["requestApprovedAt"] is not None  # returnCreate opens it approved
    assert create(1)["userErrors"][0]["code"] == "LESS_THAN_OR_EQUAL_TO"  # the two units are in that return
    ret = opened["return"]
    declined = client.data(RETURN_DECLINE, {"input": {"id": ret["id"], "declineReason": "OTHER"}})["returnDeclineRequest"]
    assert declined["return"] is None and declined["userErrors"][0]["code"] == "INVALID_STATE"  # only requests are declined
    assert client.data(RETURN_REOPEN, {"id": ret["id"]})["returnReopen"]["userErrors"][0]["code"] == "INVALID_STATE"

    cancelled = client.data(RETURN_CANCEL, {"id": ret["id"]})["returnCancel"]
    assert cancelled["userErrors"] == [] and cancelled["return"]["status"] == "CANCELED"
    again = create(2)  # a cancelled return gives its units back
    assert again["userErrors"] == []
    [line] = again["return"]["returnLineItems"]["nodes"]
    bad = client.data(RETURN_PROCESS, {"input": {"returnId": again["return"]["id"], "returnLineItems": [
        {"id": line["id"], "quantity": 1, "dispositions": [
            {"reverseFulfillmentOrderLineItemId": "gid://shopify/ReverseFulfillmentOrderLineItem/1", "quantity": 1,
             "dispositionType": "RESTOCKED", "locationId": warehouse["admin_graphql_api_id"]}]}]}})["returnProcess"]
    assert bad["return"] is None and bad["userErrors"][0]["code"] == "INVALID"
    reverse_line = again["return"]["reverseFulfillmentOrders"]["nodes"][0]["lineItems"]["nodes"][0]["id"]
    no_location = client.data(RETURN_PROCESS, {"input": {"returnId": again["return"]["id"], "returnLineItems": [
        {"id": line["id"], "quantity": 1, "dispositions": [
            {"reverseFulfillmentOrderLineItemId": reverse_line, "quantity": 1, "dispositionType": "RESTOCKED"}]}]}})
    assert no_location["returnProcess"]["userErrors"][0]["code"] == "BLANK"
    before = level(client, sku, warehouse["id"])
    over = client.data(RETURN_PROCESS, {"input": {"returnId": again["return"]["id"], "returnLineItems": [
        {"id": line["id"], "quantity": 1, "dispositions": [
            {"reverseFulfillmentOrderLineItemId": reverse_line, "quantity": 1, "dispositionType": "RESTOCKED",
             "locationId": warehouse["admin_graphql_api_id"]}]}],
        "financialTransfer": {"issueRefund": {"orderTransactions": [{"parentId": order["transactions"][0]["id"],
            "transactionAmount": {"amount": "99999.00", "currencyCode": "USD"}}]}}}})["returnProcess"]
    assert over["return"] is None and "greater than net payment" in over["userErrors"][0]["message"]
    assert level(client, sku, warehouse["id"]) == before  # the refused refund rolled the restock back
    processed = client.data(RETURN_PROCESS, {"input": {"returnId": again["return"]["id"], "returnLineItems": [
        {"id": line["id"], "quantity": 1}]}})["returnProcess"]
    assert processed["userErrors"] == [] and level(client, sku, warehouse["id"]) == before  # no disposition: no stock
    refused = client.data(RETURN_CANCEL, {"id": again["return"]["id"]})["returnCancel"]
    assert refused["userErrors"][0]["code"] == "INVALID_STATE"  # work was done on it


def test_a_declined_request(shop, webhook_receiver):
    client, app, catalog, store, warehouse = shop
    subscribe(client, "RETURNS_DECLINE", webhook_receiver.url + "/hooks/declined")
    order = shipped_order(client, catalog["variants"][2]["sku"], warehouse, units=1)
    [fli] = order["fulfillments"][0]["fulfillmentLineItems"]["nodes"]
    ret = client.data(RETURN_REQUEST, {"input": {"orderId": order["id"], "returnLineItems": [
        {"fulfillmentLineItemId": fli["id"], "quantity": 1, "returnReason": "UNWANTED"}]}})["returnRequest"]["return"]
    declined = client.data(RETURN_DECLINE, {"input": {"id": ret["id"], "declineReason": "RETURN_PERIOD_ENDED",
                                                      "declineNote": "Past 30 days."}})["returnDeclineRequest"]
    assert declined["userErrors"] == []
    assert declined["return"]["status"] == "DECLINED"
    assert declined["return"]["decline"] == {"reason": "RETURN_PERIOD_ENDED", "note": "Past 30 days."}
    [hook] = hooks_by_topic(webhook_receiver, 1)["returns/decline"]
    assert set(hook) == DECLINE_SAMPLE_KEYS
    assert hook["decline"] == {"reason": "return_period_ended", "note": "Past 30 days."}
    assert client.data(ORDER_RETURNS, {"id": order["id"]})["order"]["returnStatus"] == "NO_RETURN"
    searched = client.gql(ORDER_RETURNS, {"id": order["id"], "q": "status:declined"})
    assert [r["status"] for r in searched["data"]["order"]["returns"]["nodes"]] == ["DECLINED"]


def _refund(client, order, lines, amount=None, key=None, **extra):
    transactions = [] if amount is None else [{"orderId": order["id"], "kind": "REFUND", "gateway": "bogus",
                                               "amount": amount, "parentId": order["transactions"][0]["id"]}]
    return client.data(REFUND_CREATE, {"input": {"orderId": order["id"], "refundLineItems": lines,
                                                 "transactions": transactions, **extra},
                                       "key": key or str(uuid.uuid4())})["refundCreate"]


def test_refund_create_restock_types_money_and_idempotency(shop, webhook_receiver):
    client, app, catalog, store, warehouse = shop
    subscribe(client, "REFUNDS_CREATE", webhook_receiver.url + "/hooks/refunds")
    sku = catalog["variants"][3]["sku"]
    order = shipped_order(client, sku, warehouse, units=3)
    line = order["lineItems"]["nodes"][0]
    sale = Decimal(order["transactions"][0]["amountSet"]["shopMoney"]["amount"])
    unit = sale / 3
    before = level(client, sku, warehouse["id"])

    money_only = _refund(client, order, [{"lineItemId": line["id"], "quantity": 1, "restockType": "NO_RESTOCK"}],
                         amount=f"{unit:.2f}", note="damaged in transit")
    assert money_only["userErrors"] == []
    assert money_only["refund"]["note"] == "damaged in transit"
    assert money_only["order"]["displayFinancialStatus"] == "PARTIALLY_REFUNDED"
    assert level(client, sku, warehouse["id"]) == before  # a refund without a return moves no stock

    key = str(uuid.uuid4())
    restocked = _refund(client, order, [{"lineItemId": line["id"], "quantity": 1, "restockType": "RETURN",
                                         "locationId": warehouse["admin_graphql_api_id"]}], amount=f"{unit:.2f}", key=key)
    assert restocked["userErrors"] == []
    again = _refund(client, order, [{"lineItemId": line["id"], "quantity": 1, "restockType": "RETURN",
                                     "locationId": warehouse["admin_graphql_api_id"]}], amount=f"{unit:.2f}", key=key)
    assert again == restocked  # the retry answers the first refund
    after = level(client, sku, warehouse["id"])
    assert after["available"] == before["available"] + 1 and after["physical_shelf"] == before["physical_shelf"] + 1
    other = _refund(client, order, [{"lineItemId": line["id"], "quantity": 1}], key=key)
    assert other["refund"] is None and "idempotency key" in other["userErrors"][0]["message"]

    too_many = _refund(client, order, [{"lineItemId": line["id"], "quantity": 2, "restockType": "NO_RESTOCK"}])
    assert too_many["refund"] is None and too_many["userErrors"][0]["field"] == ["refundLineItems", "0", "quantity"]
    over = _refund(client, order, [], amount=f"{sale:.2f}")
    assert over["refund"] is None and "greater than net payment" in over["userErrors"][0]["message"]
    last = _refund(client, order, [{"lineItemId": line["id"], "quantity": 1}], amount=f"{sale - 2 * unit:.2f}")
    assert last["userErrors"] == [] and last["order"]["displayFinancialStatus"] == "REFUNDED"
    refunds = client.data(ORDER_RETURNS, {"id": order["id"]})["order"]["refunds"]
    assert len(refunds) == 3  # the idempotent retry made none
    hooks = hooks_by_topic(webhook_receiver, 3)["refunds/create"]
    assert len(hooks) == 3 and all(REFUND_SAMPLE_KEYS <= set(h) for h in hooks)
    assert [h["refund_line_items"][0]["restock_type"] for h in hooks] == ["no_restock", "return", "no_restock"]
    missing = client.gql("""mutation($input: RefundInput!) { refundCreate(input: $input) { userErrors { message } } }""",
                         {"input": {"orderId": order["id"]}})
    assert missing["errors"][0]["message"] == "The @idempotent directive is required for this mutation but was not provided."


def test_refunding_unfulfilled_units_with_cancel_releases_their_commitment(shop):
    client, app, catalog, store, warehouse = shop
    sku = catalog["variants"][4]["sku"]
    set_available(client, sku, warehouse["id"], 10)
    set_available(client, sku, store["id"], 0)
    placed = client.control("POST", "/orders", json={"lines": [{"sku": sku, "quantity": 3}]}).json()
    order = client.data(FULFILLED_ORDER, {"id": placed["admin_graphql_api_id"]})["order"]
    line = order["lineItems"]["nodes"][0]
    assert level(client, sku, warehouse["id"])["committed"] == 3
    refused = _refund(client, order, [{"lineItemId": line["id"], "quantity": 1, "restockType": "RETURN"}])
    assert refused["refund"] is None  # nothing shipped: nothing to return
    cancelled = _refund(client, order, [{"lineItemId": line["id"], "quantity": 2, "restockType": "CANCEL"}],
                        amount="1.00")
    assert cancelled["userErrors"] == []
    after = level(client, sku, warehouse["id"])
    assert (after["available"], after["committed"]) == (9, 1)
    reread = client.data(FULFILLED_ORDER, {"id": order["id"]})["order"]
    assert reread["fulfillmentOrders"]["nodes"][0]["lineItems"]["nodes"][0]["remainingQuantity"] == 1
    assert reread["lineItems"]["nodes"][0]["refundableQuantity"] == 1
