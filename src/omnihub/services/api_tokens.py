"""API tokens for machines: made, listed, revoked, and verified on every request.

A token is 256 random bits shown once; the database keeps only its SHA-256. With that
much entropy there is nothing to guess, so a fast hash is the right one (a slow KDF such
as argon2id is for passwords people choose) and verifying costs microseconds:

- verified tokens are kept in a small cache (at most `CACHE_SIZE`, each for `CACHE_TTL`
  = 5 s), so a request reads no row and hashes nothing: the cache is keyed by the token as
  presented (in this process's memory only, where each request holds it anyway; hashing
  it on every request was half of what verifying cost, and with eight callers on a busy
  writer that came to a fifth of the PostgreSQL ledger benchmark's figure); a
  revocation drops the token from this process's
  cache at once, and another process (a worker of `serve --workers N`) sees it within
  those 5 seconds, when its entry is read again;
- when an entry is due to be read again, one request reads it and the others go on
  with the entry they have until it is back (a busy `serve` worker's callers all found
  it due in the same instant and each opened a connection for the same row); a
  revocation in this process wins over a read that was under way when it happened;
- expiry is checked on every use against the clock, cached or not;
- `last_used_at` is written at most once a minute per token, by a background thread,
  never on the request path.
"""

from __future__ import annotations

import hashlib
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from omnihub.adapters.db import tables as t
from omnihub.adapters.db.stored_times import as_utc
from omnihub.adapters.db.engine import for_reading
from omnihub.domain.access import Principal, Role, ScopeError, check_role_locations, parse_scopes
from omnihub.log_redaction import remember_secret

PREFIX = "ohk_"  # omnihub key: a scanner (or a person) can tell what leaked
CACHE_TTL = TOKEN_CACHE_TTL = 5.0
CACHE_SIZE = 10_000
ADDRESSES_KEPT = 64  # per token: a few callers each (the principal names the address in the audit)
LAST_USED_EVERY = 60.0


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


class TokenError(ValueError):
    """A token that cannot be made as asked (unknown role, bad scope, no such token)."""


@dataclass(frozen=True, slots=True)
class IssuedToken:
    id: int
    name: str
    token: str  # the only time it exists outside its holder's hands
    role: Role
    expires_at: datetime | None


@dataclass(frozen=True, slots=True)
class _Entry:
    principal: Principal | None  # None: unknown or revoked
    token_id: int | None
    expires_at: float | None  # on the monotonic clock (one clock read a request: each costs ~0.1 µs here)
    loaded_at: float  # monotonic
    #: the principal as seen from each address it came from (made once per address: a
    #: frozen dataclass built on every request was half of what verifying cost)
    from_address: dict[str, Principal] = field(default_factory=dict)


class ApiTokens:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._cache: OrderedDict[str, _Entry] = OrderedDict()  # the token as presented → what it stands for
        self._lock = threading.Lock()
        self._last_written: dict[int, float] = {}
        self._toucher: ThreadPoolExecutor | None = None
        self._being_read: set[str] = set()  # tokens whose row one request is reading again
        self._forgotten = 0  # counts revocations: a read begun before one is not kept

    # -- making and managing ------------------------------------------------------------
    def create(self, name: str, role: Role | str, *, scopes: Iterable[str] = (), locations: Iterable[str] = (),
               expires_days: float | None = None, created_by: str) -> IssuedToken:
        try:
            role = Role(role)
        except ValueError:
            raise TokenError(f"unknown role {role!r}: one of {', '.join(r.value for r in Role)}") from None
        name = name.strip()
        if not name or len(name) > 200:
            raise TokenError("a token needs a name of 1 to 200 characters")
        if expires_days is not None and expires_days <= 0:
            raise TokenError("--expires must be a positive number of days")
        try:
            scope_set = parse_scopes(scopes, role)
            locs = check_role_locations(role, locations)
        except ScopeError as exc:
            raise TokenError(str(exc)) from None
        token = PREFIX + secrets.token_urlsafe(32)
        remember_secret(token)
        now = datetime.now(UTC)
        expires = now + timedelta(days=expires_days) if expires_days is not None else None
        with self.engine.begin() as conn:
            token_id = conn.execute(t.api_tokens.insert().values(
                name=name, token_hash=token_hash(token), hint=token[:10], role=role.value, scopes=sorted(scope_set),
                locations=sorted(locs), expires_at=expires, created_by=created_by[:200], created_at=now,
            ).returning(t.api_tokens.c.id)).scalar_one()
        return IssuedToken(token_id, name, token, role, expires)

    def list(self) -> list[dict]:
        a = t.api_tokens
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(a.c.id, a.c.name, a.c.hint, a.c.role, a.c.scopes, a.c.locations, a.c.expires_at,
                                          a.c.revoked_at, a.c.last_used_at, a.c.created_by, a.c.created_at)
                                .order_by(a.c.id)).mappings().all()
        now = datetime.now(UTC)
        out = []
        for r in rows:
            d = dict(r)
            for k in ("expires_at", "revoked_at", "last_used_at", "created_at"):
                d[k] = as_utc(d[k])
            d["state"] = ("revoked" if d["revoked_at"] else "expired" if d["expires_at"] and d["expires_at"] <= now
                          else "active")
            out.append(d)
        return out

    def revoke(self, token_id: int) -> bool:
        """Revoke a token; False if there is no such token or it was revoked already. This
        process refuses it from the next request on."""
        a = t.api_tokens
        with self.engine.begin() as conn:
            done = conn.execute(a.update().where(a.c.id == token_id, a.c.revoked_at.is_(None))
                                .values(revoked_at=datetime.now(UTC))).rowcount
            exists = done or conn.execute(sa.select(a.c.id).where(a.c.id == token_id)).first() is not None
        if not exists:
            raise TokenError(f"no token {token_id}")
        self.forget(token_id)
        return bool(done)

    def forget(self, token_id: int) -> None:
        """Drop a token from the cache (revoked, or changed)."""
        with self._lock:
            self._forgotten += 1
            for key in [k for k, e in self._cache.items() if e.token_id == token_id]:
                del self._cache[key]

    # -- verifying ----------------------------------------------------------------------
    def verify(self, token: str, address: str | None = None) -> Principal | None:
        """The principal a presented token stands for, or None (unknown, revoked, expired)."""
        now = time.monotonic()
        entry = self._cache.get(token)
        if entry is None or now - entry.loaded_at > CACHE_TTL:
            entry = self._read_again(token, entry, now)
        p = entry.principal
        if p is None or (entry.expires_at is not None and now >= entry.expires_at):
            return None
        tid = entry.token_id
        if now - self._last_written.get(tid, -LAST_USED_EVERY) >= LAST_USED_EVERY:  # type: ignore[arg-type]
            self._last_written[tid] = now  # type: ignore[index]
            self._touch(tid)  # type: ignore[arg-type]
        if address is not None and p.address != address:
            seen = entry.from_address.get(address)
            if seen is None:
                seen = Principal(p.kind, p.id, p.name, p.role, p.locations, p.scopes, address)
                if len(entry.from_address) < ADDRESSES_KEPT:
                    entry.from_address[address] = seen
            return seen
        return p

    def _read_again(self, token: str, due: _Entry | None, now: float) -> _Entry:
        """The token's row read (again), by one request at a time: while it is read, the
        others keep the entry that fell due (no older than CACHE_TTL and one read). A read
        that a revocation overtook is not kept: it is made again (the revocation was
        committed before this process forgot the token)."""
        with self._lock:
            if due is not None and token in self._being_read:
                return due
            self._being_read.add(token)
        try:
            while True:
                forgotten = self._forgotten
                entry = self._load(token_hash(token), now)
                with self._lock:
                    if forgotten == self._forgotten:
                        self._cache[token] = entry
                        self._cache.move_to_end(token)
                        while len(self._cache) > CACHE_SIZE:
                            self._cache.popitem(last=False)
                        return entry
        finally:
            with self._lock:
                self._being_read.discard(token)

    def _load(self, key: str, now: float) -> _Entry:
        a = t.api_tokens
        # A read: on SQLite it must not queue for the write lock (a request waited up to
        # 0.7 s behind background batches for its token's cache miss).
        with for_reading(self.engine).connect() as conn:
            row = conn.execute(sa.select(a.c.id, a.c.name, a.c.role, a.c.scopes, a.c.locations, a.c.expires_at,
                                         a.c.revoked_at).where(a.c.token_hash == key)).first()
        if row is None or row.revoked_at is not None:
            return _Entry(None, row.id if row is not None else None, None, now)
        expires = as_utc(row.expires_at)
        principal = Principal("token", str(row.id), row.name, Role(row.role), frozenset(row.locations),
                              frozenset(row.scopes))
        until = now + (expires.timestamp() - time.time()) if expires else None  # re-read every CACHE_TTL
        return _Entry(principal, row.id, until, now)

    def _touch(self, token_id: int) -> None:
        if self._toucher is None:
            with self._lock:
                if self._toucher is None:
                    self._toucher = ThreadPoolExecutor(1, thread_name_prefix="token-last-used")
        self._toucher.submit(self._write_last_used, token_id, datetime.now(UTC))

    def _write_last_used(self, token_id: int, when: datetime) -> None:
        a = t.api_tokens
        try:
            with self.engine.begin() as conn:
                conn.execute(a.update().where(a.c.id == token_id).values(last_used_at=when))
        except Exception:  # noqa: BLE001 - a busy database only delays the next "last used"
            self._last_written.pop(token_id, None)

    def close(self) -> None:
        if self._toucher is not None:
            self._toucher.shutdown(wait=True)
            self._toucher = None
