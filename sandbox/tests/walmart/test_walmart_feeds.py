"""The bulk inventory feed: submission, RECEIVED -> INPROGRESS -> PROCESSED on the sandbox
clock, per-item errors that stop nothing else, a file that fails as a whole, and paging
of the item details."""

from __future__ import annotations

import json

import pytest

from omnihub_sandbox.walmart.contract import problems
from walmart_sandbox_harness import Seller


def _feed14(*items: dict) -> dict:
    return {"InventoryHeader": {"version": "1.4"}, "Inventory": list(items)}


def _item(sku: str, amount, node: str | None = None) -> dict:
    item = {"sku": sku, "quantity": {"unit": "EACH", "amount": amount}}
    if node:
        item["shipNode"] = node
    return item


def _status(seller: Seller, feed_id: str, **params) -> dict:
    answer = seller.call("GET", f"/v3/feeds/{feed_id}", params=params)
    assert answer.status_code == 200, answer.text
    assert problems("FeedStatus", answer.json()) == []
    return dict(answer.json())


def test_a_feed_goes_received_inprogress_processed_and_applies_at_the_end(seller: Seller, clock) -> None:
    seller.set_item("WM-00001", **{"10001": {"quantity": 1}, "10002": {"quantity": 1}})
    answer = seller.submit_feed(_feed14(_item("WM-00001", 30), _item("WM-00001", 40, "10002")))
    assert answer.status_code == 200 and problems("FeedAcknowledgement", answer.json()) == []
    feed_id = answer.json()["feedId"]
    received = _status(seller, feed_id, includeDetails="true")
    assert received["feedStatus"] == "RECEIVED" and received["itemsProcessing"] == 2
    assert {d["ingestionStatus"] for d in received["itemDetails"]["itemIngestionStatus"]} == {"INPROGRESS"}
    clock.advance(2)  # feed_received_seconds
    assert _status(seller, feed_id)["feedStatus"] == "INPROGRESS"
    assert seller.item("WM-00001")["nodes"]["10001"]["input_qty"] == 1  # nothing applied yet
    clock.advance(7.9)
    assert _status(seller, feed_id)["feedStatus"] == "INPROGRESS"
    clock.advance(0.1)
    done = _status(seller, feed_id, includeDetails="true")
    assert (done["feedStatus"], done["itemsSucceeded"], done["itemsFailed"], done["itemsProcessing"]) == ("PROCESSED", 2, 0, 0)
    nodes = seller.item("WM-00001")["nodes"]
    assert nodes["10001"]["input_qty"] == 30 and nodes["10002"]["input_qty"] == 40
    listed = seller.call("GET", "/v3/feeds", params={"feedId": feed_id}).json()
    assert problems("FeedList", listed) == []
    record = listed["results"]["feed"][0]
    assert record["feedType"] == "inventory" and record["feedStatus"] == "PROCESSED"
    assert record["modifiedDtm"] - record["feedDate"] == 10_000


def test_bad_items_fail_alone_with_their_field(seller: Seller, clock) -> None:
    feed = _feed14(_item("WM-00002", 5), _item("NOT-MINE", 5), _item("WM-00003", -4), _item("WM-00004", 2, "99999"),
                   {"quantity": {"unit": "EACH", "amount": 1}}, _item("WM-00005", "7"))
    feed_id = seller.submit_feed(feed).json()["feedId"]
    clock.advance(10)
    status = _status(seller, feed_id, includeDetails="true")
    assert (status["feedStatus"], status["itemsReceived"], status["itemsSucceeded"], status["itemsFailed"]) == (
        "PROCESSED", 6, 2, 4)
    details = status["itemDetails"]["itemIngestionStatus"]
    assert [d["ingestionStatus"] for d in details] == ["SUCCESS", "DATA_ERROR", "DATA_ERROR", "DATA_ERROR",
                                                       "DATA_ERROR", "SUCCESS"]
    fields = [d["ingestionErrors"]["ingestionError"][0].get("field") for d in details[1:5]]
    assert fields == ["sku", "quantity.amount", "shipNode", None]
    assert "sku" not in details[4] and details[4]["index"] == 4
    assert seller.item("WM-00002")["nodes"]["10001"]["input_qty"] == 5
    assert seller.item("WM-00005")["nodes"]["10001"]["input_qty"] == 7


def test_the_multi_node_feed_needs_ship_nodes_per_sku(seller: Seller, clock) -> None:
    feed = {"InventoryHeader": {"version": "1.5"}, "Inventory": [
        {"sku": "WM-00006", "shipNodes": [{"shipNode": "10001", "quantity": {"unit": "EACH", "amount": 11}},
                                          {"shipNode": "10002", "quantity": {"unit": "EACH", "amount": 12}}]},
        {"sku": "WM-00007", "quantity": {"unit": "EACH", "amount": 3}}]}
    feed_id = seller.submit_feed(feed, feed_type="MP_INVENTORY").json()["feedId"]
    clock.advance(10)
    status = _status(seller, feed_id, includeDetails="true")
    assert [d["ingestionStatus"] for d in status["itemDetails"]["itemIngestionStatus"]] == ["SUCCESS", "DATA_ERROR"]
    nodes = seller.item("WM-00006")["nodes"]
    assert (nodes["10001"]["input_qty"], nodes["10002"]["input_qty"]) == (11, 12)


def test_a_file_that_is_not_an_inventory_feed_fails_the_feed_as_a_whole(seller: Seller, clock) -> None:
    for raw in (b"{not json", json.dumps({"Items": []}).encode()):
        feed_id = seller.submit_feed(raw).json()["feedId"]
        clock.advance(10)
        status = _status(seller, feed_id)
        assert status["feedStatus"] == "ERROR" and status["itemsReceived"] == 0
        assert status["ingestionErrors"]["ingestionError"][0]["type"] == "DATA_ERROR"


def test_a_raw_json_body_is_taken_as_the_file_too(seller: Seller, clock) -> None:
    answer = seller.call("POST", "/v3/feeds", params={"feedType": "inventory"},
                         json=_feed14(_item("WM-00008", 9)))
    assert answer.status_code == 200
    clock.advance(10)
    assert _status(seller, answer.json()["feedId"])["itemsSucceeded"] == 1


@pytest.mark.parametrize("params, code", [({}, "MISSING_REQUEST_PARAM"), ({"feedType": "item"}, "INVALID_REQUEST_PARAM")])
def test_the_feed_type_is_required_and_known(seller: Seller, params, code) -> None:
    answer = seller.call("POST", "/v3/feeds", params=params, json=_feed14(_item("WM-00001", 1)))
    assert answer.status_code == 400 and answer.json()["errors"][0]["code"].startswith(code)


def test_item_details_page_with_offset_and_limit(seller: Seller, clock) -> None:
    feed_id = seller.submit_feed(_feed14(*[_item("WM-00001", n) for n in range(7)])).json()["feedId"]
    clock.advance(10)
    page = _status(seller, feed_id, includeDetails="true", offset="5", limit="5")
    assert [d["index"] for d in page["itemDetails"]["itemIngestionStatus"]] == [5, 6]
    assert (page["offset"], page["limit"]) == (5, 5)
    assert "itemDetails" not in _status(seller, feed_id)
    assert seller.call("GET", f"/v3/feeds/{feed_id}", params={"limit": "1001"}).status_code == 400
    missing = seller.call("GET", "/v3/feeds/NOPE@AQMBAQA")
    assert missing.status_code == 404 and missing.json()["errors"][0]["code"].startswith("CONTENT_NOT_FOUND")
