"""The audit trail: who changed what in the hub, when, from where, and for settings what
it was before and after.

One record per change an operator makes through a door of the hub: an unsafe API
request that succeeded (entrypoints/api/audit_hook.py records every one, whatever the
route) or a CLI command that changes things (entrypoints/cli/audited.py). The door opens
a `change_in_progress()` for the request or command; what runs inside it, a route, a
service or a command, may add to it with `note_change` (the target, the settings before
and after), at no cost when nothing is recording. So a new route is audited without
anyone remembering to, and the settings services say their own before and after for
every door at once.

Secrets never enter the trail: values under a key that names one (token, secret,
password...) are written as "changed" (`without_secrets`), and the doors record
identifiers, never bodies (no customer's personal data).

Writes are queued and committed together by one thread (every few milliseconds, or when
someone reads): an audited request costs an append to a list, not a transaction that
would queue behind the stock writer for SQLite's one write lock. A process that dies
loses what it had not flushed (milliseconds of records); `close` flushes the rest.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from omnihub.adapters.db.stored_times import as_utc
from omnihub.adapters.db import tables as t
from omnihub.log_redaction import is_secret_key

log = logging.getLogger(__name__)

CHANGED = "changed"  # how a secret's new value is shown
CLI_ADDRESS = "cli"


def _names_a_secret(key: str) -> bool:
    """`client_secret`, `access_token`, `password`, `session_id` do; `token_id`,
    `token_name` (which name a token without being one) do not."""
    if key != "session_id" and key.endswith(("_id", "_ids", "_name", "_hint")):
        return False
    return is_secret_key(key)


def without_secrets(value: Any, _depth: int = 0) -> Any:
    """`value` with every value under a secret-naming key replaced by "changed" (or
    None kept as None: "no credentials"), however deep in dicts and lists it sits."""
    if _depth > 20:
        return "..."
    if isinstance(value, Mapping):
        return {str(k): ((CHANGED if v is not None else None) if _names_a_secret(str(k))
                         else without_secrets(v, _depth + 1)) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [without_secrets(v, _depth + 1) for v in value]
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return str(value)


@dataclass
class PendingChange:
    """What the request or command under way changed, filled in as it runs."""

    target: str | None = None
    before: Any = None
    after: Any = None
    details: dict[str, Any] = field(default_factory=dict)
    action: str | None = None  # a door may name the action more precisely than its route
    #: the request succeeded but changed nothing (a what-if, e.g. a rule's preview): not recorded
    nothing_changed: bool = False


_pending: ContextVar[PendingChange | None] = ContextVar("omnihub_pending_change", default=None)


@contextmanager
def change_in_progress() -> Iterator[PendingChange]:
    change = PendingChange()
    token = _pending.set(change)
    try:
        yield change
    finally:
        _pending.reset(token)


def recording() -> bool:
    """Whether a door is recording (a service computes a `before` only then)."""
    return _pending.get() is not None


def note_nothing_changed() -> None:
    """Say that the request under way, though a POST, changes nothing (it computes a
    what-if from a form too large for a query string): the trail records changes only."""
    change = _pending.get()
    if change is not None:
        change.nothing_changed = True


def note_change(*, target: str | None = None, before: Any = None, after: Any = None, action: str | None = None,
                **details: Any) -> None:
    """Add to the change under way (nothing when no door is recording). Secrets are
    dropped here, so no caller has to remember."""
    change = _pending.get()
    if change is None:
        return
    if target is not None:
        change.target = str(target)[:500]
    if before is not None:
        change.before = without_secrets(before)
    if after is not None:
        change.after = without_secrets(after)
    if action is not None:
        change.action = action
    change.details.update(without_secrets(details))


@dataclass(frozen=True)
class Actor:
    """Who acted: a Principal's kind, id and name (domain/access.py)."""

    kind: str  # "user" | "token" | "local_admin"
    id: str
    name: str

    @classmethod
    def of(cls, principal) -> "Actor":
        return cls(principal.kind, str(principal.id), principal.name)

    @property
    def text(self) -> str:
        return f"{self.kind}:{self.id}:{self.name}"[:200]


@dataclass(frozen=True)
class AuditEvent:
    actor: Actor
    address: str  # the client's address, or "cli"
    action: str  # "stock.receive", "routing.put_rules", "cli.rules.set", ...
    target: str = ""
    before: Any = None
    after: Any = None
    details: dict[str, Any] = field(default_factory=dict)
    at: datetime = field(default_factory=lambda: datetime.now(UTC))

    def row(self) -> dict:
        return {"at": self.at, "actor": self.actor.text, "actor_kind": self.actor.kind, "actor_id": self.actor.id[:64],
                "actor_name": self.actor.name[:200], "address": (self.address or "")[:100], "action": self.action[:100],
                "target": (self.target or "")[:500], "before": without_secrets(self.before),
                "after": without_secrets(self.after), "details": without_secrets(self.details)}


@dataclass(frozen=True)
class AuditFilter:
    """`actor`: a kind ("token"), kind:id ("user:3"), the full actor or a name (an
    e-mail); `action`: exact, or a family ("orders" is orders.*); `target`: a prefix."""

    actor: str | None = None
    action: str | None = None
    target: str | None = None
    since: datetime | None = None
    until: datetime | None = None


def _like_prefix(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def _conditions(f: AuditFilter) -> list:
    a = t.audit_events
    where = []
    if f.actor:
        where.append(sa.or_(a.c.actor == f.actor, a.c.actor_kind == f.actor, a.c.actor_name == f.actor,
                            a.c.actor.like(_like_prefix(f.actor + ":"), escape="\\")))
    if f.action:
        where.append(sa.or_(a.c.action == f.action, a.c.action.like(_like_prefix(f.action + "."), escape="\\")))
    if f.target:
        where.append(a.c.target.like(_like_prefix(f.target), escape="\\"))
    if f.since:
        where.append(a.c.at >= f.since.astimezone(UTC))
    if f.until:
        where.append(a.c.at < f.until.astimezone(UTC))
    return where


class AuditTrail:
    """Records audit events (queued, committed together by one thread) and pages through
    them, newest first."""

    def __init__(self, engine: Engine, *, flush_every_s: float = 0.02) -> None:
        self.engine = engine
        self.flush_every_s = flush_every_s
        self._queue: list[dict] = []
        self._cond = threading.Condition()
        self._thread: threading.Thread | None = None
        self._closed = False
        self._flushing = threading.Lock()

    def record(self, event: AuditEvent) -> None:
        """Queue the event; the thread commits it within milliseconds."""
        row = event.row()
        with self._cond:
            if self._closed:  # a request finishing as the hub stops: written at once
                self._write([row])
                return
            self._queue.append(row)
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="audit-trail", daemon=True)
                self._thread.start()
            self._cond.notify()

    def record_now(self, event: AuditEvent) -> None:
        """Commit the event before returning (the CLI, which exits right after)."""
        self._write([event.row()])

    def flush(self) -> None:
        """Commit everything queued so far (before a read, and when the hub closes)."""
        with self._flushing:
            with self._cond:
                rows, self._queue = self._queue, []
            if rows:
                try:
                    self._write(rows)
                except Exception:
                    with self._cond:
                        self._queue[:0] = rows  # kept, in order, for the next flush
                    raise

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._cond.notify()
        if self._thread is not None:
            self._thread.join(timeout=10)
        try:
            self.flush()
        except Exception:
            log.exception("audit trail: %d records could not be written at close", len(self._queue))

    def _run(self) -> None:
        failures = 0
        while True:
            with self._cond:
                while not self._queue and not self._closed:
                    self._cond.wait()
                if self._closed:
                    return
            threading.Event().wait(self.flush_every_s)  # let the records of a burst gather
            try:
                self.flush()
                failures = 0
            except Exception:  # the database busy or down: kept, tried again
                failures += 1
                log.exception("audit trail: %d records not written yet (attempt %d)", len(self._queue), failures)
                threading.Event().wait(min(5.0, 0.1 * 2 ** failures))

    def _write(self, rows: list[dict]) -> None:
        with self.engine.begin() as conn:
            conn.execute(t.audit_events.insert(), rows)

    def page(self, f: AuditFilter = AuditFilter(), *, after_id: int | None = None, limit: int = 100) -> tuple[list[dict], int | None]:
        """Events newest first, `limit` of them after the cursor `after_id` (the last id
        of the previous page); with the cursor of the next page, None at the end."""
        self.flush()
        a = t.audit_events
        q = sa.select(a).where(*_conditions(f))
        if after_id is not None:
            q = q.where(a.c.id < after_id)
        with self.engine.connect() as conn:
            rows = conn.execute(q.order_by(a.c.id.desc()).limit(limit + 1)).mappings().all()
        items = [_event_dict(r) for r in rows[:limit]]
        return items, (items[-1]["id"] if len(rows) > limit else None)


def _event_dict(r) -> dict:
    return {"id": r["id"], "at": as_utc(r["at"]), "actor": {"kind": r["actor_kind"], "id": r["actor_id"], "name": r["actor_name"]},
            "address": r["address"], "action": r["action"], "target": r["target"], "before": r["before"],
            "after": r["after"], "details": r["details"] or {}}
