"""Settling a round of pushes holds the write lock a bounded piece at a time, a few
statements a piece rather than one per intent, and still tells apart an intent whose
target changed while it was being pushed (kept, due again, its lease given back) from
those that are done (deleted, their landed figure confirmed). Counted, never timed."""

from __future__ import annotations

import sqlalchemy as sa

from omnihub.adapters.db import tables as t
from omnihub.adapters.db.engine import make_engine
from omnihub.domain.channel_sync import PushOutcome, PushStatus
from omnihub.services import channel_sync as cs
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
