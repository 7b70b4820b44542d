"""The one thing the shared SP-API pieces need from a simulator: its running account.

A simulator keeps its account on ``app.state.sandbox``; LWA, the operation guard and
the time controls reach it through :func:`account_of` and use only what is named here,
so the Seller and Vendor simulators can each keep their own context class.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from fastapi import Request

from .clock import SandboxClock
from .sqlite_store import SqliteStore
from .usage_plans import RateLimiter

if TYPE_CHECKING:
    from .restricted_data import RestrictedOperation


class LwaApplication(Protocol):
    """The Login with Amazon credentials a simulated app was registered with."""

    @property
    def lwa_client_id(self) -> str: ...
    @property
    def lwa_client_secret(self) -> str: ...
    @property
    def lwa_refresh_token(self) -> str: ...
    @property
    def access_token_ttl_seconds(self) -> int: ...


class SpApiAccount(Protocol):
    """One selling partner's account as a simulator runs it."""

    @property
    def store(self) -> SqliteStore: ...
    @property
    def clock(self) -> SandboxClock: ...
    @property
    def limiter(self) -> RateLimiter: ...
    @property
    def lwa(self) -> LwaApplication: ...

    @property
    def restricted_operations(self) -> tuple[RestrictedOperation, ...]:
        """The resources a Restricted Data Token may open (:mod:`.restricted_data`)."""
        ...

    @property
    def selling_partner_id(self) -> str:
        """The seller id or vendor code the account's tokens speak for."""
        ...

    def now(self) -> float: ...

    def catch_up(self) -> None:
        """Make whatever should have happened by now have happened (before each call)."""
        ...


def account_of(request: Request) -> SpApiAccount:
    account: SpApiAccount = request.app.state.sandbox
    return account
