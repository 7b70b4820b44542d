"""The API process never relays the outbox. Its sync intake has no pushers (those live in
the worker), so a relay there would mark each channel availability change published
unread, and the channels would learn of the API's stock movements only when a sweep
found them (found at 20,000 SKUs x 50 locations: Shopify still 660 levels behind after
600 s). The worker relays the same rows to the intake that pushes them."""

from __future__ import annotations

import sqlalchemy as sa
from fastapi.testclient import TestClient

from omnihub.adapters.db import tables as t
from omnihub.entrypoints.api.app import create_app
from omnihub.settings import LOOPBACK_HOSTS, Settings
from tests.conftest import SignedIn, add_location, add_skus, issue_token


def _unpublished(hub) -> list[str]:
    o = t.outbox
    with hub.engine.connect() as conn:
        return list(conn.execute(sa.select(o.c.topic).where(o.c.published_at.is_(None))).scalars())


def _fastapi(app):
    """The FastAPI app inside create_app's guards (each ASGI layer keeps it as `.app`)."""
    while not hasattr(app, "state"):
        app = app.app
    return app


def test_the_apis_stock_change_waits_in_the_outbox_for_the_worker(hub, clean_url):
    add_location(hub, "WH", kind="warehouse", capabilities=["ship"])
    add_skus(hub, "TEE-M")
    hub.catalog.upsert_channel("amazon", name="Amazon", kind="amazon", feeds={"WH": "ship"})
    before = len(_unpublished(hub))
    settings = Settings(database_url=clean_url, allowed_hosts=[*LOOPBACK_HOSTS, "testserver"])
    app = create_app(settings, run_migrations=False)  # opens its own hub, as `omnihub serve` does
    with TestClient(SignedIn(app, issue_token(hub, "admin"))) as api:
        r = api.post("/api/v1/movements", json={"sku": "TEE-M", "location": "WH", "quantity": 5, "from_state": "received",
                                                "to_state": "on_hand", "reason": "receipt"})
        assert r.status_code == 201, r.text
        assert _fastapi(app).state.hub.relay._thread is None  # nothing in the API takes rows out of the outbox
        waiting = _unpublished(hub)
    assert len(waiting) > before and "channel.availability_changed" in waiting, waiting
    # The worker's relay hands them to its intake (here the test's hub, relay stopped).
    assert hub.relay.drain() >= 1
    assert _unpublished(hub) == []
