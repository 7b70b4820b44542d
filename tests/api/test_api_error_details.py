"""Error details a client can act on: a body that is not JSON says where it breaks (400),
a body that is not declared JSON is 415, and every error points into the request the
same way: `lines[0].sku` (0-based index into the array sent), `line`/`column` 1-based
in a text (a JSON body, a CSV upload)."""

from __future__ import annotations

import codecs
import json

import pytest
from fastapi.testclient import TestClient

from tests.conftest import admin_app
from tests.conftest import count_rows

PROBLEM = "application/problem+json"

CSV = {"Content-Type": "text/csv"}  # what a snapshot upload declares


@pytest.fixture
def api(hub):
    with TestClient(admin_app(hub)) as client:
        client.post("/api/v1/locations", json={"code": "WH", "name": "Warehouse", "kind": "warehouse",
                                                "capabilities": ["ship"], "lat": 40.7, "lng": -74.0})
        client.post("/api/v1/products", json={"title": "Tee", "variants": [{"sku": "TEE-M"}, {"sku": "TEE-L"}]})
        yield client


def problem(r, status: int) -> dict:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith(PROBLEM)
    body = r.json()
    assert body["status"] == status and body["title"] and body["detail"]
    return body


def fields(body: dict) -> list[str]:
    return [e["field"] for e in body["errors"]]


def test_malformed_json_is_400_with_line_column_and_offset(api, hub):
    text = '{\n  "sku": "TEE-M",\n  "location" "WH",\n  "quantity": 5\n}'
    with pytest.raises(json.JSONDecodeError) as expected:
        json.loads(text)
    r = api.post("/api/v1/movements", content=text.encode(), headers={"content-type": "application/json"})
    body = problem(r, 400)
    assert body["code"] == "malformed_json"
    assert (body["line"], body["column"], body["offset"]) == (3, 14, expected.value.pos) == (3, 14, 33)
    [error] = body["errors"]
    assert (error["line"], error["column"], error["offset"]) == (3, 14, 33)
    assert "Expecting ':' delimiter" in error["message"] and "line 3, column 14" in body["detail"]
    assert count_rows(hub, "movements") == 0


def test_malformed_json_on_the_first_line_counts_from_one(api):
    body = problem(api.post("/api/v1/orders", content=b'{"lines": [}', headers={"content-type": "application/json"}), 400)
    assert (body["line"], body["column"], body["offset"]) == (1, 12, 11)


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", None])
def test_a_body_that_is_not_declared_json_is_415(api, hub, content_type):
    data = json.dumps({"sku": "TEE-M", "location": "WH", "quantity": 5, "from_state": "received", "to_state": "on_hand",
                       "reason": "receipt"}).encode()
    headers = {"content-type": content_type} if content_type else {}
    r = api.post("/api/v1/movements", content=data, headers=headers)
    body = problem(r, 415)
    assert body["code"] == "unsupported_media_type" and "application/json" in body["detail"]
    assert fields(body) == ["header.content-type"]
    assert count_rows(hub, "movements") == 0


def test_order_lines_are_pointed_at_by_their_index_in_validation_and_in_the_pipeline(api):
    line = {"sku": "TEE-M", "quantity": 1}
    invalid = problem(api.post("/api/v1/orders", json={"lines": [{**line, "quantity": 0}]}), 422)
    assert fields(invalid) == ["lines[0].quantity"]
    unknown_first = problem(api.post("/api/v1/orders", json={"lines": [{"sku": "NOPE", "quantity": 1}, line]}), 422)
    assert fields(unknown_first) == ["lines[0].sku"]  # the pipeline says line_id "1": the same first line
    unknown_named = problem(api.post("/api/v1/orders", json={"lines": [line, {"line_id": "gift", "sku": "NOPE",
                                                                              "quantity": 1}]}), 422)
    assert fields(unknown_named) == ["lines[1].sku"]
    assert "gift" in unknown_named["detail"]


def test_every_list_in_a_body_is_indexed_the_same_way(api):
    dup = problem(api.post("/api/v1/products", json={"title": "Cap", "variants": [{"sku": "CAP-1"}, {"sku": "CAP-1"}]}),
                  422)
    assert fields(dup) == ["variants[1].sku"]
    typed = problem(api.post("/api/v1/products", json={"title": "Cap", "variants": [{"sku": "CAP-2"}, {"sku": ""}]}), 422)
    assert fields(typed) == ["variants[1].sku"]
    rules = problem(api.put("/api/v1/routing-rules", json={"rules": [{"name": ""}]}), 422)
    assert fields(rules) == ["rules[0].name"]
    query = problem(api.get("/api/v1/orders", params={"limit": 0}), 422)
    assert fields(query) == ["query.limit"]


def test_csv_upload_errors_are_in_line_order_with_the_column_named(api):
    csv = 'sku,location,on_hand\nNOPE,WH,1\nTEE-M,WH,x\n"TEE-L",WH,2\n"TEE\nM",WH,y\n'
    body = problem(api.post("/api/v1/stock/snapshots", content=csv, headers=CSV), 422)
    got = [(e["line"], e["column"], e["field"]) for e in body["errors"]]
    assert got == [(2, 1, "sku"), (3, 3, "on_hand"), (5, 3, "on_hand")]
    assert body["report"]["applied"] == 1


def test_csv_upload_takes_the_encodings_excel_writes(api):
    for on_hand, (bom, encoding) in enumerate([(codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be"),
                                               (codecs.BOM_UTF8, "utf-8"), (b"", "utf-8")], start=5):
        raw = bom + f"sku,location,on_hand\r\nTEE-M,WH,{on_hand}\r\n".encode(encoding)
        r = api.post("/api/v1/stock/snapshots", content=raw, headers=CSV)
        assert r.status_code == 200 and r.json()["applied"] == 1, (encoding, bom, r.text)
        assert api.get("/api/v1/positions/TEE-M").json()["locations"]["WH"]["on_hand"] == on_hand


def test_csv_upload_in_a_legacy_code_page_is_refused_with_the_offset(api):
    legacy = "sku,location,on_hand\nCAFÉ,WH,1\n".encode("cp1252")
    body = problem(api.post("/api/v1/stock/snapshots", content=legacy, headers=CSV), 422)
    assert body["code"] == "invalid_encoding" and body["errors"][0]["offset"] == 24
