"""The store associate's screens over plain HTTP: receive by SKU or barcode, count a shelf
(the variance shown before anything is recorded, then confirmed), mark damaged, each
through the stock services with the associate in the ledger; a form sent twice records
once; a bad code or quantity answers the form again with its message; an associate
cannot open or post to another store's screens, nor post to its stock through the API."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from omnihub.entrypoints.api.app import create_app
from tests.conftest import add_location, bearer, issue_token
from tests.console.pages_client import csrf_of, person, signed_in

UPC = "036000291452"


def _stores(hub) -> None:
    add_location(hub, "BKN", kind="store", lat=40.72, lng=-73.95)
    add_location(hub, "SOHO", kind="store", lat=40.72, lng=-74.0)
    hub.catalog.create_product("Enamel mug", [{"sku": "MUG", "gtin": UPC}])
    hub.inventory.receive("MUG", "BKN", 4)
    hub.inventory.receive("MUG", "SOHO", 4)


def _key(html: str) -> str:
    return re.search(r'name="form_key" value="([0-9a-f]+)"', html)[1]


def test_the_picker_shows_only_the_associate_s_stores(hub):
    _stores(hub)
    c = signed_in(hub, person(hub, "sam@shop.example", "store_associate", ["BKN"]))
    r = c.get("/console/store")
    assert r.status_code == 200
    assert set(re.findall(r'href="/console/store/(\w+)/receive"', r.text)) == {"BKN"}


def test_receiving_by_barcode_puts_units_on_hand_in_the_associate_s_name(hub):
    _stores(hub)
    c = signed_in(hub, person(hub, "sam@shop.example", "store_associate", ["BKN"]))
    page = c.get("/console/store/BKN/receive")
    assert page.status_code == 200 and 'inputmode="numeric"' in page.text and "autofocus" in page.text
    form = {"csrf_token": csrf_of(page.text), "form_key": _key(page.text), "code": UPC, "quantity": "6",
            "reference": "PO-1001"}
    r = c.post("/console/store/BKN/receive", data=form)
    assert r.status_code == 303 and r.headers["location"].startswith("/console/store/BKN/receive?sku=MUG&movement=")
    done = c.get(r.headers["location"])
    assert "Received 6 × MUG" in done.text and re.search(r'id="on-hand">10<', done.text)
    assert hub.queries.positions("MUG")["BKN"].on_hand == 10
    again = c.post("/console/store/BKN/receive", data=form)  # the same form sent twice (a double tap)
    assert again.status_code == 303 and hub.queries.positions("MUG")["BKN"].on_hand == 10
    [receipt] = [m for m in hub.queries.history("MUG") if m["reference"] == "PO-1001"]
    assert receipt["actor"].startswith("user:") and receipt["actor"].endswith(":sam@shop.example")


def test_a_bad_code_or_quantity_answers_the_form_with_its_message(hub):
    _stores(hub)
    c = signed_in(hub, person(hub, "sam@shop.example", "store_associate", ["BKN"]))
    token = csrf_of(c.get("/console/store/BKN/receive").text)
    r = c.post("/console/store/BKN/receive", data={"csrf_token": token, "code": "TEAPOT", "quantity": "0"})
    assert r.status_code == 422
    assert "No SKU or barcode &#39;TEAPOT&#39;." in r.text and 'id="code-error"' in r.text and 'id="quantity-error"' in r.text
    assert 'aria-invalid="true" aria-describedby="code-error' in r.text
    assert hub.queries.positions("MUG")["BKN"].on_hand == 4


def test_counting_a_shelf_shows_the_variance_before_recording_it(hub):
    _stores(hub)
    c = signed_in(hub, person(hub, "sam@shop.example", "store_associate", ["BKN"]))
    preview = c.get("/console/store/BKN/count", params={"code": "MUG", "counted": "3"})
    assert preview.status_code == 200
    assert re.search(r'id="ledger-shelf">4<', preview.text) and "-1 lost" in preview.text
    assert hub.queries.positions("MUG")["BKN"].on_hand == 4  # nothing recorded by looking
    form = {"csrf_token": csrf_of(preview.text), "form_key": _key(preview.text), "sku": "MUG", "counted": "3",
            "shelf_seen": "4"}
    hub.inventory.record_sale("MUG", "BKN", 1)  # meanwhile a till sold one: the variance she saw is stale
    moved = c.post("/console/store/BKN/count", data=form)
    assert moved.status_code == 409 and "The shelf changed since you looked" in moved.text
    assert re.search(r'id="ledger-shelf">3<', moved.text) and "none: the shelf matches" in moved.text
    form = {**form, "form_key": _key(moved.text), "counted": "5", "shelf_seen": "3"}
    r = c.post("/console/store/BKN/count", data=form)
    assert r.status_code == 303 and r.headers["location"] == "/console/store/BKN/count?done=MUG"
    assert re.search(r'id="shelf">5<', c.get(r.headers["location"]).text)
    assert hub.queries.positions("MUG")["BKN"].on_hand == 5
    found = hub.queries.history("MUG")[-1]
    assert (found["reason"], found["quantity"], found["to_state"]) == ("found", 2, "on_hand")


def test_marking_damaged_takes_units_off_the_shelf(hub):
    _stores(hub)
    c = signed_in(hub, person(hub, "sam@shop.example", "store_associate", ["BKN"]))
    page = c.get("/console/store/BKN/damage")
    r = c.post("/console/store/BKN/damage", data={"csrf_token": csrf_of(page.text), "form_key": _key(page.text),
                                                   "code": "MUG", "quantity": "1", "note": "dropped"})
    assert r.status_code == 303
    assert "Marked 1 × MUG damaged" in c.get(r.headers["location"]).text
    assert hub.queries.positions("MUG")["BKN"].damaged == 1
    [marked] = [m for m in hub.queries.history("MUG") if m["reference"] == "dropped"]
    assert marked["actor"].endswith(":sam@shop.example")


def test_more_damaged_units_than_the_shelf_holds_are_refused_with_the_ledger_s_reason(hub):
    _stores(hub)
    c = signed_in(hub, person(hub, "sam@shop.example", "store_associate", ["BKN"]))
    page = c.get("/console/store/BKN/damage")
    r = c.post("/console/store/BKN/damage", data={"csrf_token": csrf_of(page.text), "form_key": _key(page.text),
                                                   "code": "MUG", "quantity": "9", "note": "flood"})
    assert r.status_code == 409
    assert 'name="note"' in r.text and 'value="flood"' in r.text  # the form again, as it was sent
    assert re.search(r'id="quantity-error"[^>]*>[^<]+', r.text), r.text
    assert hub.queries.positions("MUG")["BKN"].damaged == 0


def test_an_associate_cannot_open_nor_post_to_another_store_page_or_api(hub):
    _stores(hub)
    c = signed_in(hub, person(hub, "sam@shop.example", "store_associate", ["BKN"]))
    token = csrf_of(c.get("/console/store/BKN/receive").text)
    for screen in ("receive", "count", "damage"):
        page = c.get(f"/console/store/SOHO/{screen}")
        assert page.status_code == 403 and "only at BKN" in page.text, screen
        post = c.post(f"/console/store/SOHO/{screen}", data={"csrf_token": token, "code": "MUG", "quantity": "5",
                                                             "sku": "MUG", "counted": "0", "shelf_seen": "4"})
        assert post.status_code == 403, screen
    with TestClient(create_app(hub=hub), headers=bearer(issue_token(hub, "store_associate", locations=["BKN"]))) as api:
        r = api.post("/api/v1/stock/receive", json={"sku": "MUG", "location": "SOHO", "quantity": 5})
        assert r.status_code == 403
    assert hub.queries.positions("MUG")["SOHO"].on_hand == 4 and hub.queries.positions("MUG")["SOHO"].damaged == 0


def test_an_operator_may_use_any_store_and_an_unknown_one_is_not_found(hub):
    _stores(hub)
    c = signed_in(hub, person(hub, "olga@shop.example", "operator"))
    assert c.get("/console/store/SOHO/receive").status_code == 200
    assert c.get("/console/store/NOWHERE/receive").status_code == 404
    ro = signed_in(hub, person(hub, "rita@shop.example", "read_only"))
    assert ro.get("/console/store").status_code == 403
