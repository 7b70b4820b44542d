"""Amazon reconciliation beyond searchListingsItems' 1,000: the seller's stock is read
through the merchant listings report (createReport, getReport until DONE,
getReportDocument, the gzip document streamed into the run's spool), so a catalogue of
1,300 listings is compared whole, and every difference injected into it, wherever it
falls, is found once and classed right, with no other finding.

The hub and the Amazon sandbox meet only over HTTP (the sandbox served on loopback); the
test arranges each side through its own doors (the hub's services, the sandbox's control
plane), then runs one reconciliation as the worker would.
"""

from __future__ import annotations

import random
import re
from datetime import UTC, datetime

import httpx
import sqlalchemy as sa

from omnihub.adapters.db import tables as t
from omnihub.entrypoints.reconciliation_wiring import reconciliation
from omnihub.services.channel_sync import DEAD, ChannelSync
from omnihub.services.erp_snapshot import import_snapshot
from tests.conftest import add_location
from tests.shared_files import beyond_shared

LISTINGS = 1300
CHANNEL = "amazon_seller"


def _listings(url: str) -> dict[str, int]:
    return {r["sku"]: r["quantity"] for r in httpx.get(url + "/_sandbox/listings", timeout=60).json()["listings"]}


def _set_on_amazon(url: str, sku: str, quantity: int) -> None:
    assert httpx.put(f"{url}/_sandbox/listings/{sku}", json={"quantity": quantity}, timeout=30).status_code == 200


def _hub_mirrors_amazon(hub, shown: dict[str, int]) -> None:
    """The hub sells every listing from its warehouse, with the stock Amazon shows, and
    Amazon has confirmed that figure: nothing differs, nothing is queued."""
    add_location(hub, "WH", kind="warehouse", capabilities=["ship"])
    skus = sorted(shown)
    for start in range(0, len(skus), 100):
        hub.catalog.create_product(f"Amazon range {start // 100}", [{"sku": s} for s in skus[start:start + 100]])
    hub.catalog.upsert_channel(CHANNEL, name="Amazon", kind="amazon", feeds={"WH": "ship"})
    with hub.engine.begin() as conn:  # the listings as set-up maps them (services/amazon_setup.py), at once
        conn.execute(t.channel_listings.insert(), [{"channel": CHANNEL, "sku": s, "external_id": s} for s in skus])
    report = import_snapshot(hub.writer, "sku,location,on_hand\n" + "".join(f"{s},WH,{q}\n" for s, q in shown.items()))
    assert not report.errors, report.errors[:3]
    with hub.engine.begin() as conn:
        ChannelSync._upsert_levels(conn, [{"channel": CHANNEL, "sku": s, "location": "", "confirmed": q,
                                           "confirmed_at": datetime.now(UTC)} for s, q in shown.items()])
    hub.relay.drain()
    hub.sync.flush()


def _meant(hub) -> dict[str, int]:
    av = t.channel_availability
    with hub.engine.connect() as conn:
        return dict(conn.execute(sa.select(av.c.sku, av.c.quantity).where(av.c.channel == CHANNEL, av.c.location == "")).all())


def _pending(hub) -> int:
    i = t.sync_intents
    with hub.engine.connect() as conn:
        return conn.execute(sa.select(sa.func.count()).where(i.c.channel == CHANNEL)).scalar_one()


def test_every_difference_in_a_catalogue_past_1000_listings_is_found_once(hub, amazon_sandbox, amazon_connector):
    server, _, cfg = amazon_sandbox(catalog_size=LISTINGS, initial_quantity_max=30, rate_multiplier=10)
    shown = _listings(server.url)
    assert len(shown) == LISTINGS
    connector = amazon_connector(server.url, cfg)
    hub.sync.register(CHANNEL, connector.pusher)  # what the hub would push, queued (no sender runs here)
    _hub_mirrors_amazon(hub, shown)
    meant = _meant(hub)
    assert {s: meant.get(s, 0) for s in shown} == shown and _pending(hub) == 0  # the two sides agree to start with

    rng = random.Random(1300)
    skus = sorted(shown)
    # Half of each kind among the listings past the 1,000th (in any order Amazon pages
    # them), half anywhere: a read stopped at 1,000 would miss some whichever it kept.
    tail, pool = skus[1000:], list(skus)
    rng.shuffle(tail)
    rng.shuffle(pool)
    picked: list[str] = []

    def take(n: int, fits=lambda sku: True) -> list[str]:
        out = [s for s in tail if s not in picked and fits(s)][: n // 2]
        out += [s for s in pool if s not in picked and s not in out and fits(s)][: n - len(out)]
        picked.extend(out)
        return out

    higher, lower = take(10), take(10, lambda sku: shown[sku] > 0)
    pending, parked = take(6), take(4)
    for sku in higher:  # edited in Seller Central, its notification lost
        _set_on_amazon(server.url, sku, shown[sku] + rng.randint(1, 5))
    for sku in lower:
        _set_on_amazon(server.url, sku, shown[sku] - rng.randint(1, shown[sku]))
    for sku in pending + parked:  # goods received in the hub, the push not sent yet
        hub.inventory.receive(sku, "WH", 2)
    hub.relay.drain()
    hub.sync.flush()
    with hub.engine.begin() as conn:  # and two pushes that kept failing, parked
        conn.execute(sa.update(t.sync_intents).where(t.sync_intents.c.sku.in_(parked)).values(
            state=DEAD, attempts=8, last_error="refused 8 times"))
    strays = [f"STRAY-{n}" for n in range(3)]
    for sku in strays:  # listed on Amazon by hand, never mapped in the hub
        _set_on_amazon(server.url, sku, 4)
    missing = [f"HUB-ONLY-{n}" for n in range(3)]
    hub.catalog.create_product("Not on Amazon", [{"sku": s} for s in missing])
    for sku in missing:  # mapped to a listing Amazon does not have
        hub.catalog.set_listing(CHANNEL, sku, f"NOT-ON-AMAZON-{sku}")
        hub.inventory.receive(sku, "WH", 5)
    hub.relay.drain()
    hub.sync.flush()
    with hub.engine.begin() as conn:
        conn.execute(sa.delete(t.sync_intents).where(t.sync_intents.c.sku.in_(missing)))

    run = reconciliation(hub, amazon=connector).run(CHANNEL)
    assert run["state"] == "done", run.get("error")
    assert run["levels_compared"] == LISTINGS
    found = sorted((f["kind"], f["sku"]) for f in run["findings"])
    injected = sorted([("drift_repaired", s) for s in higher + lower] + [("push_pending", s) for s in pending]
                      + [("dead_letter", s) for s in parked] + [("unknown_sku", s) for s in strays]
                      + [("unsold_on_channel", s) for s in missing])
    assert found == injected, {"missed": sorted(set(injected) - set(found)), "false": sorted(set(found) - set(injected))}
    assert len(run["findings"]) == len(injected)  # each once
    ops = [op for op, *_ in connector.client.sent]
    assert ops.count("createReport") == 1 and "searchListingsItems" not in ops
    assert ops.count("getReportDocument") == 1


def test_the_report_requests_are_amazons(hub, amazon_sandbox, amazon_connector):
    """createReport, getReport and getReportDocument as the official Reports model has them."""
    from spapi_contract import body_errors, find_operation

    from omnihub.adapters.channels.amazon.reconciliation_reads import AmazonReader

    server, _, cfg = amazon_sandbox(catalog_size=30)
    connector = amazon_connector(server.url, cfg)
    levels = list(AmazonReader(connector.client).levels([]))
    assert {lv.item_id: lv.available for lv in levels} == _listings(server.url)
    beyond_shared("contracts", "amazon", "models", "reports_2021-06-30.json")  # not in shared/ today
    model = "reports_2021-06-30.json"
    for name, method, sent_path, params, body in connector.client.sent:
        path, verb, op = find_operation(model, name)
        assert method == verb.upper(), name
        pattern = "^" + path.replace("{reportId}", "[0-9]+").replace("{reportDocumentId}", "[^/]+") + "$"
        assert re.match(pattern, sent_path), (name, sent_path, path)
        if body is not None:
            assert not body_errors(model, name, body), (name, body)
        documented = {p["name"] for p in op.get("parameters", []) if p.get("in") == "query"}
        assert set(params or {}) <= documented, (name, params)


def test_the_document_is_read_line_by_line_whatever_its_chunks():
    import gzip

    import pytest

    from omnihub.adapters.channels.amazon.listings_report import document_lines, listings_rows
    from omnihub.adapters.channels.amazon.order_mapping import AmazonPayloadError

    text = ("item-name\tseller-sku\tquantity\tasin1\tfulfillment-channel\tstatus\r\n"
            "Café crème\tSKU-1\t4\tB0AAA\tDEFAULT\tActive\r\n"
            "Boxed\tSKU-2\t\tB0BBB\tAMAZON_NA\tActive\r\n"
            "Gone\tSKU-3\t0\tB0CCC\tDEFAULT\tInactive")  # no line end at the end
    packed = gzip.compress(text.encode("utf-8"))
    chunks = [packed[i:i + 7] for i in range(0, len(packed), 7)]  # splits "é" and the gzip frames anywhere
    rows = list(listings_rows(document_lines(chunks, gzipped=True)))
    assert [(r.sku, r.quantity, r.asin, r.status) for r in rows] == [
        ("SKU-1", 4, "B0AAA", "Active"), ("SKU-2", 0, "B0BBB", "Active"), ("SKU-3", 0, "B0CCC", "Inactive")]
    assert list(document_lines([text.encode()], gzipped=False))[1] == "Café crème\tSKU-1\t4\tB0AAA\tDEFAULT\tActive"
    with pytest.raises(AmazonPayloadError, match="line 3, column quantity: 'lots'"):
        list(listings_rows(iter(["seller-sku\tquantity", "A\t1", "B\tlots"])))
    with pytest.raises(AmazonPayloadError, match="ends before"):
        list(document_lines([packed[:-9]], gzipped=True))
