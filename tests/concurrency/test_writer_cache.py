"""The SQLite stock writer's cache: trusted only for what nobody else wrote since.

Two real hubs (two writers, each with its own cache and claims) share one database file;
each must see what the other wrote, and the channel figures both leave behind must be the
ones a rebuild from scratch computes. Between claiming writers a change shows as the
bucket counter of the SKU (see claims.py); anyone else's write as the epoch stamp."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from omnihub.adapters.db import tables as t
from omnihub.adapters.db.projection_rebuild import rebuild_all
from omnihub.domain.ledger import LedgerError, Movement, Reason, StockState as S
from omnihub.domain.stock_commands import StockCommand, fixed_plan
from omnihub.hub import Hub
from omnihub.settings import Settings
from tests.conftest import BACKEND, add_location, add_skus

pytestmark = pytest.mark.skipif(BACKEND != "sqlite", reason="the writer cache is SQLite's (PostgreSQL reads what it locks)")


def _move(sku: str, loc: str, n: int, frm: S, to: S, reason: Reason) -> StockCommand:
    return StockCommand(reason.value, ((sku, loc),), fixed_plan([Movement(sku, loc, n, frm, to, reason)]))


def receive(sku: str, loc: str, n: int) -> StockCommand:
    return _move(sku, loc, n, S.RECEIVED, S.ON_HAND, Reason.RECEIPT)


def reserve(sku: str, loc: str, n: int) -> StockCommand:
    return _move(sku, loc, n, S.ON_HAND, S.RESERVED, Reason.RESERVATION)


def _figures(hub: Hub) -> dict:
    ca = t.channel_availability
    with hub.engine.connect() as conn:
        return {(r.channel, r.sku, r.location): r.quantity for r in conn.execute(sa.select(ca))}


@pytest.fixture
def two_hubs(tmp_path):
    url = f"sqlite:///{tmp_path / 'hub.db'}"
    first = Hub.open(Settings(database_url=url), relay=False)
    add_location(first, "WH", kind="warehouse", capabilities=["ship"])
    add_location(first, "ST", kind="store")
    add_skus(first, "A", "B")
    first.catalog.upsert_channel("shopify", name="Shopify", kind="shopify", per_location=True)
    first.catalog.upsert_channel("amazon", name="Amazon", kind="amazon", feeds={"WH": "ship"})
    second = Hub.open(Settings(database_url=url), run_migrations=False, relay=False)
    yield first, second
    second.close()
    first.close()


def test_each_writer_sees_what_the_other_wrote(two_hubs):
    a, b = two_hubs
    a.writer.execute(receive("A", "WH", 10))
    a.writer.execute(receive("A", "ST", 4))
    hits = a.writer.store.cache.hits
    a.writer.execute(reserve("A", "WH", 1))  # nobody else wrote: the cache is trusted
    assert a.writer.store.cache.hits == hits + 1

    b.writer.execute(reserve("A", "WH", 3))  # the other writer takes 3 of the 9 left
    evicted = a.writer.store.cache.evicted
    assert a.writer.execute(reserve("A", "WH", 6)).positions["A@WH"]["reserved"] == 10
    assert a.writer.store.cache.evicted == evicted + 1  # A's bucket moved: A read again
    with pytest.raises(LedgerError):
        a.writer.execute(reserve("A", "WH", 1))  # nothing left: A's cached 9 free would have said yes
    with pytest.raises(LedgerError):
        b.writer.execute(reserve("A", "WH", 1))

    # The other writer changes a position this one does not touch next, so no version
    # check could notice: only the bucket counter tells that the pools and totals moved.
    b.writer.execute(reserve("A", "ST", 3))
    a.writer.execute(receive("A", "WH", 2))
    shown = _figures(a)
    assert shown[("amazon", "A", "")] == 2 and shown[("shopify", "A", "ST")] == 1
    assert shown[("shopify", "A", "")] == 3
    rebuild_all(a.engine)  # from scratch: the same figures
    assert _figures(a) == shown


def test_a_rebuild_empties_the_cache(two_hubs):
    a, _ = two_hubs
    a.writer.execute(receive("B", "WH", 5))
    misses = a.writer.store.cache.misses
    rebuild_all(a.engine)
    a.writer.execute(reserve("B", "WH", 2))
    assert a.writer.store.cache.misses == misses + 1


def test_a_wrong_cached_position_fails_its_batch_and_is_forgotten(two_hubs):
    """The version check under every position update is the cache's safety net: a batch
    built on a stale position fails, the cache empties and the retry reads the truth."""
    a, _ = two_hubs
    a.writer.execute(receive("A", "WH", 5))
    cache = a.writer.store.cache
    stale = cache.position(("A", "WH"))
    cache.keep_positions({("A", "WH"): stale._replace(on_hand=50, version=stale.version - 1)}, set())
    assert a.writer.execute(reserve("A", "WH", 5)).positions["A@WH"] == {
        "on_hand": 5, "reserved": 5, "damaged": 0, "quality_control": 0, "incoming": 0, "in_transit": 0, "version": 2}
    with pytest.raises(LedgerError):
        a.writer.execute(reserve("A", "WH", 1))


def test_a_full_cache_drops_the_skus_kept_longest_ago(two_hubs):
    a, _ = two_hubs
    cache = a.writer.store.cache
    cache.max_entries = 2
    a.writer.execute(receive("A", "WH", 5))
    a.writer.execute(receive("A", "ST", 5))
    a.writer.execute(receive("B", "WH", 5))  # three positions kept: one too many
    a.writer.execute(receive("B", "WH", 1))  # the next batch drops A, kept longest ago
    assert cache.position(("A", "WH")) is None and cache.position(("B", "WH")).on_hand == 6
    assert a.writer.execute(reserve("A", "WH", 5)).positions["A@WH"]["reserved"] == 5  # read again


def test_writers_taking_turns_with_stock_commands_let_their_caches_rest(two_hubs):
    """Ledger commands claim everything; while another writer keeps changing stock, their
    batches leave the cache resting (over positions spread thin it found little again).
    What they change meanwhile is counted in the buckets, so the cache, once it wakes,
    forgets exactly that and reads it again."""
    a, b = two_hubs
    a.writer.execute(receive("A", "ST", 1))  # A in a's cache
    for _ in range(4):
        b.writer.execute(receive("A", "WH", 1))
        a.writer.execute(receive("B", "WH", 1))
    cache = a.writer.store.cache
    assert cache.position(("B", "WH")).on_hand < 4  # resting: not kept up to date...
    assert a.writer.execute(reserve("B", "WH", 4)).positions["B@WH"] == {  # ...nor trusted
        "on_hand": 4, "reserved": 4, "damaged": 0, "quality_control": 0, "incoming": 0, "in_transit": 0, "version": 5}
    # The last change was its own, so that batch used the cache again: B read afresh, kept.
    assert cache.position(("B", "WH")).reserved == 4
    cache.revalidate({"A", "B"}, ["shopify", "amazon"], ["WH", "ST"], ["shopify"])  # as the next batch does
    assert cache.position(("B", "WH")).reserved == 4  # nobody changed it since
    assert cache.position(("A", "ST")) is None  # b changed A meanwhile: forgotten
    assert a.writer.execute(reserve("A", "WH", 4)).positions["A@WH"]["reserved"] == 4


def test_without_claims_the_cache_rests_while_another_writer_keeps_stamping(tmp_path, monkeypatch):
    """Where the kernel has no open-file-description locks, writers take the turn for whole
    batches and stamp the epoch: two processes taking turns would throw a kept cache away
    at every turn, so it rests until its own stamp is found again."""
    monkeypatch.setattr("omnihub.adapters.db.group_commit.file_claims_supported", lambda: False)
    url = f"sqlite:///{tmp_path / 'hub.db'}"
    a = Hub.open(Settings(database_url=url), relay=False)
    b = Hub.open(Settings(database_url=url), run_migrations=False, relay=False)
    try:
        assert a.writer.claims is None and b.writer.claims is None
        add_location(a, "WH", kind="warehouse", capabilities=["ship"])
        add_skus(a, "A", "B")
        for _ in range(4):
            b.writer.execute(receive("A", "WH", 1))
            a.writer.execute(receive("B", "WH", 1))
        assert a.writer.store.cache.positions == {}  # resting: nothing kept
        a.writer.execute(receive("B", "WH", 1))  # its own stamp found again: awake
        assert a.writer.store.cache.position(("B", "WH")).on_hand == 5
        assert a.writer.execute(reserve("B", "WH", 5)).positions["B@WH"]["reserved"] == 5
        assert b.writer.execute(reserve("A", "WH", 4)).positions["A@WH"]["reserved"] == 4
    finally:
        b.close()
        a.close()
