"""What a web page the operator happens to open can make a hub on loopback do: nothing.
A body is read only as its declared media type (415 otherwise), a write a browser sends
from another site is refused (403), and a Host the hub does not answer to (DNS
rebinding) is 400; all problem+json. Clients that are not browsers are unaffected."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.conftest import admin_app
from omnihub.entrypoints.api.request_guards import host_allowed
from omnihub.settings import LOOPBACK_HOSTS, Settings
from tests.conftest import add_location, add_skus, count_rows

PROBLEM = "application/problem+json"


@pytest.fixture
def api(hub):
    add_location(hub, "WH", kind="warehouse", capabilities=["ship"])
    add_skus(hub, "TEE-M")
    with TestClient(admin_app(hub)) as client:
        yield client


def problem(r, status: int) -> dict:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith(PROBLEM), r.headers
    return r.json()


def on_hand(api) -> int | None:
    return api.get("/api/v1/positions/TEE-M").json()["locations"].get("WH", {}).get("on_hand")


def test_a_body_is_read_only_as_its_declared_media_type(api, hub):
    csv = "sku,location,on_hand\nTEE-M,WH,9\n"
    for headers in ({"Content-Type": "text/plain"}, {"Content-Type": "text/plain;charset=UTF-8"},
                    {"Content-Type": "application/x-www-form-urlencoded"}, {"Content-Type": "multipart/form-data; boundary=x"},
                    {}):
        body = problem(api.post("/api/v1/stock/snapshots", content=csv, headers=headers), 415)
        assert body["code"] == "unsupported_media_type"
    # JSON routes as well: text/plain, or no Content-Type (`fetch` of a Blob sends none).
    body = b'{"sku": "TEE-M", "location": "WH", "quantity": 5}'
    problem(api.post("/api/v1/stock/receive", content=body), 415)
    problem(api.post("/api/v1/stock/receive", content=body, headers={"Content-Type": "text/plain"}), 415)
    assert count_rows(hub, "movements") == 0
    ok = api.post("/api/v1/stock/snapshots", content=csv, headers={"Content-Type": "text/csv; charset=utf-8"})
    assert ok.status_code == 200 and ok.json()["applied"] == 1
    assert on_hand(api) == 9


def _dead_letter(hub) -> None:
    from omnihub.domain.channel_sync import PushOutcome, PushStatus

    class Refuses:
        per_location = False
        max_batch = 10

        def push(self, items, mapping):
            return [PushOutcome(i.intent_id, PushStatus.FAILED, error="unmapped") for i in items]

    hub.catalog.upsert_channel("amazon", name="Amazon", kind="amazon", feeds={"WH": "ship"})
    hub.sync.register("amazon", Refuses())
    hub.sync.request("amazon", "TEE-M", "", 4)
    hub.sync.flush()
    hub.sync.run_channel_once("amazon")


def test_body_less_writes_from_another_site_are_refused(api, hub):
    _dead_letter(hub)
    (letter,) = api.get("/api/v1/sync/dead-letters").json()["dead_letters"]
    retry = f"/api/v1/sync/dead-letters/{letter['id']}/retry"
    for headers in ({"Sec-Fetch-Site": "cross-site"}, {"Sec-Fetch-Site": "same-site"},
                    {"Origin": "https://evil.example"}, {"Origin": "null"}, {"Origin": "http://localhost:3000"},
                    {"Origin": "http://testserver.evil.example", "Sec-Fetch-Site": "cross-site"},
                    {"Origin": "http://testserver", "Sec-Fetch-Site": "cross-site"}):
        body = problem(api.post(retry, headers=headers), 403)
        assert body["code"] == "cross_site_request"
        # a form post or a text/plain body from another site as well
        problem(api.post(retry, content="x=1", headers={**headers, "Content-Type": "application/x-www-form-urlencoded"}), 403)
    assert [d["id"] for d in api.get("/api/v1/sync/dead-letters").json()["dead_letters"]] == [letter["id"]]
    # Reads stay open; the hub's own pages and clients that are not browsers may write.
    assert api.get("/api/v1/sync/dead-letters", headers={"Sec-Fetch-Site": "cross-site"}).status_code == 200
    assert api.post(retry, headers={"Origin": "http://testserver", "Sec-Fetch-Site": "same-origin"}).status_code == 200
    assert api.get("/api/v1/sync/dead-letters").json()["dead_letters"] == []
    assert api.post("/api/v1/brokering-queue/retry").status_code == 200  # curl, the CLI: neither header


def test_only_allowed_hosts_are_answered(api, hub):
    """DNS rebinding: the attacker's name resolves to 127.0.0.1; its Host header stays."""
    for host in ("evil.example", "evil.example:8000", "127.0.0.1.evil.example", "localhost.evil.example", ""):
        body = problem(api.get("/healthz", headers={"Host": host}), 400)
        assert body["code"] == "host_not_allowed"
        problem(api.get("/api/v1/positions/TEE-M", headers={"Host": host}), 400)
        problem(api.post("/api/v1/stock/receive", json={"sku": "TEE-M", "location": "WH", "quantity": 1},
                         headers={"Host": host}), 400)
    assert count_rows(hub, "movements") == 0
    for host in ("127.0.0.1:8000", "localhost", "LOCALHOST:1", "[::1]:8000", "testserver"):
        assert api.get("/healthz", headers={"Host": host}).status_code == 200, host
    # `serve --host hub.internal` answers to that name too.
    with TestClient(admin_app(hub, extra_hosts=["hub.internal"])) as served:
        assert served.get("/healthz", headers={"Host": "hub.internal:8443"}).status_code == 200
        problem(served.get("/healthz", headers={"Host": "hub.internal.evil.example"}), 400)


def test_allowed_hosts_is_a_setting(monkeypatch):
    assert Settings().allowed_hosts == list(LOOPBACK_HOSTS) == ["127.0.0.1", "localhost", "::1"]
    monkeypatch.setenv("OMNIHUB_ALLOWED_HOSTS", '["hub.example.com", "*.shops.example"]')
    hosts = Settings().allowed_hosts
    assert hosts == ["hub.example.com", "*.shops.example"]
    assert host_allowed("hub.example.com:443", hosts) and host_allowed("eu.shops.example", hosts)
    assert not host_allowed("shops.example.evil", hosts) and not host_allowed("127.0.0.1", hosts)
