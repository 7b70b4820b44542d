"""The sender's choice between the per-call road and the bulk file, and the bulk round.

When a channel's pusher offers a bulk road (`pusher.bulk`, e.g. Shopify's bulk mutation)
and as many intents are due as its policy asks (a morning ERP snapshot, a big receipt, a
reconciliation's corrections, a channel's first push), the sender claims them all (in
pieces, under its usual lease, renewed while Shopify works) and sends them as one file.
Every line of the result settles its intents through the engine's own `_settle`, exactly
as a per-call answer would, as soon as it is read. Refused compare-and-swaps are re-read
(by the pusher) and re-decided here (domain.channel_sync.redecide), then resent by the
per-call road, as are the intents no line answered (the operation failed or could not
start): the bulk road never leaves an intent unsettled, and never applies one twice.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
import structlog

from omnihub.adapters.db import tables as t
from omnihub.adapters.db.engine import for_reading
from omnihub.domain.channel_sync import PushItem, PushOutcome, PushStatus, redecide

log = structlog.get_logger(__name__)

#: Intents claimed (and their leases renewed) per write transaction: the file is claimed
#: in pieces so that the API's writes get the write lock between them (5,000 a piece
#: held SQLite's lock up to 135 ms, renewing 70,000 leases at once 150 ms).
CLAIM_PIECE = 1000
#: Intents settled per transaction on the per-call road after a bulk file.
SETTLE_PIECE = 1000
STALE_ROUNDS = 3


def due_count(engine, channel: str, at_most: int) -> int:
    """Intents due now for `channel` and not leased, counted up to `at_most`."""
    i = t.sync_intents
    now = datetime.now(UTC)
    due = (sa.select(i.c.id).where(i.c.channel == channel, i.c.state == "pending", i.c.next_attempt_at <= now,
                                   sa.or_(i.c.lease_until.is_(None), i.c.lease_until < now))
           .limit(at_most).subquery())
    with for_reading(engine).connect() as conn:
        return int(conn.execute(sa.select(sa.func.count()).select_from(due)).scalar() or 0)


def bulk_round(sync, channel: str) -> int | None:
    """Send one bulk file if the channel's policy calls for it; how many intents it
    handled, or None when the per-call road should go (no bulk road, or too few due)."""
    bulk = getattr(sync.pushers[channel], "bulk", None)
    if bulk is None:
        return None
    policy = bulk.policy
    if not policy.bulk_size(due_count(sync.engine, channel, policy.bulk_from)):
        return None
    # The file's intents, most urgent first, chosen by one read (sorting every due intent
    # again for each piece of a 100,000-line file was 100 sorts of 400,000 rows: minutes
    # with a morning's backlog), then leased a piece per short write.
    ids = sync.due_ids(channel, policy.max_bulk)
    claimed = []
    for start in range(0, len(ids), CLAIM_PIECE):
        claimed += sync.lease(ids[start:start + CLAIM_PIECE])
    if not claimed:
        return None
    log.info("sync bulk file", channel=channel, intents=len(claimed))
    BulkRound(sync, channel, claimed).run(bulk)
    return len(claimed)


class BulkRound:
    def __init__(self, sync, channel: str, claimed: list) -> None:
        self.sync = sync
        self.channel = channel
        self.by_id = {c.id: c for c in claimed}
        self.held = set(self.by_id)  # claimed and not settled yet: the leases to renew
        self.later: dict[int, PushOutcome] = {}  # stale or not applied: the per-call road resends them

    def run(self, bulk) -> None:
        self.keep_alive()  # claiming a large file took a while: its first pieces' leases start over
        mapping = self.sync.mapping(self.channel)
        if any(c.sku not in mapping.items for c in self.by_id.values()):
            mapping = self.sync.mapping(self.channel, max_age_s=0)
        items = [PushItem(c.id, c.sku, c.location, c.target, c.confirmed) for c in self.by_id.values()]
        try:
            unanswered = bulk.push(items, mapping, self.fold, self.keep_alive)
        except Exception:  # a bug in the bulk road must not lose the claim: the per-call road takes it
            log.exception("bulk push failed; the per-call road takes over", channel=self.channel)
            unanswered = items
        if unanswered:
            log.warning("sync bulk file not answered in full; per-call road", channel=self.channel,
                        intents=len(unanswered))
        resend = [PushItem(c.id, c.sku, c.location, c.target, c.confirmed)
                  for c in (self.by_id[it.intent_id] for it in unanswered)]
        for iid, outcome in self.later.items():
            c = self.by_id[iid]
            resend.append(PushItem(iid, c.sku, c.location, c.target, c.confirmed))
        for start in range(0, len(resend), SETTLE_PIECE):
            self.keep_alive()
            self._per_call(bulk.pusher, resend[start:start + SETTLE_PIECE], mapping)

    def fold(self, outcomes: list[PushOutcome]) -> None:
        """One result line: what is settled settles now; the rest waits for the per-call road."""
        final = {}
        for o in outcomes:
            if o.status in (PushStatus.STALE, PushStatus.AGAIN):
                self.later[o.intent_id] = o
            else:
                final[o.intent_id] = o
        if final:
            self.sync._settle(self.channel, self.by_id, final, set(), {})
            self.held.difference_update(final)

    def keep_alive(self) -> None:
        """Renew the lease on the intents this sender still holds: a bulk file may take
        longer than one lease, and another worker must not take them meanwhile."""
        i = t.sync_intents
        ids = sorted(self.held)
        for start in range(0, len(ids), CLAIM_PIECE):
            with self.sync.engine.begin() as conn:
                conn.execute(i.update().where(i.c.id.in_(ids[start:start + CLAIM_PIECE]),
                                              i.c.lease_owner == self.sync.owner)
                             .values(lease_until=datetime.now(UTC) + timedelta(seconds=self.sync.lease_s)))

    def _per_call(self, pusher, items: list[PushItem], mapping) -> None:
        """The per-call road for intents the file did not settle: a stale one is
        re-decided from what Shopify showed (its bulk line's re-read) before it is resent."""
        final: dict[int, PushOutcome] = {}
        reassert: set[int] = set()
        observed: dict[int, int] = {}
        pending: list[PushItem] = []
        for it in items:
            first = self.later.get(it.intent_id)
            if first is not None and first.status == PushStatus.STALE and first.observed is not None:
                observed[it.intent_id] = first.observed
                decision = redecide(it.target, it.confirmed, first.observed)
                if decision.reassert:
                    reassert.add(it.intent_id)
                pending.append(PushItem(it.intent_id, it.sku, it.location, decision.send, first.observed))
            else:
                pending.append(it)
        for _round in range(STALE_ROUNDS):
            if not pending:
                break
            try:
                outcomes = pusher.push(pending, mapping)
            except Exception as exc:  # a pusher bug must not lose the claim
                log.exception("push failed", channel=self.channel)
                outcomes = [PushOutcome(it.intent_id, PushStatus.RETRY, error=f"{type(exc).__name__}: {exc}")
                            for it in pending]
            sent = {it.intent_id: it for it in pending}
            pending = []
            for o in outcomes:
                it = sent[o.intent_id]
                if o.status == PushStatus.STALE and o.observed is not None:
                    observed[o.intent_id] = o.observed
                    decision = redecide(self.by_id[o.intent_id].target, it.confirmed, o.observed)
                    if decision.reassert:
                        reassert.add(o.intent_id)
                    pending.append(PushItem(it.intent_id, it.sku, it.location, decision.send, o.observed))
                elif o.status == PushStatus.AGAIN:
                    pending.append(it)
                else:
                    final[o.intent_id] = o
        for it in pending:
            final[it.intent_id] = PushOutcome(it.intent_id, PushStatus.RETRY, error="still stale after re-reading")
        self.sync._settle(self.channel, self.by_id, final, reassert, observed)
        self.held.difference_update(final)
