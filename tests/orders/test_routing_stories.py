"""Routing stories: a channel moving an order's destination, rules that refuse an order,
two people editing the rules, the same order sent twice, and a store's daily capacity
around midnight."""

from __future__ import annotations

from tests.orders.conftest import NYC_CUSTOMER, order, stock

WAREHOUSES_ONLY = {
    "rules": [{"name": "warehouses-only", "order_filter": {}, "location_filter": {"kinds": ["warehouse"]},
               "sort": ["distance"], "split": {"mode": "no_split"}, "fallback": "queue"}],
    "final_fallback": "queue",
}


def test_two_people_editing_the_rules_cannot_overwrite_each_other(estate):
    """Given two operators who both opened the routing rules at the same version, when the
    first saves, then the second's save from that version is refused with a 409 problem
    naming the version now in force, and the first's rules stay in force; re-read and
    saved from the current version, it goes through."""
    seen = estate.get("/api/v1/routing-rules").json()
    first = estate.put("/api/v1/routing-rules", json={**WAREHOUSES_ONLY, "version": seen["version"]})
    assert first.status_code == 200, first.text
    in_force = first.json()["version"]
    assert in_force == seen["version"] + 1

    second = estate.put("/api/v1/routing-rules", json={**seen, "final_fallback": "backorder"})
    assert second.status_code == 409, second.text
    assert second.headers["content-type"].startswith("application/problem+json")
    problem = second.json()
    assert (problem["status"], problem["code"]) == (409, "version_conflict")
    assert (problem["expected_version"], problem["current_version"]) == (seen["version"], in_force)
    assert problem["errors"][0]["field"] == "version"
    now = estate.get("/api/v1/routing-rules").json()
    assert now["version"] == in_force and [r["name"] for r in now["rules"]] == ["warehouses-only"]
    assert len(estate.get("/api/v1/routing-rules/history").json()) == 1

    again = estate.put("/api/v1/routing-rules", json={**now, "final_fallback": "backorder"})
    assert again.status_code == 200, again.text
    assert again.json()["version"] == in_force + 1
