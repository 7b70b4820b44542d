"""Inventory use cases as a store associate or an ERP would use them."""

from __future__ import annotations

import pytest

from omnihub.domain.ledger import InsufficientStock, LedgerError, StockState as S
from omnihub.domain.stock_commands import UnknownReference
from omnihub.services.erp_snapshot import import_snapshot
from tests.conftest import count_rows


def pos(hub, sku, loc):
    return hub.queries.positions(sku)[loc]


def test_receive_from_purchase_order_and_return_to_quality_control(stocked):
    inv = stocked.inventory
    inv.receive("A", "WH", 10)
    inv.receive("A", "WH", 2, source="return", to_state=S.QUALITY_CONTROL)
    p = pos(stocked, "A", "WH")
    assert (p.on_hand, p.quality_control, p.free) == (12, 2, 10)
    inv.release_quality_control("A", "WH", passed=1, failed=1)
    p = pos(stocked, "A", "WH")
    assert (p.on_hand, p.quality_control, p.damaged, p.free) == (12, 0, 1, 11)


def test_transfer_goes_in_transit_then_arrives_with_damage(stocked):
    inv = stocked.inventory
    inv.receive("A", "WH", 10)
    inv.ship_transfer("A", "WH", "ST", 4)
    assert pos(stocked, "A", "WH").on_hand == 6
    assert pos(stocked, "A", "ST").in_transit == 4
    inv.receive_transfer("A", "ST", 4, damaged=1)
    p = pos(stocked, "A", "ST")
    assert (p.on_hand, p.damaged, p.in_transit, p.free) == (4, 1, 0, 3)


def test_cannot_transfer_more_than_free(stocked):
    stocked.inventory.receive("A", "WH", 3)
    with pytest.raises(InsufficientStock):
        stocked.inventory.ship_transfer("A", "WH", "ST", 4)
    assert pos(stocked, "A", "ST").in_transit == 0  # nothing half-written


def test_cycle_count_records_found_and_lost_variances(stocked):
    inv = stocked.inventory
    inv.receive("A", "ST", 10)
    inv.reserve("A", "ST", 2)
    r = inv.count("A", "ST", 13)
    assert [(m["reason"], m["quantity"]) for m in r.movements] == [("found", 3)]
    r = inv.count("A", "ST", 9, damaged=1)
    assert [(m["reason"], m["to_state"], m["quantity"]) for m in r.movements] == [("cycle_count", "lost", 4), ("damage", "damaged", 1)]
    p = pos(stocked, "A", "ST")
    assert (p.on_hand - p.damaged, p.reserved, p.damaged) == (9, 2, 1)
    assert inv.count("A", "ST", 9, damaged=1).movements == []  # no variance, no movement


def test_count_below_reserved_is_the_shelf_truth_and_an_oversell(stocked):
    inv = stocked.inventory
    inv.receive("A", "ST", 5)
    inv.reserve("A", "ST", 5)
    r = inv.count("A", "ST", 3)
    assert r.oversold == 2
    assert stocked.queries.oversells()[0]["units"] == 2


def test_reserve_release_consume(stocked):
    inv = stocked.inventory
    inv.receive("B", "WH", 5)
    inv.reserve("B", "WH", 4)
    with pytest.raises(InsufficientStock):
        inv.reserve("B", "WH", 2)
    inv.release("B", "WH", 1)
    inv.consume("B", "WH", 3)
    p = pos(stocked, "B", "WH")
    assert (p.on_hand, p.reserved, p.free) == (2, 0, 2)


def test_pos_sale_of_a_unit_the_hub_thought_gone_is_recorded_with_an_incident(stocked):
    inv = stocked.inventory
    inv.receive("A", "ST", 1)
    inv.reserve("A", "ST", 1)
    r = inv.record_sale("A", "ST", 2, )
    assert r.oversold == 2
    assert count_rows(stocked, "oversell_incidents") == 1
    with stocked.engine.connect() as c:
        topics = [r[0] for r in c.exec_driver_sql("SELECT topic FROM outbox ORDER BY id")]
    assert "stock.oversell_detected" in topics


def test_unknown_sku_and_location_are_refused_and_nothing_is_written(stocked):
    before = count_rows(stocked, "movements")
    with pytest.raises(UnknownReference, match="unknown SKU"):
        stocked.inventory.receive("NOPE", "WH", 1)
    with pytest.raises(UnknownReference, match="unknown location"):
        stocked.inventory.receive("A", "MOON", 1)
    with pytest.raises(LedgerError, match="positive"):
        stocked.inventory.receive("A", "WH", -3)
    assert count_rows(stocked, "movements") == before
    assert count_rows(stocked, "positions") == 0


def test_every_use_case_updates_channel_availability_with_events(stocked):
    stocked.inventory.receive("A", "WH", 10)
    stocked.inventory.receive("A", "ST", 4)
    assert stocked.queries.channel_availability("amazon", ["A"])[0]["quantity"] == 10
    shop = stocked.queries.channel_availability("shopify", ["A"])[0]
    assert (shop["quantity"], shop["locations"]) == (14, {"WH": 10, "ST": 4})
    stocked.inventory.reserve("A", "WH", 3)
    assert stocked.queries.channel_availability("amazon", ["A"])[0]["quantity"] == 7
    with stocked.engine.connect() as c:
        rows = c.exec_driver_sql(
            "SELECT payload FROM outbox WHERE topic = 'channel.availability_changed' ORDER BY id").scalars().all()
    import json

    payloads = [json.loads(r) if isinstance(r, str) else r for r in rows]
    # A row holds one event or a run of events of one topic.
    changes = [e for p in payloads for e in (p if isinstance(p, list) else [p])]
    amazon = [(c["old"], c["new"]) for c in changes if c["channel"] == "amazon" and c["location"] == ""]
    assert amazon == [(0, 10), (10, 7)]


def test_rule_changes_recompute_what_each_channel_may_sell(stocked):
    stocked.inventory.receive("A", "WH", 20)
    stocked.catalog.set_policy(channel="amazon", sku="A", safety_stock=5)
    assert stocked.queries.channel_availability("amazon", ["A"])[0]["quantity"] == 15
    stocked.catalog.upsert_channel("amazon", name="Amazon", kind="amazon", feeds={"WH": "ship"}, share_pct=50, buffer=1)
    assert stocked.queries.channel_availability("amazon", ["A"])[0]["quantity"] == 15 // 2 - 1
    stocked.catalog.update_location("WH", {"online_selling": False})
    assert stocked.queries.channel_availability("amazon", ["A"])[0]["quantity"] == 0
    exp = stocked.queries.explain("A", "amazon")
    assert [t["note"] for t in exp["locations"]] == ["excluded from online selling"]


def test_erp_snapshot_applies_good_rows_and_reports_bad_ones_with_line_and_column(stocked):
    stocked.inventory.receive("A", "WH", 10)
    csv = "sku,location,on_hand\nA,WH,7\nB,WH,abc\nNOPE,WH,3\nB,ST,4\nA,WH\n,ST,2\n"
    report = import_snapshot(stocked.writer, csv)
    assert (report.rows, report.applied, len(report.errors)) == (6, 2, 4)
    errs = {(e.line, e.column, e.field) for e in report.errors}
    assert errs == {(3, 3, "on_hand"), (4, 1, "sku"), (6, 3, "row"), (7, 1, "sku")}
    assert pos(stocked, "A", "WH").on_hand == 7
    assert pos(stocked, "B", "ST").on_hand == 4
    hist = stocked.queries.history("A")
    assert hist[-1]["reason"] == "erp_snapshot" and hist[-1]["quantity"] == 3


def test_erp_snapshot_with_a_wrong_header_says_so():
    from omnihub.services.erp_snapshot import import_snapshot as imp

    class NoWriter:
        def submit(self, _):  # pragma: no cover - must not be called
            raise AssertionError
    r = imp(NoWriter(), "item,store,qty\n1,2,3\n")
    assert r.errors[0].line == 1 and "missing column" in r.errors[0].message


def test_a_location_that_stops_feeding_a_channel_shows_zero_there(stocked):
    stocked.inventory.receive("A", "ST", 4)
    assert stocked.queries.channel_availability("shopify", ["A"])[0]["locations"]["ST"] == 4
    stocked.catalog.upsert_channel("shopify", name="Shopify", kind="shopify", per_location=True, feeds={"WH": "ship"})
    shop = stocked.queries.channel_availability("shopify", ["A"])[0]
    assert shop["locations"]["ST"] == 0 and shop["quantity"] == 0
