"""What the console's channels page says about each channel, read in one go: whether it
is connected (its credentials are in the vault), whether it answers and when it last
confirmed a push (the worker's health report), how much of its rate limit is in use (the
budget report), how far its stock is behind (intents waiting, in back-off, parked), when
the hub last polled it, what is parked (dead letters, shipments not told, inbox rows of
its source) and its reconciliation runs with their reports.

Every figure is a grouped query over rows the hub keeps for its own work, bounded by an
index or a limit: the page refreshes while orders flow, and must not slow them. Nothing
here writes (a reconciliation run whose process died is shown as such, not marked
failed: that is the API's and the worker's to do, services/reconciliation_liveness.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from omnihub.adapters.db import tables as t
from omnihub.adapters.db.stored_times import as_utc
from omnihub.domain.reconciliation import Kind
from omnihub.services import channel_budgets, channel_health_reports
from omnihub.services.channel_budgets import BudgetUse
from omnihub.services.channel_health_reports import HealthReport
from omnihub.services.channel_sync import DEAD, PENDING
from omnihub.services.fulfilment_sync import DEAD as FULFILMENT_DEAD, PENDING as FULFILMENT_PENDING
from omnihub.services.parked_orders import ParkedOrders

#: Findings a run leaves unrepaired that need nobody: the push was on its way.
NOT_FOR_A_PERSON = frozenset({Kind.PUSH_PENDING.value})
#: A `running` run whose heartbeat is older than this has no process behind it (the
#: reconciliation's default lease).
RUN_LEASE = timedelta(minutes=2)
RUNS_SHOWN = 20
FINDINGS_SHOWN = 200


@dataclass(frozen=True, slots=True)
class Poll:
    name: str  # the cursor's feed: orders.updated_at, products.created_at ...
    value: str  # how far it has read, in the channel's terms
    at: datetime  # when the hub last moved it


@dataclass(frozen=True, slots=True)
class ChannelStatus:
    code: str
    name: str
    kind: str
    connected: bool  # credentials in the vault
    health: HealthReport | None  # as the worker last reported (None: never)
    health_stale: bool
    budget: BudgetUse | None
    budget_stale: bool
    pending: int  # intents waiting to be pushed
    backing_off: int  # of those, the ones whose last push failed: waiting out their back-off
    next_retry_at: datetime | None  # the soonest of their next attempts
    dead_letters: int
    lag_s: float  # the oldest unacknowledged change's age
    last_poll: Poll | None  # the cursor moved most recently
    fulfilment_failures: int
    inbox_failures: int  # rows of its source that did not go in
    last_run: dict | None
    left_for_a_person: int  # findings of its latest finished run that nobody repaired
    polls: list[Poll] = field(default_factory=list)

    @property
    def state(self) -> str:
        """One word for the list: not_connected, not_reported (no worker is sending to
        it), or the worker's answering / failing / down / not_called."""
        if not self.connected:
            return "not_connected"
        if self.health is None or self.health_stale:
            return "not_reported"
        return self.health.state


def _names(conn) -> dict[str, tuple[str, str]]:
    c = t.channels
    return {code: (name, kind) for code, name, kind in conn.execute(sa.select(c.c.code, c.c.name, c.c.kind))}


def _intents(conn, now: datetime, only: str | None) -> dict[str, dict]:
    i = t.sync_intents
    failed = sa.and_(i.c.state == PENDING, i.c.attempts > 0)
    q = (sa.select(i.c.channel, sa.func.sum(sa.case((i.c.state == PENDING, 1), else_=0)),
                   sa.func.sum(sa.case((failed, 1), else_=0)), sa.func.sum(sa.case((i.c.state == DEAD, 1), else_=0)),
                   sa.func.min(sa.case((i.c.state == PENDING, i.c.first_changed_at))),
                   sa.func.min(sa.case((failed, i.c.next_attempt_at))))
         .group_by(i.c.channel))
    if only is not None:
        q = q.where(i.c.channel == only)
    out = {}
    for ch, pending, failing, dead, oldest, retry in conn.execute(q).all():
        out[ch] = {"pending": int(pending or 0), "backing_off": int(failing or 0), "dead_letters": int(dead or 0),
                   "lag_s": max(0.0, (now - as_utc(oldest)).total_seconds()) if pending and oldest is not None else 0.0,
                   "next_retry_at": as_utc(retry)}
    return out


def _per_channel(conn, column, value, only: str | None) -> dict[str, Any]:
    q = sa.select(column, value).group_by(column)
    if only is not None:
        q = q.where(column == only)
    return {k: v for k, v in conn.execute(q).all()}


def _last_runs(conn, only: str | None) -> tuple[dict[str, dict], dict[str, int]]:
    """Each channel's newest run, and what its newest finished run left for a person."""
    r, f = t.reconciliation_runs, t.reconciliation_findings
    newest = sa.select(r.c.channel, sa.func.max(r.c.id).label("run_id")).group_by(r.c.channel)
    done = sa.select(r.c.channel, sa.func.max(r.c.id).label("run_id")).where(r.c.state == "done").group_by(r.c.channel)
    if only is not None:
        newest, done = newest.where(r.c.channel == only), done.where(r.c.channel == only)
    ids = [run_id for _, run_id in conn.execute(newest).all()]
    runs = {row["channel"]: dict(row) for row in conn.execute(sa.select(r).where(r.c.id.in_(ids))).mappings()} if ids else {}
    latest = done.subquery()
    left = {ch: int(n) for ch, n in conn.execute(
        sa.select(latest.c.channel, sa.func.count(f.c.id))
        .select_from(latest.join(f, sa.and_(f.c.run_id == latest.c.run_id, f.c.repaired.is_(False),
                                            f.c.kind.not_in(NOT_FOR_A_PERSON))))
        .group_by(latest.c.channel)).all()}
    return runs, left


def _polls(conn, only: str | None) -> dict[str, list[Poll]]:
    c = t.channel_cursors
    q = sa.select(c.c.channel, c.c.name, c.c.value, c.c.updated_at).order_by(c.c.channel, c.c.name)
    if only is not None:
        q = q.where(c.c.channel == only)
    out: dict[str, list[Poll]] = {}
    for ch, name, value, at in conn.execute(q).all():
        out.setdefault(ch, []).append(Poll(name, value, as_utc(at)))
    return out


def _read(engine: Engine, now: datetime, only: str | None) -> list[ChannelStatus]:
    health, budgets = channel_health_reports.read(engine), channel_budgets.read(engine)
    inbox = ParkedOrders(engine).failing_by_source()
    cf = t.channel_fulfilments
    with engine.connect() as conn:
        names = _names(conn)
        connected = set(conn.execute(sa.select(t.channel_credentials.c.channel)).scalars())
        intents = _intents(conn, now, only)
        failing = sa.or_(cf.c.state == FULFILMENT_DEAD, sa.and_(cf.c.state == FULFILMENT_PENDING, cf.c.attempts > 0))
        told = _per_channel(conn, cf.c.channel, sa.func.sum(sa.case((failing, 1), else_=0)), only)
        runs, left = _last_runs(conn, only)
        polls = _polls(conn, only)
    codes = set(names) | connected | set(intents) | set(health) | set(budgets) | set(runs)
    if only is not None:
        codes &= {only}
    out = []
    for code in sorted(codes):
        name, kind = names.get(code, (code, ""))
        counts = intents.get(code, {"pending": 0, "backing_off": 0, "dead_letters": 0, "lag_s": 0.0, "next_retry_at": None})
        h, b = health.get(code), budgets.get(code)
        mine = polls.get(code, [])
        out.append(ChannelStatus(
            code=code, name=name, kind=kind, connected=code in connected, health=h,
            health_stale=h is None or h.stale(now), budget=b, budget_stale=b is None or b.stale(now),
            last_poll=max(mine, key=lambda p: p.at) if mine else None,
            fulfilment_failures=int(told.get(code) or 0),
            inbox_failures=inbox.get(kind or code, 0), last_run=runs.get(code), left_for_a_person=int(left.get(code, 0)),
            polls=mine, **counts))
    return out


def channel_statuses(engine: Engine, *, now: datetime | None = None) -> list[ChannelStatus]:
    """Every channel the hub knows of: set up, connected, or with work in the sync engine."""
    return _read(engine, now or datetime.now(UTC), None)


def channel_status(engine: Engine, code: str, *, now: datetime | None = None) -> ChannelStatus | None:
    found = _read(engine, now or datetime.now(UTC), code)
    return found[0] if found else None


def stalled(run: dict, now: datetime) -> bool:
    """A `running` run with no heartbeat within the lease: its process stopped."""
    seen = as_utc(run.get("heartbeat_at") or run.get("started_at"))
    return run.get("state") == "running" and seen is not None and now - seen > RUN_LEASE


def runs_of(engine: Engine, code: str, limit: int = RUNS_SHOWN) -> list[dict]:
    """The channel's reconciliation runs, newest first, each with its duration and what
    it left for a person."""
    r, f = t.reconciliation_runs, t.reconciliation_findings
    with engine.connect() as conn:
        rows = [dict(row) for row in conn.execute(sa.select(r).where(r.c.channel == code)
                                                  .order_by(r.c.id.desc()).limit(limit)).mappings()]
        ids = [row["id"] for row in rows]
        left = {run_id: int(n) for run_id, n in conn.execute(sa.select(f.c.run_id, sa.func.count()).where(
            f.c.run_id.in_(ids), f.c.repaired.is_(False), f.c.kind.not_in(NOT_FOR_A_PERSON))
            .group_by(f.c.run_id)).all()} if ids else {}
    return [_run(row, int(left.get(row["id"], 0))) for row in rows]


def _run(row: dict, left: int) -> dict:
    for k in ("window_start", "started_at", "finished_at", "heartbeat_at"):
        row[k] = as_utc(row.get(k))
    started, finished = row["started_at"], row["finished_at"]
    row["duration_s"] = (finished - started).total_seconds() if started and finished else None
    row["left_for_a_person"] = left
    row["summary"] = dict(sorted((row.get("summary") or {}).items()))
    return row


def run_report(engine: Engine, code: str, run_id: int, *, limit: int = FINDINGS_SHOWN) -> dict | None:
    """One run of the channel as it was kept: counts per class, duration, and its
    findings: those left for a person first (with the reason, in `action`), then what was
    done about the others; `limit` of each, with how many there are in all."""
    r, f = t.reconciliation_runs, t.reconciliation_findings
    for_a_person = sa.and_(f.c.repaired.is_(False), f.c.kind.not_in(NOT_FOR_A_PERSON))
    with engine.connect() as conn:
        row = conn.execute(sa.select(r).where(r.c.id == run_id, r.c.channel == code)).mappings().first()
        if row is None:
            return None
        columns = (f.c.id, f.c.kind, f.c.sku, f.c.location, f.c.external_id, f.c.hub_quantity, f.c.channel_quantity,
                   f.c.action, f.c.repaired)
        left = [dict(x) for x in conn.execute(sa.select(*columns).where(f.c.run_id == run_id, for_a_person)
                                              .order_by(f.c.id).limit(limit)).mappings()]
        done = [dict(x) for x in conn.execute(sa.select(*columns).where(f.c.run_id == run_id, sa.not_(for_a_person))
                                              .order_by(f.c.id).limit(limit)).mappings()]
        left_n, done_n = conn.execute(sa.select(sa.func.sum(sa.case((for_a_person, 1), else_=0)),
                                                sa.func.sum(sa.case((for_a_person, 0), else_=1)))
                                      .where(f.c.run_id == run_id)).one()
    run = _run(dict(row), int(left_n or 0))
    return {**run, "left": left, "done": done, "done_count": int(done_n or 0)}
