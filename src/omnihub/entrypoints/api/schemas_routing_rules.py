"""The body of `PUT /routing-rules`, typed: the members domain/routing_rules.py reads,
each with its type and default, so the OpenAPI document shows an editor what a rule set
is. The domain's own parse runs first (one definition of what a rule set may say): a body
it refuses answers its problem (`invalid_rules`, the field at fault) as before this body
had a type."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field, model_validator

from omnihub.domain.catalog import Capability, LocationKind
from omnihub.domain.ledger import LedgerError
from omnihub.domain.orders import DeliveryMethod
from omnihub.domain.routing_rules import Fallback, RoutingRuleSet, RuleValidationError, SortKey, SplitMode
from omnihub.entrypoints.api.schemas import Strict

_Name = Annotated[str, Field(min_length=1)]
_Count = Annotated[int, Field(ge=0, strict=True)]


class OrderFilterIn(Strict):
    channels: list[_Name] = []
    delivery_methods: list[DeliveryMethod] = []
    tags_all: list[_Name] = []
    tags_none: list[_Name] = []
    min_order_value_minor: _Count | None = None
    max_order_value_minor: _Count | None = None


class LocationFilterIn(Strict):
    kinds: list[LocationKind] = []
    capabilities: list[Capability] = []
    groups: list[_Name] = []
    exclude_groups: list[_Name] = []
    max_distance_km: Annotated[float, Field(ge=0)] | Annotated[int, Field(ge=0, strict=True)] | None = None
    min_capacity_left: _Count | None = 1
    min_stock_left: _Count | None = 0


class SplitIn(Strict):
    mode: SplitMode = SplitMode.NO_SPLIT
    max_shipments: Annotated[int, Field(ge=1, strict=True)] | None = None
    min_order_value_minor: _Count | None = Field(None, description="required for split_above_value")


class RuleIn(Strict):
    name: Annotated[str, Field(min_length=1)]
    enabled: Annotated[bool, Field(strict=True)] = True
    order_filter: OrderFilterIn | None = None
    location_filter: LocationFilterIn | None = None
    sort: list[SortKey] = Field([SortKey.DISTANCE], description="each criterion once, first decides first")
    split: SplitIn | None = None
    fallback: Fallback = Fallback.NEXT_RULE


class RoutingRulesIn(Strict):
    """A rule set to put in force. `version` is the version the editor read (GET answers
    it): if another was saved since, the save answers 409; without it the save is
    unconditional."""

    version: _Count | None = None
    final_fallback: Fallback = Fallback.QUEUE
    rules: list[RuleIn] = []

    @model_validator(mode="before")
    @classmethod
    def _as_the_domain_reads_it(cls, data: Any) -> Any:
        """The domain's refusals, as the rule store raises them (services/routing_rules_store.py)."""
        if not isinstance(data, dict):
            return data  # not an object: the schema says so
        based_on = data.get("version")
        if based_on is not None and (isinstance(based_on, bool) or not isinstance(based_on, int) or based_on < 0):
            raise LedgerError("version must be the whole number the rules were read at", field="version",
                              code="invalid_rules")
        try:
            RoutingRuleSet.from_dict({k: v for k, v in data.items() if k != "version"})
        except RuleValidationError as exc:
            raise LedgerError(str(exc), field=exc.path, code="invalid_rules") from exc
        return data

    def as_sent(self) -> dict[str, Any]:
        """The members the client sent, as JSON (the store parses and stores them)."""
        return self.model_dump(mode="json", exclude_unset=True)
