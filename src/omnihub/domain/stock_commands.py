"""A stock command: one use-case call against the ledger, applied all-or-nothing.

A command names the positions it reads and a `plan` that, given their current balances
(read under lock), returns the movements to record and the change to each SKU's brokering
queue. Planning against locked balances is what makes a cycle count ("there are 7 on the
shelf") or an ERP snapshot correct under concurrency: the variance is computed from the
balance the movement is applied to, never from a stale read.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from omnihub.domain.ledger import LedgerError, Movement, Position

PositionKey = tuple[str, str]  # (sku, location)


@dataclass(slots=True)
class Plan:
    movements: list[Movement] = field(default_factory=list)
    #: units entering (+) or leaving (−) the brokering queue, per SKU
    demand: dict[str, int] = field(default_factory=dict)


@dataclass(slots=True)
class StockCommand:
    kind: str
    keys: tuple[PositionKey, ...]
    plan: Callable[[Mapping[PositionKey, Position]], Plan]
    idempotency_key: str | None = None
    request: dict | None = None  # what was asked, for the idempotency fingerprint
    allow_oversell: bool = False
    expected_versions: dict[PositionKey, int] | None = None
    skus_only: tuple[str, ...] = ()  # SKUs touched without positions (queue changes)

    def fingerprint(self) -> str:
        body = json.dumps({"kind": self.kind, "request": self.request}, sort_keys=True, default=str)
        return hashlib.sha256(body.encode()).hexdigest()


def fixed_plan(movements: list[Movement], demand: dict[str, int] | None = None):
    """A plan that does not depend on balances (receive, reserve, ship...). The plan is
    also kept as the function's `fixed` attribute, so the writer can skip building the
    balances mapping for it (it is only read, never changed)."""
    fixed = Plan(list(movements), dict(demand or {}))

    def _plan(_: Mapping[PositionKey, Position]) -> Plan:
        return Plan(list(fixed.movements), dict(fixed.demand))

    _plan.fixed = fixed  # type: ignore[attr-defined]
    return _plan


class VersionConflict(LedgerError):
    """The position moved on since the client read it; re-read and retry (HTTP 409)."""

    def __init__(self, key: PositionKey, expected: int, actual: int):
        super().__init__(
            f"{key[0]} at {key[1]} is at version {actual}, not {expected}: re-read and retry",
            field="expected_version",
            code="version_conflict",
        )
        self.expected = expected
        self.actual = actual


class IdempotencyConflict(LedgerError):
    """The same idempotency key was used for a different request."""

    def __init__(self, key: str):
        super().__init__(
            f"idempotency key {key!r} was already used for a different request",
            field="Idempotency-Key",
            code="idempotency_key_reused",
        )


class UnknownReference(LedgerError):
    """A SKU or location the hub does not know (HTTP 422/404)."""
