"""The channels, audit and users pages in a real browser (Debian's Chromium driven by
Playwright, the hub served by uvicorn on a real socket, tests/live_server.py):

- an operator retries a dead letter left by a real outage of the Shopify sandbox: it
  leaves the list, the worker pushes it, and the sandbox's own level follows (read from
  its control plane: the hub and the sandbox meet only over HTTP); the health table,
  refreshed in place, says the channel failed and then answers again; a reconciliation
  run's kept report is read;
- a read-only user sees what is parked but no Retry button, and a forged post is refused;
- an admin revokes an API token and the API refuses it from the next request; a bad
  field of the new-user form is shown beside it; the audit page shows the revocation,
  from the console's door.

A screenshot of each page is saved in OMNIHUB_ARTEFACTS; no page reports a CSP
violation or a script error.
"""

from __future__ import annotations

import re

import httpx
import pytest
import sqlalchemy as sa
from cryptography.fernet import Fernet

from omnihub.adapters.channels.credentials import CredentialVault
from omnihub.adapters.db import tables as t
from omnihub.entrypoints.api.app import create_app
from omnihub.entrypoints.worker import Schedules, Worker
from tests.conftest import add_location, add_skus, bearer, issue_token
from tests.console.pages_client import person
from tests.console.test_console_in_a_browser import Person
from tests.live_server import LiveServer
from tests.sync.conftest import _served, serve_simulator, shopify_sandbox, shopify_secrets, wait_until  # noqa: F401
from tests.sync.shop_setup import connect_shopify


def test_an_operator_retries_a_dead_letter_and_the_shop_gets_the_push(hub, shopify_sandbox, serve_simulator, chromium,  # noqa: F811
                                                                      artefacts):
    hub.vault = CredentialVault(hub.engine, Fernet.generate_key().decode())
    shop, _ = shopify_sandbox(catalog_products=2, catalog_variants_per_product=1, catalog_stores=1, catalog_warehouses=1,
                              initial_stock_max=5)
    hub.vault.put("shopify", shopify_secrets(shop.url))
    worker = Worker.from_vault(hub, schedules=Schedules(
        new_orders_s=3600, order_updates_s=3600, new_products_s=3600, product_updates_s=3600, level_snapshot_s=3600,
        amazon_orders_s=3600, queue_retry_s=3600, sweep_s=3600, reconcile_s=3600, budgets_s=1))
    hub.sync.max_attempts = 1  # a push that fails (the client has retried it for seconds) is parked at once
    setup = connect_shopify(hub, worker.shopify)
    catalog = httpx.get(shop.url + "/_sandbox/catalog").json()
    store_gid = next(loc["admin_graphql_api_id"] for loc in catalog["locations"] if loc["kind"] != "warehouse")
    from omnihub.services.estate_figures import channel_location_ids

    store = {gid: code for code, gid in channel_location_ids(hub.engine, "shopify").items()}[store_gid]
    sku = sorted({s for s, _ in setup["summary"].levels})[0]

    def shop_level() -> int:
        return httpx.get(shop.url + "/_sandbox/inventory", params={"sku": sku, "location_id": store_gid},
                         timeout=10).json()["available"]

    def outage(seconds: float) -> None:
        r = httpx.put(shop.url + "/_sandbox/outage", json={"seconds": seconds, "timeout_share": 0, "hold_s": 0})
        assert r.status_code == 200, r.text

    from playwright.sync_api import expect  # (here: without Playwright the module still loads, and skips)

    person(hub, "olga@shop.example", "operator")
    operator_token = issue_token(hub, "operator", name="ops-script")
    worker.start()
    try:
        with LiveServer(create_app(hub=hub)) as live:
            assert wait_until(hub.sync.idle, 30)
            before = shop_level()
            outage(600)  # Shopify's Admin API answers 503 to everything
            hub.inventory.receive(sku, store, 7)
            assert wait_until(lambda: hub.sync.dead_letters("shopify"), 60), hub.sync.pending()
            [dead] = hub.sync.dead_letters("shopify")
            assert dead["sku"] == sku and "503" in dead["last_error"]
            olga = Person(chromium, live.url, artefacts)
            olga.sign_in("olga@shop.example")
            olga.page.get_by_role("link", name="Channels").click()
            row = olga.page.locator("#channel-shopify")
            expect(row).to_have_attribute("data-state", re.compile("failing|down"), timeout=15_000)
            expect(row.locator(".last-error")).to_contain_text("503")
            assert olga.page.locator(f"#dead-letter-{dead['id']}").is_visible()
            olga.shot("channels-outage")
            outage(0)  # Shopify answers again; nothing pushes the parked figure by itself
            olga.page.get_by_role("link", name="Shopify").first.click()
            olga.page.wait_for_url(re.compile(r"/console/channels/shopify$"))
            assert shop_level() == before
            olga.page.get_by_role("button", name=f"Retry dead letter {dead['id']} ({sku})").click()
            assert "the dead letter is back in the queue" in olga.page.get_by_role("status").inner_text()
            assert olga.page.locator(f"#dead-letter-{dead['id']}").count() == 0
            assert hub.sync.dead_letters() == []
            assert wait_until(lambda: shop_level() == before + 7, 30), (before, shop_level(), hub.sync.pending())
            expect(olga.page.locator("#channel-shopify")).to_have_attribute("data-state", "answering", timeout=20_000)
            olga.shot("channel")
            started = httpx.post(live.url + "/api/v1/reconciliation/runs", json={"channel": "shopify"},
                                 headers=bearer(operator_token), timeout=10)
            assert started.status_code == 202, started.text
            run_id = started.json()["id"]
            assert wait_until(lambda: _run_state(hub, run_id) in {"done", "failed"}, 60)
            olga.page.goto(f"/console/channels/shopify/runs/{run_id}")
            assert olga.page.locator("#run-state").inner_text() == "done"
            assert olga.page.locator("#summary").is_visible() and olga.page.locator("#left").is_visible()
            olga.shot("reconciliation-run")
            [retried] = [e for e in hub.audit.page(limit=50)[0] if e["action"] == "sync.retry"]
            assert retried["actor"]["name"] == "olga@shop.example" and retried["details"]["door"] == "console"
            olga.close()
    finally:
        worker.stop()


def _run_state(hub, run_id: int) -> str | None:
    r = t.reconciliation_runs
    with hub.engine.connect() as conn:
        return conn.execute(sa.select(r.c.state).where(r.c.id == run_id)).scalar()


@pytest.fixture
def parked(hub):
    """A small estate with a dead letter and an inbox row parked (as the overview's tests
    make them: the retry's access is the point here, not how it got there)."""
    add_location(hub, "BKN", name="Brooklyn", kind="store", lat=40.72, lng=-73.95)
    add_skus(hub, "MUG")
    hub.catalog.upsert_channel("shopify", name="Shopify", kind="shopify", per_location=True, feeds={"BKN": "ship"})
    hub.sync.request("shopify", "MUG", "BKN", 4)
    hub.sync.flush()
    with hub.engine.begin() as conn:
        conn.execute(t.sync_intents.update().values(state="dead", attempts=8, last_error="HTTP 503"))
    hub.inbox.accept("shopify", "d-1", "orders/create", {}, b"{not json")
    hub.inbox.drain()
    person(hub, "rita@shop.example", "read_only")
    person(hub, "ada@shop.example", "admin")
    with LiveServer(create_app(hub=hub)) as live:
        yield hub, live.url


def test_a_read_only_user_sees_no_retry_button_and_a_forged_post_is_refused(chromium, parked, artefacts):
    hub, base = parked
    [dead], [row] = hub.sync.dead_letters(), hub.inbox.failures()
    rita = Person(chromium, base, artefacts)
    rita.sign_in("rita@shop.example")
    rita.page.get_by_role("link", name="Channels").click()
    assert rita.page.locator("#read-only-note").is_visible()
    assert rita.page.locator(f"#dead-letter-{dead['id']}").is_visible() and rita.page.locator(f"#inbox-{row['id']}").is_visible()
    assert rita.page.locator("main button").count() == 0
    rita.shot("channels-read-only")
    for path in (f"/console/sync/dead-letters/{dead['id']}/retry", f"/console/sync/inbox/{row['id']}/retry",
                 "/console/sync/dead-letters/retry"):
        post = rita.page.request.post(path, form={"csrf_token": rita.csrf(), "back": "/console/channels"})
        assert post.status == 403, path
    assert len(hub.sync.dead_letters()) == 1 and len(hub.inbox.failures()) == 1
    assert rita.page.get_by_role("link", name="Audit").count() == 0 and rita.page.get_by_role("link", name="Users").count() == 0
    rita.close()


def test_an_admin_revokes_a_token_and_the_token_stops_working(chromium, parked, artefacts):
    hub, base = parked
    erp = issue_token(hub, "operator", name="erp-sync")
    assert httpx.get(base + "/api/v1/whoami", headers=bearer(erp)).status_code == 200
    [row] = [tk for tk in hub.tokens.list() if tk["name"] == "erp-sync"]
    ada = Person(chromium, base, artefacts)
    ada.sign_in("ada@shop.example")
    ada.page.get_by_role("link", name="Users").click()
    ada.shot("users")
    ada.page.get_by_role("button", name=f"Revoke token {row['id']} (erp-sync)").click()
    assert "the token is refused from now on" in ada.page.get_by_role("status").inner_text()
    assert ada.page.locator(f"#token-{row['id']} .state").inner_text() == "revoked"
    refused = httpx.get(base + "/api/v1/whoami", headers=bearer(erp))
    assert refused.status_code == 401 and refused.headers["content-type"] == "application/problem+json"
    ada.page.get_by_label("E-mail").fill("not an address")
    ada.page.get_by_label("First password").fill("short")
    ada.page.get_by_role("button", name="Add the person").click()
    assert "E-mail: an address" in ada.page.locator("#new-email-error").inner_text()
    assert ada.page.get_by_label("E-mail").get_attribute("aria-invalid") == "true"
    ada.problems.clear()  # the 422 of the refused form
    ada.shot("users-invalid")
    ada.page.get_by_role("link", name="Audit").click()
    ada.page.get_by_label("Action").fill("tokens")
    ada.page.get_by_role("button", name="Filter").click()
    first = ada.page.locator("#audit tbody tr").first
    assert "tokens.revoke" in first.inner_text() and first.locator(".door").inner_text() == "console"
    ada.shot("audit")
    ada.page.goto("/console/channels")
    ada.shot("channels")
    ada.close()
