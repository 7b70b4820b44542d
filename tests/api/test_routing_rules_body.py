"""`PUT /routing-rules` takes a typed body (schemas_routing_rules.py) and still answers
what the domain refuses as the domain's problem: `invalid_rules` with the field at fault,
the same answer as when the body was an untyped object. What it accepts is stored as the
client sent it, and read back the same."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.conftest import admin_app

PROBLEM = "application/problem+json"
RULES = "/api/v1/routing-rules"


@pytest.fixture
def api(hub):
    with TestClient(admin_app(hub)) as client:
        yield client


def refused(r, code: str) -> dict:
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith(PROBLEM)
    body = r.json()
    assert body["code"] == code, body
    return body


@pytest.mark.parametrize("rules, field", [
    ({"rules": [{"name": "x", "sort": ["vibes"]}]}, "rules[0].sort"),
    ({"rules": [{"name": "  "}]}, "rules[0].name"),
    ({"rules": [{"name": "x", "sort": ["cost", "cost"]}]}, "rules[0].sort"),
    ({"rules": [{"name": "x", "split": {"mode": "split_above_value"}}]}, "rules[0].split.min_order_value_minor"),
    ({"rules": [{"name": "x", "order_filter": {"min_order_value_minor": 9, "max_order_value_minor": 1}}]},
     "rules[0].order_filter"),
    ({"rules": [{"name": "x", "colour": "red"}]}, "rules[0]"),
    ({"rules": [], "version": "one"}, "version"),
    ({"rules": [], "version": True}, "version"),
])
def test_what_the_domain_refuses_answers_the_domains_problem(api, rules, field):
    body = refused(api.put(RULES, json=rules), "invalid_rules")
    assert [e["field"] for e in body["errors"]] == [field]
    assert body["type"] == "https://omnihub.dev/problems/invalid_rules"


def test_a_body_that_is_not_an_object_is_refused_by_its_schema(api):
    body = refused(api.put(RULES, json=[1, 2]), "invalid_request")
    assert body["errors"][0]["field"] == ""


def test_what_is_accepted_is_stored_as_sent_and_read_back(api):
    rule = {"name": "nearest-store", "location_filter": {"kinds": ["store"], "max_distance_km": 25},
            "sort": ["distance", "priority"], "split": {"mode": "split", "max_shipments": 2}, "fallback": "queue"}
    before = api.get(RULES).json()
    saved = api.put(RULES, json={"rules": [rule], "final_fallback": "backorder", "version": before["version"]})
    assert saved.status_code == 200, saved.text
    now = api.get(RULES).json()
    assert now == saved.json()
    assert now["final_fallback"] == "backorder" and now["rules"][0]["location_filter"]["max_distance_km"] == 25
    assert now["rules"][0]["split"] == {"mode": "split", "max_shipments": 2, "min_order_value_minor": None}
    stale = api.put(RULES, json={"rules": [], "version": before["version"]})
    assert stale.status_code == 409 and stale.json()["code"] == "version_conflict"
