"""Whether a reconciliation run still has a process behind it.

A run is started by the API (in a background thread), the CLI or the worker, and any of
them can be killed mid-way. The row would then say `running` forever, and a new run of
the channel would be refused. So a run holds a lease: while it works, a heartbeat thread
of the process running it refreshes `heartbeat_at` every quarter of the lease. A
`running` row whose heartbeat is older than the lease has nobody behind it: it is marked
`failed`, with who owned it and when it was last seen, the next time anyone asks (a new
run, the API listing runs, the worker starting), and a new run can start at once.

A thread rather than a refresh between the run's steps: one step (reading every level of
a large catalog under the channel's rate limit) can take longer than any sensible lease.
"""

from __future__ import annotations

import os
import socket
import threading
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
import structlog
from sqlalchemy.engine import Connection, Engine

from omnihub.adapters.db import tables as t
from omnihub.adapters.db.stored_times import as_utc

log = structlog.get_logger(__name__)

RUNNING, FAILED = "running", "failed"


def process_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def fail_abandoned(conn: Connection, lease: timedelta, *, channel: str | None = None,
                   now: datetime | None = None) -> list[int]:
    """Mark `running` runs whose lease ran out as failed; returns their ids."""
    r = t.reconciliation_runs
    now = now or datetime.now(UTC)
    last_seen = sa.func.coalesce(r.c.heartbeat_at, r.c.started_at)
    q = sa.select(r.c.id, r.c.owner, last_seen.label("seen")).where(r.c.state == RUNNING, last_seen < now - lease)
    if channel:
        q = q.where(r.c.channel == channel)
    failed = []
    for run_id, owner, seen in conn.execute(q).all():
        reason = (f"abandoned: no heartbeat from {owner or 'its process'} since {as_utc(seen).isoformat()} "
                  f"(lease {lease.total_seconds():.0f} s); the process running it stopped")
        if conn.execute(r.update().where(r.c.id == run_id, r.c.state == RUNNING)
                        .values(state=FAILED, finished_at=now, error=reason)).rowcount:
            failed.append(run_id)
            log.warning("reconciliation run abandoned", run=run_id, owner=owner, last_seen=str(seen))
    return failed


class Heartbeat:
    """Refreshes one run's heartbeat until stopped (use as a context manager)."""

    def __init__(self, engine: Engine, run_id: int, interval_s: float) -> None:
        self.engine = engine
        self.run_id = run_id
        self.interval_s = interval_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._beat, name=f"reconcile-heartbeat-{run_id}", daemon=True)

    def __enter__(self) -> "Heartbeat":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _beat(self) -> None:
        r = t.reconciliation_runs
        while not self._stop.wait(self.interval_s):
            try:
                with self.engine.begin() as conn:
                    alive = conn.execute(r.update().where(r.c.id == self.run_id, r.c.state == RUNNING)
                                         .values(heartbeat_at=datetime.now(UTC))).rowcount
                if not alive:  # someone judged it abandoned (this process stalled past the lease)
                    log.warning("reconciliation run no longer marked running", run=self.run_id)
                    return
            except Exception:  # a missed beat is not fatal; the lease allows for a few
                log.exception("reconciliation heartbeat failed", run=self.run_id)
