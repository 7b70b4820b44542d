"""The audit trail on the real database: queued records committed together, secrets never
stored, the filters and the cursor; the settings services' before and after; the sign-in
throttle's back-off (hypothesis)."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from omnihub.services.audit_trail import (Actor, AuditEvent, AuditFilter, AuditTrail, change_in_progress, note_change,
                                          recording, without_secrets)
from omnihub.services.login_throttle import ThrottlePolicy
from tests.conftest import add_location, count_rows

ADMIN, CLERK = Actor("user", "1", "ana@shop.example"), Actor("token", "7", "store-a")


def test_records_from_many_threads_are_committed_together_and_read_back_newest_first(hub):
    trail = AuditTrail(hub.engine)
    try:
        def work(n):
            for i in range(50):
                trail.record(AuditEvent(CLERK if n % 2 else ADMIN, f"10.0.0.{n}", "stock.receive", f"sku=S{i}"))

        threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        items, cursor = trail.page(limit=500)  # a read flushes what is queued first
        assert len(items) == 200 and cursor is None
        assert [e["id"] for e in items] == sorted((e["id"] for e in items), reverse=True)
    finally:
        trail.close()


def test_close_writes_what_was_queued(hub):
    trail = AuditTrail(hub.engine, flush_every_s=60)  # the thread would wait a minute
    trail.record(AuditEvent(ADMIN, "cli", "hub.migrate"))
    trail.close()
    assert count_rows(hub, "audit_events") == 1


def test_secrets_are_written_as_changed_wherever_they_sit(hub):
    trail = AuditTrail(hub.engine)
    try:
        trail.record(AuditEvent(ADMIN, "127.0.0.1", "channels.connect", "channel=shopify",
                                before={"access_token": "shpat_old", "shop_url": "https://a"},
                                after={"access_token": "shpat_new", "nested": [{"client_secret": "x" * 40}],
                                       "token_id": 4, "password": None},
                                details={"arguments": {"refresh_token": "Atzr|abc", "session_id": "s" * 40}}))
        [event], _ = trail.page()
    finally:
        trail.close()
    assert event["before"] == {"access_token": "changed", "shop_url": "https://a"}
    assert event["after"] == {"access_token": "changed", "nested": [{"client_secret": "changed"}], "token_id": 4,
                              "password": None}
    assert event["details"] == {"arguments": {"refresh_token": "changed", "session_id": "changed"}}


def test_filters_and_cursor(hub):
    trail = AuditTrail(hub.engine)
    t0 = datetime.now(UTC)
    try:
        for i, (actor, action, target) in enumerate([
                (ADMIN, "orders.put_rules", "routing-rules"), (CLERK, "stock.receive", "sku=A location=ST"),
                (CLERK, "stock.counts", "sku=A_B location=ST"), (ADMIN, "access.revoke_token", "token_id=7"),
                (Actor("local_admin", "root", "root"), "cli.rules.set", "routing-rules")]):
            trail.record(AuditEvent(actor, "cli", action, target, at=t0 + timedelta(minutes=i)))

        def actions(**kw):
            return [e["action"] for e in trail.page(AuditFilter(**kw), limit=50)[0]]

        assert actions(actor="token") == ["stock.counts", "stock.receive"]
        assert actions(actor="user:1") == actions(actor="ana@shop.example") == actions(actor=ADMIN.text) == [
            "access.revoke_token", "orders.put_rules"]
        assert actions(actor="user:10") == []  # a kind:id is whole, not a prefix of user:1x
        assert actions(action="stock") == ["stock.counts", "stock.receive"]
        assert actions(action="stock.receive") == ["stock.receive"]
        assert actions(action="stoc") == []
        assert actions(target="sku=A_") == ["stock.counts"]  # _ and % are characters, not wildcards
        assert actions(target="routing") == ["cli.rules.set", "orders.put_rules"]
        assert actions(since=t0 + timedelta(minutes=1), until=t0 + timedelta(minutes=3)) == [
            "stock.counts", "stock.receive"]
        zone = t0.astimezone(__import__("datetime").timezone(timedelta(hours=2)))  # the same instant elsewhere
        assert actions(since=zone + timedelta(minutes=4)) == ["cli.rules.set"]
        seen, cursor = [], None
        while True:
            items, cursor = trail.page(limit=2, after_id=cursor)
            seen += [e["action"] for e in items]
            if cursor is None:
                break
        assert seen == actions()
    finally:
        trail.close()


def test_notes_go_to_the_change_in_progress_and_nowhere_without_one():
    note_change(target="x", before={"a": 1})  # nothing recording: nothing happens
    assert not recording()
    with change_in_progress() as change:
        assert recording()
        note_change(target="channel=amazon", before={"share_pct": 100}, after={"share_pct": 0, "client_secret": "s"})
    assert change.target == "channel=amazon" and change.after == {"share_pct": 0, "client_secret": "changed"}


def test_the_settings_services_say_their_before_and_after(hub):
    add_location(hub, "WH", kind="warehouse", capabilities=["ship"])
    hub.catalog.upsert_channel("amazon", name="Amazon", kind="amazon", feeds={"WH": "ship"})
    with change_in_progress() as channel:
        hub.catalog.upsert_channel("amazon", name="Amazon", kind="amazon", share_pct=0, feeds={"WH": "ship"})
    assert channel.target == "channel=amazon"
    assert (channel.before["share_pct"], channel.after["share_pct"]) == (100, 0)
    with change_in_progress() as policy:
        hub.catalog.set_policy(location="WH", safety_stock=3)
    assert policy.target == "location=WH" and policy.after == {"safety_stock": 3, "threshold": None}
    with change_in_progress() as location:
        hub.catalog.update_location("WH", {"name": "Main warehouse"})
    assert location.before == {"name": "WH"} and location.after == {"name": "Main warehouse"}


def test_without_secrets_keeps_plain_values():
    assert without_secrets({"sku": "A", "qty": 3, "when": datetime(2026, 1, 1)}) == {
        "sku": "A", "qty": 3, "when": "2026-01-01 00:00:00"}


@given(st.integers(1, 20), st.integers(0, 60))
def test_the_sign_in_back_off_is_free_then_doubles_up_to_its_cap(free, failures):
    policy = ThrottlePolicy(free_failures=free)
    delay = policy.delay_after(failures)
    if failures <= free:
        assert delay == timedelta(0)
    else:
        assert timedelta(seconds=1) <= delay <= policy.max_delay
        assert policy.delay_after(failures + 1) >= delay
        assert delay == min(policy.max_delay, 2 * policy.delay_after(failures - 1)) or failures == free + 1
