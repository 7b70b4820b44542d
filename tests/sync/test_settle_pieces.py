"""Settling a round of pushes holds the write lock a bounded piece at a time, a few
statements a piece rather than one per intent, and still tells apart an intent whose
target changed while it was being pushed (kept, due again, its lease given back) from
those that are done (deleted, their landed figure confirmed). Counted, never timed."""

from __future__ import annotations

import sqlalchemy as sa

from omnihub.adapters.db import tables as t
from omnihub.adapters.db.engine import make_engine
from omnihub.domain.channel_sync import PushOutcome, PushStatus
from omnihub.domain.push_policy import PushPolicy
from omnihub.services import channel_sync as cs
from omnihub.services import push_path
from omnihub.services.channel_sync import ChannelSync
from tests.sync.job_growth import SHOP, Estate, measure

ROUND = 300  # one round of claims: three pieces of SETTLE_PIECE


class _Pusher:
    """Lands every figure it is sent; while it pushes, the hub's figure of one of them
    changes (a sale), so that intent must stay for another push."""

    per_location = True
    max_batch = ROUND

    def __init__(self, sync: ChannelSync) -> None:
        self.sync = sync
        self.changed: tuple[str, str] | None = None

    def push(self, items, mapping):
        first = items[0]
        self.changed = (first.sku, first.location)
        self.sync.request(SHOP, first.sku, first.location, first.target - 1)
        self.sync.flush()  # the newer target is written while the push is in flight
        return [PushOutcome(it.intent_id, PushStatus.OK, landed=it.target) for it in items]


def test_a_round_settles_in_pieces_and_keeps_an_intent_changed_meanwhile(clean_url):
    engine = make_engine(clean_url)
    try:
        Estate(engine, skus=ROUND // 5, locations=5, levels=False).build()
        sync = ChannelSync(engine, claim_batch=ROUND)
        pusher = _Pusher(sync)
        sync.register(SHOP, pusher)
        assert sync.sweep(SHOP) == ROUND  # nothing confirmed yet: every figure (the unfed location's as 0)
        i = t.sync_intents
        with engine.connect() as conn:
            targets = {(s, loc): q for s, loc, q in conn.execute(sa.select(i.c.sku, i.c.location, i.c.target))}
        due = len(targets)
        settled = []
        real_settle_piece = sync._settle_piece

        def counted_piece(*args, **kw):
            with measure(engine) as counts:
                real_settle_piece(*args, **kw)
            settled.append(counts)

        sync._settle_piece = counted_piece
        assert sync.run_channel_once(SHOP) == due
        assert len(settled) == -(-due // cs.SETTLE_PIECE) >= 2  # in pieces, each its own transaction
        for counts in settled:
            assert counts.write_transactions == 1
            assert counts.statements <= 8, counts  # a statement per kind of outcome, not one per intent

        sku, location = pusher.changed
        lv = t.channel_levels
        with engine.connect() as conn:
            left = conn.execute(sa.select(i.c.sku, i.c.location, i.c.target, i.c.lease_owner)).all()
            confirmed = {(s, loc): q for s, loc, q in conn.execute(
                sa.select(lv.c.sku, lv.c.location, lv.c.confirmed).where(lv.c.channel == SHOP))}
        assert [(s, loc, lease) for s, loc, _, lease in left] == [(sku, location, None)]  # kept, lease given back
        assert left[0][2] == targets[(sku, location)] - 1  # with its newer target, due again
        assert confirmed == targets  # every landed figure confirmed
    finally:
        engine.dispose()


class _BulkRoad:
    """A bulk road that answers every line of its file at once (this test counts how
    the file's intents are chosen and leased, not how Shopify runs it)."""

    def __init__(self, pusher) -> None:
        self.policy = PushPolicy(bulk_from=1)
        self.pusher = pusher
        self.sent = 0

    def push(self, items, mapping, fold, keep_alive):
        self.sent += len(items)
        fold([PushOutcome(it.intent_id, PushStatus.OK, landed=it.target) for it in items])
        return []


class _BulkPusher:
    per_location = True
    max_batch = 250

    def __init__(self) -> None:
        self.bulk = _BulkRoad(self)


def test_a_bulk_file_chooses_its_intents_by_one_sorted_read_and_leases_them_in_pieces(clean_url):
    """Sorting every due intent again for each lease piece of a bulk file made a morning's
    backlog (400,000 due) take minutes a file to claim; one read chooses them all."""
    engine = make_engine(clean_url)
    try:
        Estate(engine, skus=500, locations=5, levels=False).build()
        sync = ChannelSync(engine)
        pusher = _BulkPusher()
        sync.register(SHOP, pusher)
        due = sync.sweep(SHOP)
        assert due == 2500 > 2 * push_path.CLAIM_PIECE
        sorted_reads = []

        def spot(conn, cursor, statement, parameters, context, executemany):
            if "FROM sync_intents" in statement and "ORDER BY sync_intents.priority" in statement:
                sorted_reads.append(statement)

        with measure(engine) as counts:
            sa.event.listen(engine, "before_cursor_execute", spot)
            try:
                assert sync.run_channel_once(SHOP) == due
            finally:
                sa.event.remove(engine, "before_cursor_execute", spot)
        assert pusher.bulk.sent == due  # one file
        assert len([s for s in sorted_reads if "lease_owner IS NULL" in s or "lease_until <" in s]) == 1
        assert counts.max_rows_per_write <= 2 * push_path.CLAIM_PIECE  # leased a piece per write
        with engine.connect() as conn:
            assert conn.execute(sa.select(sa.func.count()).select_from(t.sync_intents)).scalar() == 0
    finally:
        engine.dispose()
