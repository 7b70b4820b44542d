"""Routing rules are data: stored as numbered versions, the newest one in force.

Editing rules never rewrites history: every save is a new version, so each routing
decision can say which version it followed, and an operator can see what changed.
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from omnihub.adapters.db import tables as t
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
        """Validate and store a new version; returns it with its number."""
        try:
            ruleset = RoutingRuleSet.from_dict({k: v for k, v in data.items() if k != "version"})
        except RuleValidationError as exc:
            raise LedgerError(str(exc), field=exc.path, code="invalid_rules") from exc
        with self.engine.begin() as conn:
            latest = conn.execute(sa.select(sa.func.max(t.routing_rule_sets.c.version))).scalar() or 0
            version = latest + 1
            body = ruleset.to_dict()
            body.pop("version", None)
            conn.execute(t.routing_rule_sets.insert().values(
                version=version, rules=body, comment=comment, created_by=actor, created_at=datetime.now(UTC)))
        return {**body, "version": version}

    def history(self) -> list[dict]:
        rs = t.routing_rule_sets
        with self.engine.connect() as conn:
            return [
                {"version": r.version, "comment": r.comment, "created_by": r.created_by, "created_at": r.created_at}
                for r in conn.execute(sa.select(rs.c.version, rs.c.comment, rs.c.created_by, rs.c.created_at).order_by(rs.c.version.desc()))
            ]
