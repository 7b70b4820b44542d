"""Failed sign-ins slow the next ones down, per account and per client address.

Each key (`account:<e-mail>`, `address:<ip>`) counts its failures; the first few are
free, every one after them blocks the key for twice as long as the one before (1 s,
2 s, 4 s ... at most `max_delay`), and the count is forgotten `window` after the last
failure. While a key is blocked a sign-in is refused (429, Retry-After) without its
password being checked, whether the e-mail exists or not, so the refusal tells nothing.
A success forgets the account's failures, not the address's: an attacker who also holds
an account of their own cannot wash their address clean by signing into it.

The counts live in the database (`login_throttle`), so every API process of a hub, and
a restart, see the same ones.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from omnihub.adapters.db import tables as t
from omnihub.adapters.db.stored_times import as_utc


@dataclass(frozen=True)
class ThrottlePolicy:
    free_failures: int
    base_delay: timedelta = timedelta(seconds=1)
    max_delay: timedelta = timedelta(minutes=15)
    window: timedelta = timedelta(hours=1)

    def delay_after(self, failures: int) -> timedelta:
        """How long a key stays blocked after its `failures`-th failure in a row."""
        beyond = failures - self.free_failures
        if beyond <= 0:
            return timedelta(0)
        seconds = self.base_delay.total_seconds() * 2 ** min(beyond - 1, 30)
        return min(self.max_delay, timedelta(seconds=seconds))


class LoginThrottled(Exception):
    def __init__(self, retry_after_s: int) -> None:
        super().__init__(f"too many failed sign-ins: try again in {retry_after_s} s")
        self.retry_after_s = retry_after_s


class LoginThrottle:
    def __init__(self, engine: Engine, *, account: ThrottlePolicy, address: ThrottlePolicy) -> None:
        self.engine = engine
        self.policies = {"account": account, "address": address}

    @staticmethod
    def keys(email: str, address: str | None) -> list[str]:
        keys = [f"account:{email.strip().lower()}"[:400]]
        if address:
            keys.append(f"address:{address}"[:400])
        return keys

    def check(self, keys: Sequence[str], now: datetime | None = None) -> None:
        """Raise LoginThrottled while any of the keys is blocked."""
        now = now or datetime.now(UTC)
        lt = t.login_throttle
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(lt.c.blocked_until).where(lt.c.key.in_(list(keys)))).all()
        waits = [(as_utc(r.blocked_until) - now).total_seconds() for r in rows if r.blocked_until is not None]
        wait = max(waits, default=0.0)
        if wait > 0:
            raise LoginThrottled(max(1, math.ceil(wait)))

    def failed(self, keys: Sequence[str], now: datetime | None = None) -> None:
        now = now or datetime.now(UTC)
        for key in keys:
            policy = self.policies[key.split(":", 1)[0]]
            for _attempt in range(3):  # another process counting the same key first: count again
                try:
                    self._count(key, policy, now)
                    break
                except IntegrityError:
                    continue

    def _count(self, key: str, policy: ThrottlePolicy, now: datetime) -> None:
        lt = t.login_throttle
        with self.engine.begin() as conn:
            row = conn.execute(sa.select(lt).where(lt.c.key == key).with_for_update()).first()  # PostgreSQL: no lost count
            if row is None:
                failures = 1
            elif now - as_utc(row.last_failure_at) > policy.window:
                failures = 1
            else:
                failures = row.failures + 1
            delay = policy.delay_after(failures)
            values = {"failures": failures, "last_failure_at": now, "blocked_until": now + delay if delay else None}
            if row is None:
                conn.execute(lt.insert().values(key=key, **values))
            else:
                conn.execute(lt.update().where(lt.c.key == key).values(**values))

    def succeeded(self, email: str) -> None:
        lt = t.login_throttle
        with self.engine.begin() as conn:
            conn.execute(lt.delete().where(lt.c.key == self.keys(email, None)[0]))
