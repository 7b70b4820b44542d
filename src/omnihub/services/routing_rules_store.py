"""Routing rules are data: stored as numbered versions, the newest one in force.

Editing rules never rewrites history: every save is a new version, so each routing
decision can say which version it followed, and an operator can see what changed.
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from omnihub.adapters.db import tables as t
from omnihub.services.audit_trail import note_change, recording
from omnihub.adapters.db.bulk_sql import driver_rows
from omnihub.domain.catalog import Capability
from omnihub.domain.orders import DeliveryMethod
from omnihub.domain.routing_rules import (
    Fallback,
    LocationFilter,
    OrderFilter,
    RoutingRule,
    RoutingRuleSet,
    RuleValidationError,
    SortKey,
    SplitMode,
    SplitPolicy,
)
from omnihub.domain.ledger import LedgerError
from omnihub.domain.stock_commands import VersionConflict

#: What a hub routes by before anyone writes a rule: the cases the seeds name.
DEFAULT_RULES = RoutingRuleSet(
    (
        RoutingRule(
            "express-from-nearest",
            OrderFilter(delivery_methods=frozenset({DeliveryMethod.EXPRESS, DeliveryMethod.SAME_DAY})),
            LocationFilter(),
            sort=(SortKey.DISTANCE,),
            split=SplitPolicy(SplitMode.NO_SPLIT),
            fallback=Fallback.NEXT_RULE,
        ),
        RoutingRule(
            "pickup-at-chosen-store",
            OrderFilter(delivery_methods=frozenset({DeliveryMethod.PICKUP_IN_STORE, DeliveryMethod.CURBSIDE})),
            LocationFilter(capabilities=frozenset({Capability.PICKUP})),
            sort=(SortKey.DISTANCE,),
            split=SplitPolicy(SplitMode.NO_SPLIT),
            fallback=Fallback.QUEUE,
        ),
        RoutingRule(
            "ship-fewest-parcels",
            OrderFilter(),
            LocationFilter(),
            sort=(SortKey.FEWEST_SHIPMENTS, SortKey.DISTANCE, SortKey.PRIORITY, SortKey.COST),
            split=SplitPolicy(SplitMode.SPLIT, max_shipments=3),
            fallback=Fallback.QUEUE,
        ),
    ),
    version=0,
    final_fallback=Fallback.QUEUE,
)


class StaleRules(VersionConflict):
    """Rules saved from a version that is no longer in force (HTTP 409 with the current
    version): another editor saved in between, and saving this one would silently undo
    their change. Re-read, merge, save again."""

    def __init__(self, expected: int, actual: int) -> None:
        LedgerError.__init__(
            self,
            f"the routing rules are at version {actual}, not {expected}: someone saved in between; "
            "re-read them and save again",
            field="version",
            code="version_conflict",
        )
        self.expected = expected
        self.actual = actual


class RuleStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._cached: RoutingRuleSet | None = None

    def current(self, conn: Connection) -> RoutingRuleSet:
        # Raw SQL: every order batch asks, and a compiled SQLAlchemy select cost a tenth of
        # a small batch.
        latest = driver_rows(conn, "SELECT MAX(version) FROM routing_rule_sets", ())[0][0]
        if latest is None:
            return DEFAULT_RULES
        if self._cached is None or self._cached.version != latest:
            row = conn.execute(sa.select(t.routing_rule_sets.c.rules).where(t.routing_rule_sets.c.version == latest)).scalar_one()
            self._cached = RoutingRuleSet.from_dict({**row, "version": latest})
        return self._cached

    def get(self) -> dict:
        with self.engine.connect() as conn:
            return self.current(conn).to_dict()

    def save(self, data: dict, *, comment: str | None = None, actor: str | None = None) -> dict:
        """Validate and store a new version; returns it with its number.

        `version` in `data` is the version the editor started from (what GET answered):
        if another version was saved since, StaleRules is raised and nothing is stored.
        Without it the save is unconditional (a script installing a rule file)."""
        based_on = data.get("version")
        if based_on is not None and (isinstance(based_on, bool) or not isinstance(based_on, int) or based_on < 0):
            raise LedgerError("version must be the whole number the rules were read at", field="version",
                              code="invalid_rules")
        try:
            ruleset = RoutingRuleSet.from_dict({k: v for k, v in data.items() if k != "version"})
        except RuleValidationError as exc:
            raise LedgerError(str(exc), field=exc.path, code="invalid_rules") from exc
        body = ruleset.to_dict()
        body.pop("version", None)
        for _attempt in range(3):
            try:
                with self.engine.begin() as conn:
                    latest = conn.execute(sa.select(sa.func.max(t.routing_rule_sets.c.version))).scalar() or 0
                    if based_on is not None and based_on != latest:
                        raise StaleRules(based_on, latest)
                    version = latest + 1
                    if recording():  # the audit trail's before and after
                        rs = t.routing_rule_sets
                        was = conn.execute(sa.select(rs.c.rules).where(rs.c.version == latest)).scalar() if latest else None
                        note_change(target="routing-rules", before={"version": latest, **(was or {})},
                                    after={"version": version, **body})
                    conn.execute(t.routing_rule_sets.insert().values(
                        version=version, rules=body, comment=comment, created_by=actor, created_at=datetime.now(UTC)))
                break
            except sa.exc.IntegrityError:
                # Another editor took the same next version between our read and our insert:
                # stale for an editor who named a version; an unconditional save tries again.
                if based_on is not None:
                    raise StaleRules(based_on, version) from None
        else:
            raise StaleRules(version - 1, version)
        return {**body, "version": version}

    def history(self) -> list[dict]:
        rs = t.routing_rule_sets
        with self.engine.connect() as conn:
            return [
                {"version": r.version, "comment": r.comment, "created_by": r.created_by, "created_at": r.created_at}
                for r in conn.execute(sa.select(rs.c.version, rs.c.comment, rs.c.created_by, rs.c.created_at).order_by(rs.c.version.desc()))
            ]
