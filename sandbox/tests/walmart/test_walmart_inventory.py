"""Inventory per SKU and ship node: the single-node API, the multi-node one, the list of all,
and what Walmart then sells."""

from __future__ import annotations

from omnihub_sandbox.walmart.contract import problems
from walmart_sandbox_harness import Seller

SKU = "WM-00003"


def _each(amount: int) -> dict:
    return {"unit": "EACH", "amount": amount}


def test_single_node_read_and_update_default_and_named_node(seller: Seller) -> None:
    seller.set_item(SKU, **{"10001": {"quantity": 4}, "10002": {"quantity": 9}})
    read = seller.call("GET", "/v3/inventory", params={"sku": SKU})
    assert read.status_code == 200 and problems("Inventory", read.json()) == []
    assert read.json() == {"sku": SKU, "quantity": _each(4)}  # the default (first) node
    assert seller.call("GET", "/v3/inventory", params={"sku": SKU, "shipNode": "10002"}).json()["quantity"] == _each(9)
    written = seller.push(SKU, 15, ship_node="10002")
    assert written.status_code == 200 and written.json() == {"sku": SKU, "quantity": _each(15)}
    assert seller.call("GET", "/v3/inventory", params={"sku": SKU, "shipNode": "10002"}).json()["quantity"] == _each(15)
    assert seller.call("GET", "/v3/inventory", params={"sku": SKU}).json()["quantity"] == _each(4)


def test_multi_node_read_shows_reserved_units_and_what_is_left_to_sell(seller: Seller) -> None:
    seller.set_item(SKU, **{"10001": {"quantity": 5, "shelf": 5}, "10002": {"quantity": 2, "shelf": 2}})
    seller.bought((SKU, 3), ship_node="10001")
    answer = seller.call("GET", f"/v3/inventories/{SKU}")
    assert answer.status_code == 200 and problems("MultiNodeInventory", answer.json()) == []
    assert answer.json() == {"sku": SKU, "nodes": [
        {"shipNode": "10001", "inputQty": _each(5), "availToSellQty": _each(2), "reservedQty": _each(3)},
        {"shipNode": "10002", "inputQty": _each(2), "availToSellQty": _each(2), "reservedQty": _each(0)}]}
    one = seller.call("GET", f"/v3/inventories/{SKU}", params={"shipNode": "10002"}).json()
    assert [n["shipNode"] for n in one["nodes"]] == ["10002"]


def test_multi_node_update_answers_each_node_and_applies_the_good_ones(seller: Seller) -> None:
    answer = seller.call("PUT", f"/v3/inventories/{SKU}", json={"inventories": {"nodes": [
        {"shipNode": "10001", "inputQty": _each(7)}, {"shipNode": "99999", "inputQty": _each(3)},
        {"shipNode": "10002", "inputQty": {"unit": "EACH", "amount": "0"}}]}})
    assert answer.status_code == 200 and problems("MultiNodeUpdateResponse", answer.json()) == []
    nodes = answer.json()["nodes"]
    assert [(n["shipNode"], n["status"]) for n in nodes] == [("10001", "Success"), ("99999", "Failed"), ("10002", "Success")]
    assert nodes[1]["errors"][0]["field"] == "shipNode"
    item = seller.item(SKU)["nodes"]
    assert item["10001"]["input_qty"] == 7 and item["10002"]["input_qty"] == 0


def test_bad_inventory_requests_are_refused_with_the_field_and_change_nothing(seller: Seller) -> None:
    before = seller.item(SKU)
    cases = [
        ({"sku": SKU, "quantity": {"unit": "EACH", "amount": -1}}, {"sku": SKU}, 400, "quantity.amount"),
        ({"sku": SKU, "quantity": {"unit": "BOX", "amount": 1}}, {"sku": SKU}, 400, "quantity.unit"),
        ({"sku": SKU}, {"sku": SKU}, 400, None),
        ({"sku": "WM-00004", "quantity": _each(1)}, {"sku": SKU}, 400, "sku"),
        ({"sku": SKU, "quantity": _each(1)}, {"sku": SKU, "shipNode": "99999"}, 400, "shipNode"),
        ({"sku": "NOPE", "quantity": _each(1)}, {"sku": "NOPE"}, 404, None),
    ]
    for body, params, status, field in cases:
        answer = seller.call("PUT", "/v3/inventory", params=params, json=body)
        assert answer.status_code == status, (body, answer.text)
        assert problems("ErrorResponse", answer.json()) == []
        if field:
            assert answer.json()["errors"][0]["field"] == field
    assert seller.call("GET", "/v3/inventory").json()["errors"][0]["code"].startswith("MISSING_REQUEST_PARAM")
    assert seller.call("GET", "/v3/inventories/NOPE").json()["errors"][0]["code"].startswith("CONTENT_NOT_FOUND")
    malformed = seller.call("PUT", f"/v3/inventories/{SKU}", content=b"{not json", headers={"Content-Type": "application/json"})
    assert malformed.status_code == 400 and malformed.json()["errors"][0]["code"].startswith("MALFORMED_REQUEST_CONTENT")
    assert seller.item(SKU) == before


def test_every_sku_is_listed_once_across_pages(seller: Seller) -> None:
    seen: list[str] = []
    params: dict[str, str] = {"limit": "5"}
    while True:
        page = seller.call("GET", "/v3/inventories", params=params).json()
        assert problems("MultiNodeInventoryList", page) == []
        seen += [i["sku"] for i in page["elements"]["inventories"]]
        if "nextCursor" not in page["meta"]:
            break
        params = {"limit": "5", "nextCursor": page["meta"]["nextCursor"]}
    assert seen == sorted(i["sku"] for i in seller.catalog()["items"]) and page["meta"]["totalCount"] == len(seen)
    assert seller.call("GET", "/v3/inventories", params={"limit": "51"}).status_code == 400
    assert seller.call("GET", "/v3/inventories", params={"nextCursor": "%%%"}).status_code == 400


def test_walmart_sells_from_the_stock_it_was_last_told(seller: Seller) -> None:
    seller.set_item(SKU, **{"10001": {"quantity": 2, "shelf": 2}, "10002": {"quantity": 0, "shelf": 0}})
    assert seller.buy((SKU, 3)).status_code == 409
    po = seller.bought((SKU, 2))
    assert seller.order(po)["shipNode"]["id"] == "10001"
    refused = seller.buy((SKU, 1))
    assert refused.status_code == 409 and refused.json()["error"] == "insufficient_quantity"
    assert seller.push(SKU, 3).status_code == 200  # inputQty 3, 2 reserved: one left to sell
    assert seller.buy((SKU, 2)).status_code == 409
    assert seller.buy((SKU, 1)).status_code == 201
    assert seller.push(SKU, 1, ship_node="10002").status_code == 200
    assert seller.buy((SKU, 1)).json()["shipNode"] == "10002"
