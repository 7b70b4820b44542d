"""Sessions for people who sign in with a password (the console's browser).

A session is an opaque random id (256 bits) handed to the browser in a cookie; the
database keeps only its SHA-256, so a copy of the table opens no session. Each request
reads the session with its user in one query, so a session ends the moment it is
closed, it expires, or its user is disabled; nothing is cached.

- Expiry: idle (no request for `idle`) and absolute (`absolute` after sign-in, however
  busy). `last_seen_at` is written at most once a minute, not on every request.
- CSRF: each session has a token derived from its id (HMAC-SHA256 keyed by the id): the
  console sends it back in a header or a form field with every unsafe request, which a
  page of another site cannot do (it can make the browser send the cookie, not read the
  token). Nothing to store; nothing to learn from it about the id.
- A password change closes the user's other sessions; disabling a user closes them all
  (and the join refuses them even before).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from omnihub.adapters.db import tables as t
from omnihub.adapters.db.stored_times import as_utc
from omnihub.domain.access import Principal
from omnihub.services.login_throttle import LoginThrottle
from omnihub.services.users import Users, principal_of

TOUCH_EVERY = timedelta(minutes=1)


def session_hash(session_id: str) -> str:
    return hashlib.sha256(session_id.encode("utf-8", "surrogatepass")).hexdigest()


def csrf_token(session_id: str) -> str:
    digest = hmac.new(session_id.encode("utf-8", "surrogatepass"), b"omnihub csrf", hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def csrf_matches(session_id: str, sent: str | None) -> bool:
    if not sent:
        return False
    return hmac.compare_digest(csrf_token(session_id), sent.strip())


@dataclass(frozen=True)
class OpenSession:
    """A session as a request sees it: its principal and when it ends."""

    id: str  # the raw id from the cookie (never stored)
    principal: Principal
    created_at: datetime
    expires_at: datetime  # the sooner of the idle and the absolute expiry

    @property
    def csrf_token(self) -> str:
        return csrf_token(self.id)


class SignInRefused(Exception):
    """Wrong e-mail or password, or a disabled user: one answer for all three."""


class Sessions:
    def __init__(self, engine: Engine, users: Users, throttle: LoginThrottle, *, idle: timedelta,
                 absolute: timedelta) -> None:
        self.engine = engine
        self.users = users
        self.throttle = throttle
        self.idle = idle
        self.absolute = absolute

    def sign_in(self, email: str, password: str, *, address: str | None, user_agent: str = "") -> OpenSession:
        """A new session for the user whose password this is. Raises LoginThrottled while
        the account or the address is blocked, SignInRefused otherwise."""
        keys = self.throttle.keys(email, address)
        self.throttle.check(keys)
        principal = self.users.authenticate(email, password, address)
        if principal is None:
            self.throttle.failed(keys)
            raise SignInRefused("wrong e-mail or password")
        self.throttle.succeeded(email)
        self.purge_expired()  # sessions nobody came back to, past their absolute end
        return self.open(int(principal.id), principal, address=address, user_agent=user_agent)

    def open(self, user_id: int, principal: Principal, *, address: str | None, user_agent: str = "") -> OpenSession:
        session_id = secrets.token_urlsafe(32)
        now = datetime.now(UTC)
        with self.engine.begin() as conn:
            conn.execute(t.user_sessions.insert().values(
                id_hash=session_hash(session_id), user_id=user_id, created_at=now, last_seen_at=now,
                expires_at=now + self.absolute, address=(address or "")[:100], user_agent=(user_agent or "")[:300]))
        return OpenSession(session_id, principal, now, min(now + self.absolute, now + self.idle))

    def resolve(self, session_id: str, *, address: str | None = None) -> OpenSession | None:
        """The open session of this id, or None (unknown, expired, closed, user disabled)."""
        if not session_id or len(session_id) > 200:
            return None
        s, u = t.user_sessions, t.users
        digest = session_hash(session_id)
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(s.c.created_at, s.c.last_seen_at, s.c.expires_at, u.c.id, u.c.email,
                                         u.c.role, u.c.locations, u.c.disabled)
                               .select_from(s.join(u, u.c.id == s.c.user_id)).where(s.c.id_hash == digest)).first()
        if row is None or row.disabled:
            return None
        now = datetime.now(UTC)
        last_seen, ends = as_utc(row.last_seen_at), as_utc(row.expires_at)
        if now >= ends or now >= last_seen + self.idle:
            self._delete(s.c.id_hash == digest)
            return None
        if now - last_seen >= TOUCH_EVERY:
            with self.engine.begin() as conn:
                conn.execute(s.update().where(s.c.id_hash == digest).values(last_seen_at=now))
            last_seen = now
        return OpenSession(session_id, principal_of(row, address), as_utc(row.created_at), min(ends, last_seen + self.idle))

    def close(self, session_id: str) -> None:
        self._delete(t.user_sessions.c.id_hash == session_hash(session_id))

    def close_all(self, user_id: int, *, keep: str | None = None) -> int:
        """Close the user's sessions (but `keep`'s); how many were closed."""
        s = t.user_sessions
        cond = s.c.user_id == user_id
        if keep is not None:
            cond = sa.and_(cond, s.c.id_hash != session_hash(keep))
        return self._delete(cond)

    def change_password(self, session: OpenSession, current: str, new: str) -> int:
        """Set a new password for the session's user if `current` is theirs (SignInRefused
        if not, counted as a failed sign-in); closes their other sessions (how many)."""
        email = session.principal.name
        keys = self.throttle.keys(email, session.principal.address)
        self.throttle.check(keys)
        if self.users.authenticate(email, current, session.principal.address) is None:
            self.throttle.failed(keys)
            raise SignInRefused("the current password is wrong")
        self.users.set_password(email, new)
        return self.close_all(int(session.principal.id), keep=session.id)

    def _delete(self, cond) -> int:
        with self.engine.begin() as conn:
            return conn.execute(t.user_sessions.delete().where(cond)).rowcount

    def purge_expired(self) -> int:
        """Delete the sessions past their absolute expiry (idle ones go when next seen)."""
        return self._delete(t.user_sessions.c.expires_at < datetime.now(UTC))


def sessions_of(engine: Engine, users: Users, settings) -> Sessions:
    """The hub's sessions, with the expiry and throttling its settings ask for."""
    from omnihub.services.login_throttle import ThrottlePolicy

    throttle = LoginThrottle(engine, account=ThrottlePolicy(settings.login_free_failures_per_account),
                             address=ThrottlePolicy(settings.login_free_failures_per_address))
    return Sessions(engine, users, throttle, idle=timedelta(minutes=settings.session_idle_minutes),
                    absolute=timedelta(hours=settings.session_absolute_hours))
