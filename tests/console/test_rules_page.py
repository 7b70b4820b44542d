"""The rules page over plain HTTP: safety stock, thresholds and channel allocations shown
to whoever may read them, saved with validation through the catalog services (ATP is
recomputed at once), and a read-only user has no save button and is refused a post."""

from __future__ import annotations

import re

from tests.conftest import add_location
from tests.console.pages_client import csrf_of, person, signed_in


def _estate(hub) -> None:
    add_location(hub, "WH", kind="warehouse", capabilities=["ship"])
    hub.catalog.create_product("Enamel mug", [{"sku": "MUG"}])
    hub.catalog.upsert_channel("amazon", name="Amazon", kind="amazon", feeds={"WH": "ship"})
    hub.inventory.receive("MUG", "WH", 10)


def test_an_operator_saves_a_safety_stock_and_atp_follows(hub):
    _estate(hub)
    c = signed_in(hub, person(hub, "olga@shop.example", "operator"))
    page = c.get("/console/rules")
    assert page.status_code == 200 and 'id="save-policy"' in page.text
    r = c.post("/console/rules/stock-policies", data={"csrf_token": csrf_of(page.text), "sku": "MUG", "location": "WH",
                                                      "safety_stock": "3", "threshold": ""})
    assert r.status_code == 303 and r.headers["location"] == "/console/rules?done=policy"
    assert hub.queries.explain("MUG", "amazon")["atp"] == 7
    shown = c.get(r.headers["location"])
    assert "Saved" in shown.text and re.search(r"<td>any</td><td>MUG</td><td>WH</td><td class=\"num\">3</td>", shown.text)
    [event] = [e for e in hub.audit.page(limit=20)[0] if e["action"] == "channels.put_policy"]
    assert event["after"] == {"safety_stock": 3, "threshold": None} and event["details"]["door"] == "console"


def test_an_operator_saves_a_channel_s_allocation(hub):
    _estate(hub)
    c = signed_in(hub, person(hub, "olga@shop.example", "operator"))
    token = csrf_of(c.get("/console/rules").text)
    r = c.post("/console/rules/channels/amazon", data={"csrf_token": token, "share_pct": "50", "fixed_allocation": "",
                                                       "buffer": "1"})
    assert r.status_code == 303
    got = hub.catalog.get_channel("amazon")
    assert (got["share_pct"], got["fixed_allocation"], got["buffer"], got["feeds"]) == (50, None, 1, {"WH": "ship"})
    assert hub.queries.explain("MUG", "amazon")["atp"] == 4


def test_bad_values_are_refused_with_their_message_and_nothing_saved(hub):
    _estate(hub)
    c = signed_in(hub, person(hub, "olga@shop.example", "operator"))
    token = csrf_of(c.get("/console/rules").text)
    r = c.post("/console/rules/stock-policies", data={"csrf_token": token, "sku": "TEAPOT", "safety_stock": "-2"})
    assert r.status_code == 422
    assert "There is no SKU &#39;TEAPOT&#39;." in r.text and "Safety stock: a whole number" in r.text
    assert 'aria-invalid="true" aria-describedby="sku-error"' in r.text and 'value="TEAPOT"' in r.text
    r = c.post("/console/rules/channels/amazon", data={"csrf_token": token, "share_pct": "150", "buffer": "x"})
    assert r.status_code == 422 and "Share: a whole percentage" in r.text and "Buffer: a whole number" in r.text
    assert hub.catalog.list_policies() == [] and hub.catalog.get_channel("amazon")["share_pct"] == 100
    assert c.post("/console/rules/channels/nope", data={"csrf_token": token, "share_pct": "5"}).status_code == 404


def test_a_read_only_user_sees_the_rules_but_cannot_save_them(hub):
    _estate(hub)
    c = signed_in(hub, person(hub, "rita@shop.example", "read_only"))
    page = c.get("/console/rules")
    assert page.status_code == 200 and "Your role may read these rules, not change them" in page.text
    main = page.text.split("</header>", 1)[1]
    assert 'id="save-' not in main and "Save" not in main and 'id="preview-policy-button"' in main  # a preview, no save
    token = csrf_of(page.text)
    for path, data in (("/console/rules/stock-policies", {"sku": "MUG", "safety_stock": "9"}),
                       ("/console/rules/channels/amazon", {"share_pct": "0", "buffer": "0"})):
        r = c.post(path, data={"csrf_token": token, **data})
        assert r.status_code == 403 and "may not use channels.write" in r.text, path
    assert hub.catalog.list_policies() == [] and hub.catalog.get_channel("amazon")["share_pct"] == 100
