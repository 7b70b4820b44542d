"""The audit page over plain HTTP (admin only): who changed what, when and through which
door (the API, the console, the CLI), newest first, a page at a time, filtered by who,
by action (one, or a family) and by days of the retailer's time zone; a bad filter is
shown beside its field."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient

from omnihub.domain.access import local_admin
from omnihub.entrypoints.api.app import create_app
from omnihub.services.audit_trail import CLI_ADDRESS, Actor, AuditEvent
from tests.conftest import add_location, add_skus, bearer, issue_token
from tests.console.pages_client import csrf_of, person, signed_in


def _rows(html: str) -> list[tuple[str, str, str]]:
    """(who, door, action) of each row listed."""
    body = re.search(r'<table id="audit">(.*?)</table>', html, re.S)[1]
    return [(who.strip(), door, action) for who, door, action in re.findall(
        r'<tr id="audit-\d+"><td>[^<]*</td><td>([^<]*)<span.*?<td class="door">([^<]*)</td>.*?<td class="action">([^<]*)</td>',
        body, re.S)]


def _changes(hub) -> None:
    add_location(hub, "BKN", kind="store")
    add_skus(hub, "MUG")
    with TestClient(create_app(hub=hub), headers=bearer(issue_token(hub, "operator", name="erp-sync"))) as api:
        assert api.post("/api/v1/stock/receive", json={"sku": "MUG", "location": "BKN", "quantity": 5}).status_code == 201
    hub.audit.record_now(AuditEvent(actor=Actor.of(local_admin("ops")), address=CLI_ADDRESS, action="users.add",
                                    target="user=sam@shop.example"))
    olga = signed_in(hub, person(hub, "olga@shop.example", "operator"))
    olga.post("/console/logout", data={"csrf_token": csrf_of(olga.get("/console/rules").text)})


def test_an_admin_reads_who_changed_what_and_through_which_door(hub):
    _changes(hub)
    ada = signed_in(hub, person(hub, "ada@shop.example", "admin"))
    page = ada.get("/console/audit")
    assert page.status_code == 200
    rows = _rows(page.text)
    assert ("erp-sync", "API", "stock.receive") in rows
    assert ("ops", "CLI", "users.add") in rows
    assert ("olga@shop.example", "console", "sign_in.logout") in rows
    by_olga = _rows(ada.get("/console/audit", params={"actor": "olga@shop.example"}).text)
    assert by_olga and {who for who, _, _ in by_olga} == {"olga@shop.example"}
    stock = _rows(ada.get("/console/audit", params={"action": "stock"}).text)  # a family
    assert [a for _, _, a in stock] == ["stock.receive"]
    assert _rows(ada.get("/console/audit", params={"actor": "token"}).text) == [("erp-sync", "API", "stock.receive")]
    today = datetime.now(UTC).date()
    assert _rows(ada.get("/console/audit", params={"since": str(today - timedelta(days=1)), "until": str(today + timedelta(days=1))}).text)
    assert _rows(ada.get("/console/audit", params={"until": str(today - timedelta(days=2))}).text) == []


def test_it_pages_newest_first(hub, monkeypatch):
    from omnihub.entrypoints.console import audit

    monkeypatch.setattr(audit, "PAGE", 2)
    for n in range(5):
        hub.audit.record_now(AuditEvent(actor=Actor.of(local_admin("ops")), address=CLI_ADDRESS, action=f"rules.set_{n}"))
    ada = signed_in(hub, person(hub, "ada@shop.example", "admin"))
    page, seen = ada.get("/console/audit", params={"actor": "local_admin"}), []
    while True:
        seen += [a for _, _, a in _rows(page.text)]
        older = re.search(r'<a class="button secondary" href="([^"]+)" rel="next">Older</a>', page.text)
        if not older:
            break
        page = ada.get(older[1].replace("&amp;", "&"))
        assert 'href="/console/audit?actor=local_admin">Newest</a>' in page.text
    assert seen == [f"rules.set_{n}" for n in reversed(range(5))]


def test_a_bad_filter_is_shown_beside_its_field(hub):
    ada = signed_in(hub, person(hub, "ada@shop.example", "admin"))
    r = ada.get("/console/audit", params={"since": "yesterday", "until": "2026-12-01"})
    assert r.status_code == 422 and "From: a date such as 2026-12-03." in r.text
    assert 'id="since" name="since" type="date" value="yesterday" aria-invalid="true" aria-describedby="since-error days-hint"' in r.text
    r = ada.get("/console/audit", params={"since": "2026-12-03", "until": "2026-12-01"})
    assert r.status_code == 422 and "To: the same day as From, or later." in r.text
    assert ada.get("/console/audit", params={"action": "stock\x00"}).status_code == 422


def test_only_an_admin_opens_the_audit_page(hub):
    for role in ("operator", "read_only"):
        c = signed_in(hub, person(hub, f"{role}@shop.example", role))
        r = c.get("/console/audit")
        assert r.status_code == 403 and "may not use audit.read" in r.text, role
        assert 'href="/console/audit"' not in c.get("/console/channels").text  # no link to it either
