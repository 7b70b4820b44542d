"""The sandbox against Walmart's own v3 artefacts (shared/contracts/walmart/legacy-xml-v3):

- the subset schema is a subset of the XSDs where it names one (same fields, compatible
  types and enumerations, the XSD's required fields required), apart from fields and
  values it marks as today's API beyond the XSDs;
- every response shape the sandbox answers projects onto its XSD and validates there;
- Walmart's own mock responses satisfy the subset schema;
- Walmart's own request examples, as JSON, are accepted and do what they say.
"""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from omnihub_sandbox.walmart.contract import problems, subset_schema
from shared_contracts import require_shared, shared_path
from walmart_contract import (MOCKS, _child_schema, _items_schema, _resolve, decoded_mock, read_xml, request_example,
                              xml_as_json, xsd, xsd_problems)
from walmart_sandbox_harness import Seller

XSD_DEFS = sorted(name for name, node in subset_schema()["$defs"].items() if "x-xsd" in node)
JSON_TYPES = {"string": {"string"}, "dateTime": {"integer"}, "int": {"integer"}, "long": {"integer"},
              "decimal": {"number"}, "float": {"number"}, "boolean": {"boolean"}, "anyType": {"object"}}


def _types(node: dict[str, Any]) -> set[str]:
    kind = node.get("type")
    if "const" in node:
        return {"string"}
    return set(kind) if isinstance(kind, list) else {kind} if kind else set()


XS = "{http://www.w3.org/2001/XMLSchema}"


def _children(decl: Any) -> dict[str, Any]:
    content = getattr(decl.type, "content", None)
    return {c.local_name: c for c in content.iter_elements()} if content is not None and hasattr(content, "iter_elements") else {}


def _required(group: Any, in_choice: bool = False) -> set[str]:
    """Names the XSD's content model requires (an element inside a choice is not required)."""
    names: set[str] = set()
    choice = in_choice or getattr(group, "model", None) == "choice"
    for particle in group:
        if hasattr(particle, "model"):
            if particle.min_occurs >= 1:
                names |= _required(particle, choice)
        elif particle.min_occurs >= 1 and not choice:
            names.add(particle.local_name)
    return names


def _builtin(simple: Any) -> str:
    kind = simple
    while kind is not None:
        name = getattr(kind, "name", None) or ""
        if name.startswith(XS) and name[len(XS):] in JSON_TYPES:
            return name[len(XS):]
        kind = getattr(kind, "base_type", None)
    return "string"


def _subset_problems(node: dict[str, Any] | None, decl: Any, path: str) -> list[str]:
    node = _resolve(node)
    assert node is not None
    found: list[str] = []
    children = _children(decl)
    if node.get("type") == "array":
        repeats = decl.max_occurs is None or decl.max_occurs > 1
        item_decl = decl if repeats else next(iter(children.values()))  # a JSON list under the XSD's wrapper
        return _subset_problems(_items_schema(node), item_decl, path + "[]")
    if node.get("type") == "object" and children:
        for key, child_node in node.get("properties", {}).items():
            if key not in children:
                if "x-beyond-xsd" not in child_node:
                    found.append(f"{path}.{key}: not in the XSD")
                continue
            found += _subset_problems(child_node, children[key], f"{path}.{key}")
        missing = _required(decl.type.content) - set(node.get("required", []))
        found += [f"{path}.{name}: required by the XSD, optional here" for name in sorted(missing)]
        return found
    if node.get("type") == "object" and decl.type.local_name != "anyType":
        return [f"{path}: an object here, {decl.type} in the XSD"]
    simple = decl.type if decl.type.is_simple() else None
    if simple is None:
        return found
    primitive = _builtin(simple)
    if not _types(node) & JSON_TYPES[primitive]:
        found.append(f"{path}: {sorted(_types(node))} for an xsd:{primitive}")
    facets = getattr(simple, "enumeration", None)
    if facets and "enum" in node:
        extra = set(node["enum"]) - set(facets) - set(node.get("x-beyond-xsd-values", {}))
        found += [f"{path}: {value!r} is not in the XSD's enumeration" for value in sorted(extra)]
    return found


@pytest.mark.shared
@pytest.mark.parametrize("definition", XSD_DEFS)
def test_the_subset_schema_is_a_subset_of_the_xsd(definition: str) -> None:
    node = subset_schema()["$defs"][definition]
    target = node["x-xsd"]
    decl = xsd(target["file"]).elements[target["element"]]
    start = _child_schema(node, target["unwrap"]) if "unwrap" in target else node
    assert _subset_problems(start, decl, target["element"]) == []


def _world(seller: Seller, clock) -> dict[str, list[dict[str, Any]]]:
    """Answers of every shape the sandbox has, from a world with orders in every status."""
    seen: dict[str, list[dict[str, Any]]] = {name: [] for name in XSD_DEFS}

    def keep(definition: str, answer) -> dict[str, Any]:
        seen[definition].append(answer.json())
        return dict(answer.json())

    for sku in ("WM-00001", "WM-00002"):
        seller.set_item(sku, **{"10001": {"quantity": 50, "shelf": 50}})
    seller.http.post("/_sandbox/orders", json={"lines": [{"sku": "WM-00001", "quantity": 4}, {"sku": "WM-00002", "quantity": 2}],
                                               "shipping_cents": 499, "method_code": "Express"})
    po = seller.call("GET", "/v3/orders/released").json()["list"]["elements"]["order"][0]["purchaseOrderId"]
    fresh = seller.bought(("WM-00002", 1))
    keep("OrderResponse", seller.call("GET", f"/v3/orders/{fresh}"))
    keep("OrderResponse", seller.acknowledge(po))
    keep("OrderResponse", seller.ship(po, (1, 1)))
    keep("OrderResponse", seller.ship(po, (1, 1), carrierName={"otherCarrier": "Courier"}, trackingURL="https://c.test/1"))
    keep("OrderResponse", seller.cancel(po, (1, 1), reason="CUSTOMER_REQUESTED_SELLER_TO_CANCEL"))
    keep("OrderResponse", seller.call("POST", f"/v3/orders/{po}/refund", json={"orderRefund": {"orderLines": {"orderLine": [
        {"lineNumber": "1", "refunds": {"refund": [{"refundComments": "late", "refundCharges": {"refundCharge": [
            {"refundReason": "CustomerReceivedItemLate", "charge": {"chargeType": "SHIPPING", "chargeName": "Shipping",
                                                                    "chargeAmount": {"currency": "USD", "amount": -4.99}}}]}}]}}]}}}))
    clock.advance(3 * 86400)  # the shipped units are delivered
    keep("OrderResponse", seller.call("GET", f"/v3/orders/{po}"))
    keep("OrderList", seller.call("GET", "/v3/orders", params={"limit": 1}))
    keep("OrderList", seller.call("GET", "/v3/orders/released"))
    ack = keep("FeedAcknowledgement", seller.submit_feed({"InventoryHeader": {"version": "1.4"}, "Inventory": [
        {"sku": "WM-00003", "quantity": {"unit": "EACH", "amount": 3}}, {"sku": "NOPE", "quantity": {"unit": "EACH", "amount": 1}}]}))
    broken = seller.submit_feed(b"not json").json()["feedId"]
    keep("FeedStatus", seller.call("GET", f"/v3/feeds/{ack['feedId']}", params={"includeDetails": "true"}))
    clock.advance(10)
    keep("FeedStatus", seller.call("GET", f"/v3/feeds/{ack['feedId']}", params={"includeDetails": "true"}))
    keep("FeedStatus", seller.call("GET", f"/v3/feeds/{broken}", params={"includeDetails": "true"}))
    keep("FeedList", seller.call("GET", "/v3/feeds"))
    keep("ErrorResponse", seller.http.get("/v3/orders"))
    keep("ErrorResponse", seller.http.get("/v3/orders", headers={"WM_SEC.ACCESS_TOKEN": "x", "WM_SVC.NAME": "x",
                                                                  "WM_QOS.CORRELATION_ID": "x"}))
    keep("ErrorResponse", seller.call("GET", "/v3/orders/1"))
    keep("ErrorResponse", seller.ship(po, (1, 99)))
    keep("ErrorResponse", seller.call("PATCH", "/v3/orders"))
    seller.http.put("/_sandbox/throttle-storm", json={"seconds": 5})
    keep("ErrorResponse", seller.call("GET", "/v3/orders"))
    return seen


@pytest.mark.shared
def test_every_response_shape_validates_against_its_xsd(seller: Seller, clock) -> None:
    seen = _world(seller, clock)
    statuses = {s["status"] for body in seen["OrderResponse"] for line in body["order"]["orderLines"]["orderLine"]
                for s in line["orderLineStatuses"]["orderLineStatus"]}
    assert statuses == {"Created", "Acknowledged", "Shipped", "Delivered", "Cancelled"}
    assert {body["feedStatus"] for body in seen["FeedStatus"]} == {"RECEIVED", "PROCESSED", "ERROR"}
    for definition, bodies in seen.items():
        assert bodies, definition
        for body in bodies:
            assert problems(definition, body) == [], (definition, body)
            assert xsd_problems(body, definition) == [], (definition, json.dumps(body)[:400])


@pytest.mark.shared
def test_the_projection_catches_what_the_xsd_forbids(seller: Seller) -> None:
    seller.set_item("WM-00001", **{"10001": {"quantity": 5}})
    body = {"order": seller.order(seller.bought(("WM-00001", 1)))}
    assert xsd_problems(body, "OrderResponse") == []

    def broken(change) -> list[str]:
        copy_ = copy.deepcopy(body)
        change(copy_["order"])
        return xsd_problems(copy_, "OrderResponse")

    def status(order: dict, value: str) -> None:
        order["orderLines"]["orderLine"][0]["orderLineStatuses"]["orderLineStatus"][0]["status"] = value

    assert any("giftMessage" in p for p in broken(lambda o: o.update(giftMessage="hi")))
    assert broken(lambda o: status(o, "Pending"))
    assert broken(lambda o: status(o, "Delivered")) == []  # today's status, declared beyond the XSD's enumeration
    assert broken(lambda o: o.pop("customerEmailId"))
    assert broken(lambda o: o["shippingInfo"].update(methodCode="Teleport"))
    assert broken(lambda o: o["orderLines"]["orderLine"][0]["charges"]["charge"][0]["chargeAmount"].update(currency="ZZZ"))


# -- Walmart's mocks --------------------------------------------------------------------------
ORDER_XSD = "Order/PurchaseOrderV3.3.xsd"
MOCK_CASES = {
    "order.xml": (ORDER_XSD, "OrderResponse", "order"), "orderAck.xml": (ORDER_XSD, "OrderResponse", "order"),
    "orderCancel.xml": (ORDER_XSD, "OrderResponse", "order"),
    "orderRefund.xml": (ORDER_XSD, "OrderResponse", "order"),
    "orderShipping.xml": (ORDER_XSD, "OrderResponse", "order"),
    "refundOrder.xml": (ORDER_XSD, "OrderResponse", "order"), "shipOrder.xml": (ORDER_XSD, "OrderResponse", "order"),
    "releasedOrders.xml": (ORDER_XSD, "OrderList", "list"), "allOrders.xml": (ORDER_XSD, "OrderList", "list"),
    "allFeedStatuses.xml": ("Feed/FeedRecordResponse.xsd", "FeedList", None),
    "404_error.xml": ("Feed/Errors.xsd", "ErrorResponse", "errors"),
}
#: mocks whose shape the sandbox does not answer, or that no XSD here describes
NOT_OVERLAPPING = {
    "itemRetire.xml": "items API (not simulated)", "itemView.xml": "items API", "itemsList.xml": "items API",
    "priceUpdated.xml": "price API", "promotionPrice.xml": "promotions API", "promotionView.xml": "promotions API",
    "listAcknowledgedOrders.xml": "root OrdersListType is in no XSD", "listCancelledOrders.xml": "root OrdersListType",
    "listOrders.xml": "root OrdersListType", "listReleasedOrders.xml": "root OrdersListType",
    "listShippedOrders.xml": "root OrdersListType", "listSkuOrders.xml": "root OrdersListType",
    "feedStatus.xml": "breaks its own XSD (IngestionErrors, ItemDetails capitalised)",
    "uploadedFeed.xml": "breaks its own XSD (additionalAttributes without name)",
}
BEYOND_XSD_TAGS = ("offerId", "pickUpDateTime")


@pytest.mark.shared
def test_every_mock_is_either_checked_or_set_aside_with_a_reason() -> None:
    folder = require_shared(*MOCKS)
    assert sorted(p.name for p in folder.glob("*.xml")) == sorted({**MOCK_CASES, **NOT_OVERLAPPING})


@pytest.mark.shared
@pytest.mark.parametrize("name", sorted(MOCK_CASES) if shared_path(*MOCKS) else ["shared-absent"])
def test_walmarts_mocks_satisfy_the_subset_schema(name: str) -> None:
    require_shared(*MOCKS)
    xsd_file, definition, unwrap = MOCK_CASES[name]
    data, xsd_errors = decoded_mock(name, xsd_file, definition, unwrap)
    assert all(any(f"tag 'ns3:{tag}'" in e or f"tag 'ns0:{tag}'" in e for tag in BEYOND_XSD_TAGS) for e in xsd_errors), xsd_errors
    assert problems(definition, data) == []
    if xsd_errors:  # what the XSD refused is there, and the subset schema took it as today's API
        text = json.dumps(data)
        assert all(f'"{tag}"' in text for tag in BEYOND_XSD_TAGS)


# -- Walmart's request examples ---------------------------------------------------------------------
def _example(name: str, definition: str) -> dict[str, Any]:
    """A request example as the JSON API takes it."""
    root = read_xml(request_example(name))
    top = subset_schema()["$defs"][definition]
    key = root.tag.rsplit("}", 1)[-1]
    if key in top.get("properties", {}):
        return {key: xml_as_json(root, _child_schema(top, key))}
    return dict(xml_as_json(root, top))


@pytest.mark.shared
def test_walmarts_order_request_examples_are_accepted(seller: Seller) -> None:
    seller.http.put("/_sandbox/items/EXAMPLE-1", json={"price_cents": 5000, "nodes": {"10001": {"quantity": 5, "shelf": 5}}})
    seller.http.put("/_sandbox/items/EXAMPLE-2", json={"price_cents": 2000, "nodes": {"10001": {"quantity": 5, "shelf": 5}}})
    placed = seller.http.post("/_sandbox/orders", json={"lines": [{"sku": "EXAMPLE-1", "quantity": 2},
                                                                  {"sku": "EXAMPLE-2", "quantity": 1}], "shipping_cents": 500})
    po = placed.json()["purchaseOrderId"]
    seller.acknowledge(po)
    shipment = _example("shippingOrder.xml", "OrderShipment")
    assert problems("OrderShipment", shipment) == []
    shipped = seller.call("POST", f"/v3/orders/{po}/shipping", json=shipment)
    assert shipped.status_code == 200, shipped.text
    line2 = shipped.json()["order"]["orderLines"]["orderLine"][1]["orderLineStatuses"]["orderLineStatus"]
    assert [(s["status"], s["trackingInfo"]["carrierName"]["carrier"], s["trackingInfo"]["trackingNumber"]) for s in line2] == [
        ("Shipped", "FedEx", "12333634122")]
    cancellation = _example("cancelOrder.xml", "OrderCancellation")
    cancelled = seller.call("POST", f"/v3/orders/{po}/cancel", json=cancellation)
    assert cancelled.status_code == 200, cancelled.text
    assert ("Cancelled", "CANCEL_BY_SELLER") in [(s["status"], s.get("cancellationReason")) for s in cancelled.json()[
        "order"]["orderLines"]["orderLine"][0]["orderLineStatuses"]["orderLineStatus"]]
    seller.ship(po, (1, 1))
    refund = _example("refundOrder.xml", "OrderRefund")
    refund["orderRefund"]["purchaseOrderId"] = po  # the example names Walmart's own test order
    refunded = seller.call("POST", f"/v3/orders/{po}/refund", json=refund)
    assert refunded.status_code == 200, refunded.text
    charges = refunded.json()["order"]["orderLines"]["orderLine"][0]["refund"]["refundCharges"]["refundCharge"]
    assert [(c["refundReason"], c["charge"]["chargeAmount"]["amount"]) for c in charges] == [
        ("DamagedItem", -10.02), ("TaxExemptCustomer", -1.02)]


@pytest.mark.shared
@pytest.mark.parametrize("name", ["inventoryFeed.xml", "inventoryBulkFeed.xml"])
def test_walmarts_inventory_feed_examples_are_accepted(seller: Seller, clock, name: str) -> None:
    for sku in ("1068155", "10210321"):
        seller.http.put(f"/_sandbox/items/{sku}", json={"nodes": {"10001": {"quantity": 0}}})
    feed = _example(name, "InventoryFeed")
    assert problems("InventoryFeed", feed) == []
    feed_id = seller.submit_feed(feed).json()["feedId"]
    clock.advance(10)
    status = seller.call("GET", f"/v3/feeds/{feed_id}", params={"includeDetails": "true"}).json()
    assert (status["feedStatus"], status["itemsSucceeded"], status["itemsFailed"]) == ("PROCESSED", 2, 0)
    assert [seller.item(sku)["nodes"]["10001"]["input_qty"] for sku in ("1068155", "10210321")] == [10, 20]
