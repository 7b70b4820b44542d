"""People who sign in: added, listed, disabled, given a role; their password checked.

E-mails are kept normalised (stripped, lower case) so `Ana@Shop.example` and
`ana@shop.example` are one account. A disabled user keeps its row (the ledger and the
audit still name it) and can no longer sign in. Sessions (services/sessions.py) turn a
checked password into a `Principal` with `principal_of`.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from omnihub.adapters.db import tables as t
from omnihub.domain.access import Principal, Role, ScopeError, check_role_locations
from omnihub.services.passwords import DUMMY_HASH, WeakPassword, hash_password, needs_rehash, verify_password


class UserError(ValueError):
    """A user that cannot be made or changed as asked."""


def normalize_email(email: str) -> str:
    e = email.strip().lower()
    if "@" not in e or e.startswith("@") or e.endswith("@") or len(e) > 320 or any(c.isspace() for c in e):
        raise UserError(f"{email!r} is not an e-mail address")
    return e


def _role(role: Role | str) -> Role:
    try:
        return Role(role)
    except ValueError:
        raise UserError(f"unknown role {role!r}: one of {', '.join(r.value for r in Role if r is not Role.INTEGRATION)}") from None


def principal_of(row, address: str | None = None) -> Principal:
    return Principal("user", str(row.id), row.email, Role(row.role), frozenset(row.locations), frozenset(), address)


class Users:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def add(self, email: str, password: str, *, name: str = "", role: Role | str = Role.READ_ONLY,
            locations: Iterable[str] = ()) -> int:
        email, role = normalize_email(email), _role(role)
        if role is Role.INTEGRATION:
            raise UserError("integration is a role for API tokens, not people (omnihub tokens create)")
        try:
            locs = check_role_locations(role, locations)
            hashed = hash_password(password)
        except (ScopeError, WeakPassword) as exc:
            raise UserError(str(exc)) from None
        now = datetime.now(UTC)
        u = t.users
        with self.engine.begin() as conn:
            if conn.execute(sa.select(u.c.id).where(u.c.email == email)).first() is not None:
                raise UserError(f"a user {email} exists already")
            return conn.execute(u.insert().values(
                email=email, name=(name or email.split("@")[0]).strip()[:200], password_hash=hashed, role=role.value,
                locations=sorted(locs), disabled=False, created_at=now, updated_at=now).returning(u.c.id)).scalar_one()

    def count_admins(self) -> int:
        u = t.users
        with self.engine.connect() as conn:
            return conn.execute(sa.select(sa.func.count()).select_from(u).where(
                u.c.role == Role.ADMIN.value, u.c.disabled.is_(sa.false()))).scalar_one()

    def list(self) -> list[dict]:
        u = t.users
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(u.c.id, u.c.email, u.c.name, u.c.role, u.c.locations, u.c.disabled,
                                          u.c.created_at, u.c.updated_at).order_by(u.c.id)).mappings().all()
        return [dict(r) for r in rows]

    def get(self, email_or_id: str | int):
        u = t.users
        cond = u.c.id == email_or_id if isinstance(email_or_id, int) else u.c.email == normalize_email(email_or_id)
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(u).where(cond)).first()
        if row is None:
            raise UserError(f"no user {email_or_id}")
        return row

    def _update(self, email: str, **values) -> None:
        u = t.users
        with self.engine.begin() as conn:
            if not conn.execute(u.update().where(u.c.email == normalize_email(email))
                                .values(updated_at=datetime.now(UTC), **values)).rowcount:
                raise UserError(f"no user {email}")

    def disable(self, email: str, disabled: bool = True) -> None:
        self._update(email, disabled=disabled)

    def set_role(self, email: str, role: Role | str, locations: Iterable[str] = ()) -> None:
        role = _role(role)
        if role is Role.INTEGRATION:
            raise UserError("integration is a role for API tokens, not people")
        try:
            locs = check_role_locations(role, locations)
        except ScopeError as exc:
            raise UserError(str(exc)) from None
        self._update(email, role=role.value, locations=sorted(locs))

    def set_password(self, email: str, password: str) -> None:
        try:
            self._update(email, password_hash=hash_password(password))
        except WeakPassword as exc:
            raise UserError(str(exc)) from None

    def authenticate(self, email: str, password: str, address: str | None = None) -> Principal | None:
        """The principal of an enabled user whose password this is, or None. An unknown
        e-mail costs the same argon2id verification as a wrong password."""
        try:
            email = normalize_email(email)
        except UserError:
            verify_password(DUMMY_HASH, password)
            return None
        u = t.users
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(u).where(u.c.email == email)).first()
        if row is None:
            verify_password(DUMMY_HASH, password)
            return None
        if not verify_password(row.password_hash, password) or row.disabled:
            return None
        if needs_rehash(row.password_hash):
            self._update(email, password_hash=hash_password(password))
        return principal_of(row, address)

    def principal(self, user_id: int, address: str | None = None) -> Principal | None:
        """The principal of an enabled user (a session's), with its role as it is now."""
        u = t.users
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(u).where(u.c.id == user_id)).first()
        return None if row is None or row.disabled else principal_of(row, address)
