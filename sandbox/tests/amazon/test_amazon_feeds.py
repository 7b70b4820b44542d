"""Feeds: JSON_LISTINGS_FEED through presigned upload to a processing report."""

from __future__ import annotations

import json


from amazon_sandbox_harness import MARKETPLACE, SELLER, Seller
from spapi_contract import assert_response, body_errors, json_schema
from jsonschema import Draft7Validator

M = "feeds_2021-06-30.json"
CONTENT_TYPE = "application/json; charset=UTF-8"


def submit(seller: Seller, document: bytes | dict) -> str:
    spec = {"contentType": CONTENT_TYPE}
    assert not body_errors(M, "createFeedDocument", spec)
    created = assert_response(M, "createFeedDocument", seller.call("POST", "/feeds/2021-06-30/documents", json=spec))
    content = document if isinstance(document, bytes) else json.dumps(document).encode()
    upload = seller.http.put(created["url"], content=content, headers={"content-type": CONTENT_TYPE})
    assert upload.status_code == 200, upload.text
    feed_spec = {"feedType": "JSON_LISTINGS_FEED", "marketplaceIds": [MARKETPLACE], "inputFeedDocumentId": created["feedDocumentId"]}
    assert not body_errors(M, "createFeed", feed_spec)
    answer = seller.call("POST", "/feeds/2021-06-30/feeds", json=feed_spec)
    assert answer.status_code == 202
    return assert_response(M, "createFeed", answer)["feedId"]


def get_feed(seller: Seller, feed_id: str) -> dict:
    return assert_response(M, "getFeed", seller.call("GET", f"/feeds/2021-06-30/feeds/{feed_id}"))


def report(seller: Seller, feed: dict) -> dict:
    doc = assert_response(M, "getFeedDocument", seller.call("GET", f"/feeds/2021-06-30/documents/{feed['resultFeedDocumentId']}"))
    body = seller.http.get(doc["url"]).json()
    errors = list(Draft7Validator(json_schema("listings-feed-processing-report-schema-v2.json")).iter_errors(body))
    assert not errors, [e.message for e in errors]
    return body


def quantity_patch(message_id: int, sku: str, quantity) -> dict:
    return {"messageId": message_id, "sku": sku, "operationType": "PATCH", "productType": "PRODUCT",
            "patches": [{"op": "replace", "path": "/attributes/fulfillment_availability",
                         "value": [{"fulfillment_channel_code": "DEFAULT", "quantity": quantity}]}]}


def test_feed_lifecycle_to_done_applies_quantities(seller: Seller, clock) -> None:
    a, b = (row["sku"] for row in seller.listings()[:2])
    seller.set_quantity(a, 3)
    document = {"header": {"sellerId": SELLER, "version": "2.0", "issueLocale": "en_US"},
                "messages": [quantity_patch(1, a, 11), quantity_patch(2, b, 22), quantity_patch(3, "NO-SUCH-SKU", 5),
                             {"messageId": 4, "sku": a, "operationType": "PATCH"}]}
    feed_id = submit(seller, document)
    assert get_feed(seller, feed_id)["processingStatus"] == "IN_QUEUE"
    clock.advance(6)
    feed = get_feed(seller, feed_id)
    assert feed["processingStatus"] == "IN_PROGRESS" and "processingStartTime" in feed
    assert {r["sku"]: r["quantity"] for r in seller.listings()}[a] == 3  # applied only when the feed is DONE
    clock.advance(10)
    feed = get_feed(seller, feed_id)
    assert feed["processingStatus"] == "DONE" and feed["resultFeedDocumentId"]
    body = report(seller, feed)
    assert body["summary"] == {"errors": 2, "warnings": 0, "messagesProcessed": 4, "messagesAccepted": 2, "messagesInvalid": 2}
    assert sorted(i["messageId"] for i in body["issues"]) == [3, 4]
    quantities = {r["sku"]: r["quantity"] for r in seller.listings()}
    assert quantities[a] == 11 and quantities[b] == 22


def test_invalid_document_makes_the_feed_fatal(seller: Seller, clock) -> None:
    for document in (b"this is not json", {"messages": [quantity_patch(1, "X", 1)]},
                     {"header": {"sellerId": "SOMEONE-ELSE", "version": "2.0"}, "messages": [quantity_patch(1, "X", 1)]}):
        feed_id = submit(seller, document)
        clock.advance(20)
        feed = get_feed(seller, feed_id)
        assert feed["processingStatus"] == "FATAL"
        body = report(seller, feed)
        assert body["summary"]["messagesAccepted"] == 0 and body["issues"][0]["severity"] == "ERROR"


def test_official_example_feed_is_accepted(seller: Seller, clock) -> None:
    from spapi_contract import amazon_contracts

    example = json.loads((amazon_contracts() / "schemas" / "listings-feed-schema-v2.example.json").read_text())
    example["header"]["sellerId"] = SELLER
    feed_id = submit(seller, example)
    clock.advance(20)
    feed = get_feed(seller, feed_id)
    assert feed["processingStatus"] == "DONE"
    body = report(seller, feed)
    # My-SKU-C is created by UPDATE; the others do not exist on this seller.
    assert body["summary"]["messagesProcessed"] == 5 and body["summary"]["messagesAccepted"] == 1
    assert "items" in body and body["items"][0]["sku"] == "My-SKU-C"


def test_without_official_schema_the_sandbox_validates_structure(make_config, clock) -> None:
    from amazon_sandbox_harness import TestClient, create_app

    config = make_config(contracts_dir=None)
    seller = Seller(TestClient(create_app(config), base_url="http://sandbox.test"), config)
    sku = seller.listings()[0]["sku"]
    good = submit(seller, {"header": {"sellerId": SELLER, "version": "2.0"}, "messages": [quantity_patch(1, sku, 4)]})
    bad = submit(seller, {"header": {"sellerId": SELLER, "version": "1.0"}, "messages": []})
    clock.advance(20)
    assert get_feed(seller, good)["processingStatus"] == "DONE"
    assert get_feed(seller, bad)["processingStatus"] == "FATAL"
    assert {r["sku"]: r["quantity"] for r in seller.listings()}[sku] == 4


def test_feed_api_input_errors_and_presigned_urls(seller: Seller, clock) -> None:
    for body in ({}, {"contentType": ""}):
        answer = seller.call("POST", "/feeds/2021-06-30/documents", json=body)
        assert answer.status_code == 400
        assert_response(M, "createFeedDocument", answer)
    doc = seller.call("POST", "/feeds/2021-06-30/documents", json={"contentType": CONTENT_TYPE}).json()
    not_uploaded = seller.call("POST", "/feeds/2021-06-30/feeds", json={
        "feedType": "JSON_LISTINGS_FEED", "marketplaceIds": [MARKETPLACE], "inputFeedDocumentId": doc["feedDocumentId"]})
    assert not_uploaded.status_code == 400
    legacy = seller.call("POST", "/feeds/2021-06-30/feeds", json={
        "feedType": "POST_INVENTORY_AVAILABILITY_DATA", "marketplaceIds": [MARKETPLACE], "inputFeedDocumentId": doc["feedDocumentId"]})
    assert legacy.status_code == 400
    tampered = doc["url"].replace("X-Amz-Signature=", "X-Amz-Signature=00")
    assert seller.http.put(tampered, content=b"{}", headers={"content-type": CONTENT_TYPE}).status_code == 403
    assert seller.http.put(doc["url"], content=b"{}", headers={"content-type": "text/plain"}).status_code == 403
    clock.advance(301)
    assert seller.http.put(doc["url"], content=b"{}", headers={"content-type": CONTENT_TYPE}).status_code == 403
    assert seller.call("GET", "/feeds/2021-06-30/feeds/12345").status_code == 404
    assert seller.call("GET", "/feeds/2021-06-30/feeds/badFeedId1").status_code == 400


def test_presigned_urls_name_the_sandbox_whatever_host_the_request_gives(make_config, serve) -> None:
    """S3's URLs name S3: a request sent with another Host header (a proxy's, a forger's)
    gets a URL to where the sandbox listens, which works, and never one to that host."""
    import time

    import httpx

    from amazon_sandbox_harness import create_app

    config = make_config(clock=time.time)
    with serve(create_app(config)) as server, httpx.Client(base_url=server.url, timeout=30) as client:
        seller = Seller(client, config)
        forged = seller.call("POST", "/feeds/2021-06-30/documents", json={"contentType": CONTENT_TYPE},
                             headers={"host": "attacker.example"})
        url = assert_response(M, "createFeedDocument", forged)["url"]
        assert "attacker.example" not in url and url.startswith(server.url + "/s3/feeds/")
        assert client.put(url, content=b"{}", headers={"content-type": CONTENT_TYPE}).status_code == 200
    pinned = make_config(public_base_url="https://documents.example", state_path=config.state_path.with_name("b.db"))
    with serve(create_app(pinned)) as server, httpx.Client(base_url=server.url, timeout=30) as client:
        doc = Seller(client, pinned).call("POST", "/feeds/2021-06-30/documents", json={"contentType": CONTENT_TYPE})
        assert doc.json()["url"].startswith("https://documents.example/s3/feeds/")
