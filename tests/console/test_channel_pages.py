"""The channels pages over plain HTTP: each channel's health as the worker reported it,
its budget, its sync (waiting, in back-off, parked), its polls and its reconciliation runs
with their kept reports; what is parked (dead letters, inbox rows, shipments not told)
with a Retry button that sends it through the services the API's retries use, audited;
a read-only user sees no button and is refused the post; the live table refreshes as a
part of the page, and a dead session sends the whole page to the sign-in."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from cryptography.fernet import Fernet
from fastapi.testclient import TestClient

from omnihub.adapters.channels.credentials import CredentialVault
from omnihub.adapters.db import tables as t
from omnihub.domain.channel_health import ChannelHealth
from omnihub.entrypoints.api.app import create_app
from omnihub.services import channel_health_reports
from omnihub.services.channel_budgets import BudgetUse, report as report_budgets
from tests.conftest import add_location, add_skus, bearer, issue_token
from tests.console.pages_client import csrf_of, person, signed_in

T0 = datetime.now(UTC).replace(microsecond=0)


def _estate(hub) -> None:
    add_location(hub, "BKN", kind="store", lat=40.72, lng=-73.95)
    add_skus(hub, "MUG", "CAP", "HAT")
    hub.catalog.upsert_channel("shopify", name="Shopify online store", kind="shopify", per_location=True,
                             feeds={"BKN": "ship"})
    hub.catalog.upsert_channel("amazon", name="Amazon", kind="amazon")
    hub.vault = CredentialVault(hub.engine, Fernet.generate_key().decode())
    hub.vault.put("shopify", {"shop_url": "https://shop.example", "access_token": "shpat_x", "client_secret": "s"})
    for sku in ("MUG", "CAP", "HAT"):
        hub.sync.request("shopify", sku, "BKN", 3)
    hub.sync.flush()
    i = t.sync_intents
    with hub.engine.begin() as conn:  # MUG parked after its attempts; CAP failed once, waiting out its back-off
        conn.execute(i.update().where(i.c.sku == "MUG").values(state="dead", attempts=8, last_error="HTTP 422: unknown item"))
        conn.execute(i.update().where(i.c.sku == "CAP").values(attempts=1, last_error="HTTP 503",
                                                               next_attempt_at=T0 + timedelta(seconds=30)))
        conn.execute(t.channel_cursors.insert().values(channel="shopify", name="orders.updated_at",
                                                       value="2026-12-04T08:00:00Z", updated_at=T0 - timedelta(minutes=3)))
    health = ChannelHealth(outage_after_s=60)
    health.observe(answered=True, sent_at=T0 - timedelta(seconds=40), now=T0 - timedelta(seconds=39), confirmed=True)
    health.observe(answered=False, sent_at=T0 - timedelta(seconds=20), now=T0 - timedelta(seconds=18), error="HTTP 503: busy")
    channel_health_reports.report(hub.engine, [channel_health_reports.of_health("shopify", health, T0)])
    report_budgets(hub.engine, [BudgetUse("shopify", 42.0, 80.0, 2)])
    hub.inbox.accept("shopify", "d-1", "orders/create", {}, b"not json at all")
    hub.inbox.drain()  # a payload that cannot be an order: parked with its reason
    r = t.reconciliation_runs
    with hub.engine.begin() as conn:
        run_id = conn.execute(r.insert().values(
            channel="shopify", state="done", trigger="schedule", window_start=T0 - timedelta(hours=48),
            started_at=T0 - timedelta(seconds=75), finished_at=T0 - timedelta(seconds=3), levels_compared=120,
            orders_compared=30, summary={"drift_repaired": 1, "unknown_sku": 1, "push_pending": 1}).returning(r.c.id)).scalar_one()
        none = {"sku": None, "location": None, "external_id": None, "hub_quantity": None, "channel_quantity": None}
        conn.execute(t.reconciliation_findings.insert(), [{**none, "run_id": run_id, **f} for f in (
            {"kind": "drift_repaired", "sku": "HAT", "location": "BKN", "hub_quantity": 3, "channel_quantity": 5,
             "action": "the channel showed more: pushing 3 now", "repaired": True},
            {"kind": "unknown_sku", "external_id": "gid://shopify/InventoryItem/9", "channel_quantity": 4,
             "action": "listed on shopify as 'TEAPOT' but not mapped in the hub: import the channel's catalog",
             "repaired": False},
            {"kind": "push_pending", "sku": "CAP", "location": "BKN", "hub_quantity": 3, "channel_quantity": 0,
             "action": "a push is queued or in flight", "repaired": False})])


def _row(html: str, row_id: str) -> str:
    found = re.search(rf'<tr id="{row_id}"[^>]*>(.*?)</tr>', html, re.S)
    assert found, row_id
    return found[1]


def test_the_channels_page_shows_health_budget_sync_polls_and_the_last_run(hub):
    _estate(hub)
    c = signed_in(hub, person(hub, "olga@shop.example", "operator"))
    page = c.get("/console/channels")
    assert page.status_code == 200
    shopify = _row(page.text, "channel-shopify")
    assert 'data-state="failing"' in page.text and "failing (retrying with back-off)" in shopify
    assert "HTTP 503: busy" in shopify and "42% (peak 80%), 2 throttled" in shopify
    cells = re.findall(r'<td class="num[^"]*">([^<]*)', shopify)
    assert cells[2:5] == ["2", "1", "1"], cells  # waiting (CAP, HAT), in back-off (CAP), dead letters (MUG)
    assert "orders.updated_at" in shopify and "1 left for a person" in shopify  # push_pending needs nobody
    amazon = _row(page.text, "channel-amazon")
    assert "not connected" in amazon and "none yet" in amazon
    assert 'hx-get="/console/channels?part=health" hx-trigger="every 5s"' in page.text
    [dead] = hub.sync.dead_letters()
    assert "HTTP 422: unknown item" in _row(page.text, f"dead-letter-{dead['id']}") and dead["sku"] == "MUG"
    [inbox] = hub.inbox.failures()
    assert "Retry inbox row" in _row(page.text, f"inbox-{inbox['id']}")


def test_a_channel_s_page_and_a_run_s_kept_report(hub):
    _estate(hub)
    c = signed_in(hub, person(hub, "rita@shop.example", "read_only"))
    page = c.get("/console/channels/shopify")
    assert page.status_code == 200 and "Shopify online store" in page.text
    assert "2026-12-04T08:00:00Z" in page.text  # how far the order poll has read
    with hub.engine.connect() as conn:
        [run] = conn.execute(sa.select(t.reconciliation_runs.c.id)).scalars().all()
    assert re.search(rf'<a href="/console/channels/shopify/runs/{run}">{run}</a></th><td>schedule</td>', page.text)
    assert "1 drift repaired, 1 push pending, 1 unknown sku" in page.text
    report = c.get(f"/console/channels/shopify/runs/{run}")
    assert report.status_code == 200 and '<span id="run-duration">72 s</span>' in report.text
    left = re.search(r'<table id="left">(.*?)</table>', report.text, re.S)[1]
    assert "TEAPOT" in left and "import the channel" in left and "push pending" not in left
    done = re.search(r'<table id="done">(.*?)</table>', report.text, re.S)[1]
    assert "pushing 3 now" in done and "push pending" in done
    assert c.get(f"/console/channels/amazon/runs/{run}").status_code == 404  # another channel's run
    assert c.get("/console/channels/shopify/runs/x").status_code == 404
    assert c.get("/console/channels/nope").status_code == 404
    part = c.get("/console/channels/shopify?part=health")
    assert part.text.lstrip().startswith("<div id=\"channel-health\"") and "<html" not in part.text


def test_an_operator_retries_a_dead_letter_an_inbox_row_and_all_of_them(hub):
    _estate(hub)
    c = signed_in(hub, person(hub, "olga@shop.example", "operator"))
    token = csrf_of(c.get("/console/channels/shopify").text)
    [dead] = hub.sync.dead_letters()
    r = c.post(f"/console/sync/dead-letters/{dead['id']}/retry", data={"csrf_token": token, "back": "/console/channels/shopify"})
    assert r.status_code == 303 and r.headers["location"] == "/console/channels/shopify?done=dead-letter"
    assert hub.sync.dead_letters() == []
    with hub.engine.connect() as conn:
        state, attempts = conn.execute(sa.select(t.sync_intents.c.state, t.sync_intents.c.attempts)
                                       .where(t.sync_intents.c.id == dead["id"])).one()
    assert (state, attempts) == ("pending", 0)  # back in the queue with a fresh set of attempts
    shown = c.get(r.headers["location"])
    assert "the dead letter is back in the queue" in shown.text and 'id="dead-letter-' not in shown.text
    gone = c.post(f"/console/sync/dead-letters/{dead['id']}/retry", data={"csrf_token": token})
    assert gone.status_code == 404 and "Nothing to retry" in gone.text
    [row] = hub.inbox.failures()
    r = c.post(f"/console/sync/inbox/{row['id']}/retry", data={"csrf_token": token, "back": "https://evil.example/"})
    assert r.status_code == 303 and r.headers["location"] == "/console/channels?done=inbox"  # only back to the console
    assert hub.inbox.failures() == []
    hub.inbox.drain()  # it fails again (it is still not JSON): parked again, and all of them go at once
    with hub.engine.begin() as conn:
        conn.execute(t.sync_intents.update().values(state="dead"))
    assert len(hub.inbox.failures()) == 1 and len(hub.sync.dead_letters()) == 3
    assert c.post("/console/sync/dead-letters/retry", data={"csrf_token": token, "channel": "amazon"}).status_code == 303
    assert len(hub.sync.dead_letters()) == 3  # of another channel: none of these
    assert c.post("/console/sync/dead-letters/retry", data={"csrf_token": token, "channel": "shopify"}).status_code == 303
    assert c.post("/console/sync/inbox/retry", data={"csrf_token": token}).status_code == 303
    assert hub.sync.dead_letters() == [] and hub.inbox.failures() == []
    actions = [(e["action"], e["target"], e["details"].get("door")) for e in hub.audit.page(limit=20)[0]]
    assert ("sync.retry", f"intent_id={dead['id']}", "console") in actions
    assert ("sync.inbox_retry", f"row_id={row['id']}", "console") in actions
    assert ("sync.retry_all", "channel=shopify", "console") in actions and ("sync.inbox_retry_all", "all", "console") in actions


def test_a_read_only_user_sees_no_retry_button_and_a_forged_post_is_refused(hub):
    _estate(hub)
    c = signed_in(hub, person(hub, "rita@shop.example", "read_only"))
    for path in ("/console/channels", "/console/channels/shopify"):
        page = c.get(path)
        assert page.status_code == 200 and "Your role may read what is parked, not send it again" in page.text
        assert "<button" not in page.text.split("</header>", 1)[1], path
    token = csrf_of(page.text)  # the sign-out form's: a real session's token
    [dead] = hub.sync.dead_letters()
    [row] = hub.inbox.failures()
    for path in (f"/console/sync/dead-letters/{dead['id']}/retry", "/console/sync/dead-letters/retry",
                 f"/console/sync/inbox/{row['id']}/retry", "/console/sync/inbox/retry"):
        r = c.post(path, data={"csrf_token": token})
        assert r.status_code == 403 and "may not use sync.act" in r.text, path
    assert len(hub.sync.dead_letters()) == 1 and len(hub.inbox.failures()) == 1


def test_the_api_retries_all_dead_letters_and_inbox_rows_and_says_how_many(hub):
    _estate(hub)
    with TestClient(create_app(hub=hub), headers=bearer(issue_token(hub, "operator"))) as api:
        assert api.post("/api/v1/sync/dead-letters/retry", params={"channel": "amazon"}).json() == {"retried": 0}
        assert api.post("/api/v1/sync/dead-letters/retry").json() == {"retried": 1}
        assert api.post("/api/v1/sync/inbox/retry", params={"source": "shopify"}).json() == {"retried": 1}
        bad = api.post("/api/v1/sync/inbox/retry", params={"source": ""})
        assert bad.status_code == 422 and bad.headers["content-type"] == "application/problem+json"
    with TestClient(create_app(hub=hub), headers=bearer(issue_token(hub, "read_only"))) as api:
        refused = api.post("/api/v1/sync/dead-letters/retry")
        assert refused.status_code == 403 and refused.headers["content-type"] == "application/problem+json"
    actions = {(e["action"], e["target"]) for e in hub.audit.page(limit=20)[0]}
    assert {("sync.retry_all", "channel=amazon"), ("sync.retry_all", "all"), ("sync.inbox_retry_all", "source=shopify")} <= actions


def test_a_part_asked_for_by_htmx_after_the_session_ended_sends_the_page_to_sign_in(hub):
    _estate(hub)
    c = signed_in(hub, person(hub, "olga@shop.example", "operator"))
    assert c.get("/console/channels?part=health", headers={"HX-Request": "true"}).status_code == 200
    c.post("/console/logout", data={"csrf_token": csrf_of(c.get("/console/channels").text)})
    r = c.get("/console/channels?part=health", headers={"HX-Request": "true"})
    assert r.status_code == 401 and r.headers["hx-redirect"] == "/console/login?next=/console/channels" and not r.text
