"""Fraud rules: which orders to hold for a person to look at before stock is committed.

Rules are data (stored, versioned and edited like routing rules) and the check is a pure
function of the order and a few facts about the customer's recent orders, which the
service reads from the database beforehand. That keeps the check fast on the ingest path
and makes every hold explainable: each reason names the rule and the values compared.

The rules a merchant starts with:

* velocity: more than N orders from the same (unified) customer within a window;
* country mismatch: billing country differs from the shipping country;
* first order over a value: a customer's first order above a threshold;
* channel risk: the channel's own risk assessment at or above a level (Shopify reports
  low/medium/high); channels without one can be given a default level (a marketplace that
  carries the fraud risk itself may be LOW, a new social channel MEDIUM).

Pickup orders have no shipping country; the mismatch rule then compares nothing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from omnihub.domain.orders import Order, RiskLevel


@dataclass(frozen=True, slots=True)
class CustomerOrderFacts:
    """What the service knows about the customer before this order."""

    previous_orders: int = 0  # all time, this order excluded
    recent_order_times: tuple[datetime, ...] = ()  # placed_at of earlier orders, any age


@dataclass(frozen=True, slots=True)
class HoldReason:
    rule: str  # "velocity", "country_mismatch", "first_order_value", "channel_risk"
    message: str
    details: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class VelocityRule:
    max_orders: int  # this many orders in the window are fine; one more is held
    window: timedelta = timedelta(hours=24)


@dataclass(frozen=True, slots=True)
class CountryMismatchRule:
    pass


@dataclass(frozen=True, slots=True)
class FirstOrderValueRule:
    max_value_minor: int  # a first order above this is held
    currency: str = "USD"


@dataclass(frozen=True, slots=True)
class ChannelRiskRule:
    hold_at: RiskLevel = RiskLevel.HIGH
    default_by_channel: Mapping[str, RiskLevel] = field(default_factory=dict)


FraudRule = VelocityRule | CountryMismatchRule | FirstOrderValueRule | ChannelRiskRule


def assess(order: Order, facts: CustomerOrderFacts, rules: Sequence[FraudRule]) -> list[HoldReason]:
    """Every reason to hold the order (empty: let it through to brokering)."""
    reasons: list[HoldReason] = []
    for rule in rules:
        if isinstance(rule, VelocityRule):
            since = order.placed - rule.window
            recent = sum(1 for t in facts.recent_order_times if since < t <= order.placed)
            if recent + 1 > rule.max_orders:
                reasons.append(HoldReason(
                    "velocity",
                    f"{recent + 1} orders from this customer within {_span(rule.window)} "
                    f"(at most {rule.max_orders} allowed)",
                    {"orders": recent + 1, "max_orders": rule.max_orders,
                     "window_seconds": int(rule.window.total_seconds())},
                ))
        elif isinstance(rule, CountryMismatchRule):
            bill, ship = order.billing_country, order.shipping_country
            if bill and ship and bill.upper() != ship.upper():
                reasons.append(HoldReason(
                    "country_mismatch", f"billing country {bill} differs from shipping country {ship}",
                    {"billing_country": bill, "shipping_country": ship},
                ))
        elif isinstance(rule, FirstOrderValueRule):
            value = order.order_value
            if (facts.previous_orders == 0 and value.currency == rule.currency
                    and value.amount_minor > rule.max_value_minor):
                reasons.append(HoldReason(
                    "first_order_value",
                    f"first order worth {value.amount_minor} {value.currency} (minor units) "
                    f"is above {rule.max_value_minor}",
                    {"value_minor": value.amount_minor, "max_value_minor": rule.max_value_minor,
                     "currency": value.currency},
                ))
        elif isinstance(rule, ChannelRiskRule):
            risk = order.channel_risk or rule.default_by_channel.get(order.channel)
            if risk is not None and risk.rank >= rule.hold_at.rank:
                reasons.append(HoldReason(
                    "channel_risk", f"{order.channel} rates this order {risk.value} risk",
                    {"risk": risk.value, "hold_at": rule.hold_at.value, "channel": order.channel},
                ))
        else:  # pragma: no cover - guarded by the type
            raise TypeError(f"unknown fraud rule {rule!r}")
    return reasons


def _span(d: timedelta) -> str:
    s = int(d.total_seconds())
    if s % 86400 == 0:
        return f"{s // 86400} day(s)"
    if s % 3600 == 0:
        return f"{s // 3600} hour(s)"
    return f"{s // 60} minute(s)"


# --------------------------------------------------------------------------- as data

_KINDS = {
    "velocity": VelocityRule,
    "country_mismatch": CountryMismatchRule,
    "first_order_value": FirstOrderValueRule,
    "channel_risk": ChannelRiskRule,
}


def rule_to_dict(rule: FraudRule) -> dict[str, Any]:
    if isinstance(rule, VelocityRule):
        return {"kind": "velocity", "max_orders": rule.max_orders,
                "window_seconds": int(rule.window.total_seconds())}
    if isinstance(rule, CountryMismatchRule):
        return {"kind": "country_mismatch"}
    if isinstance(rule, FirstOrderValueRule):
        return {"kind": "first_order_value", "max_value_minor": rule.max_value_minor,
                "currency": rule.currency}
    return {"kind": "channel_risk", "hold_at": rule.hold_at.value,
            "default_by_channel": {k: v.value for k, v in sorted(rule.default_by_channel.items())}}


def rule_from_dict(data: Mapping[str, Any]) -> FraudRule:
    """Strict: unknown kinds, fields or bad values raise ValueError naming them."""
    kind = data.get("kind")
    if kind not in _KINDS:
        raise ValueError(f"fraud rule kind {kind!r} is not one of {sorted(_KINDS)}")
    allowed = {
        "velocity": {"kind", "max_orders", "window_seconds"},
        "country_mismatch": {"kind"},
        "first_order_value": {"kind", "max_value_minor", "currency"},
        "channel_risk": {"kind", "hold_at", "default_by_channel"},
    }[kind]
    unknown = sorted(set(data) - allowed)
    if unknown:
        raise ValueError(f"fraud rule {kind}: unknown field(s) {unknown}")

    def pos_int(name: str, default: Any = None) -> int:
        v = data.get(name, default)
        if isinstance(v, bool) or not isinstance(v, int) or v < 1:
            raise ValueError(f"fraud rule {kind}: {name} must be a positive integer, got {v!r}")
        return v

    if kind == "velocity":
        return VelocityRule(pos_int("max_orders"), timedelta(seconds=pos_int("window_seconds", 86400)))
    if kind == "country_mismatch":
        return CountryMismatchRule()
    if kind == "first_order_value":
        return FirstOrderValueRule(pos_int("max_value_minor"), str(data.get("currency", "USD")))
    try:
        return ChannelRiskRule(
            RiskLevel(data.get("hold_at", "high")),
            {str(k): RiskLevel(v) for k, v in dict(data.get("default_by_channel", {})).items()},
        )
    except ValueError as e:
        raise ValueError(f"fraud rule channel_risk: {e}") from None
