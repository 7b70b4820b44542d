"""Fraud holds and unified customers, as stories."""

from __future__ import annotations

from datetime import timedelta

import pytest

from omnihub.domain.customers import (
    ChannelCustomer,
    UnifiedCustomer,
    match_keys,
    normalize_email,
    normalize_phone,
    resolve,
)
from omnihub.domain.fraud import (
    ChannelRiskRule,
    CountryMismatchRule,
    CustomerOrderFacts,
    FirstOrderValueRule,
    VelocityRule,
    assess,
    rule_from_dict,
    rule_to_dict,
)
from omnihub.domain.order_states import OrderState, transition
from omnihub.domain.orders import Address, RiskLevel

from order_builders import T0, line, order

RULES = [
    VelocityRule(max_orders=3, window=timedelta(hours=1)),
    CountryMismatchRule(),
    FirstOrderValueRule(max_value_minor=100_000),
    ChannelRiskRule(hold_at=RiskLevel.HIGH, default_by_channel={"tiktok_shop": RiskLevel.MEDIUM}),
]


def test_given_a_new_customer_ordering_big_from_abroad_when_assessed_then_the_order_is_held_with_every_reason():
    """A first order of $1,500, billed in Germany, shipped to the US, rated high risk by
    Shopify, the fourth order from this person in an hour: four reasons, each explained.
    The service then moves it created → held, and an operator releases it to brokering."""
    o = order(line("1", "TV", 1, price=150_000), billing_country="DE", channel_risk=RiskLevel.HIGH,
              shipping_address=Address(country="US"))
    facts = CustomerOrderFacts(previous_orders=0, recent_order_times=(
        T0 - timedelta(minutes=5), T0 - timedelta(minutes=20), T0 - timedelta(minutes=59), T0 - timedelta(hours=3)))
    reasons = assess(o, facts, RULES)
    assert [r.rule for r in reasons] == ["velocity", "country_mismatch", "first_order_value", "channel_risk"]
    assert reasons[0].details["orders"] == 4
    assert "DE" in reasons[1].message and "US" in reasons[1].message
    assert reasons[2].details == {"value_minor": 150_000, "max_value_minor": 100_000, "currency": "USD"}
    state = transition(OrderState.CREATED, OrderState.HELD)
    assert transition(state, OrderState.BROKERING) is OrderState.BROKERING  # released


def test_given_a_regular_customer_when_assessed_then_nothing_is_held():
    o = order(line("1", "TV", 1, price=150_000), billing_country="US", shipping_address=Address(country="US"))
    assert assess(o, CustomerOrderFacts(previous_orders=7, recent_order_times=(T0 - timedelta(days=2),)), RULES) == []


def test_channel_default_risk_applies_when_the_channel_gives_none():
    o = order(line("1", "A", 1), channel="tiktok_shop")
    assert assess(o, CustomerOrderFacts(3), [ChannelRiskRule(RiskLevel.MEDIUM, {"tiktok_shop": RiskLevel.MEDIUM})])
    assert not assess(o, CustomerOrderFacts(3), [ChannelRiskRule(RiskLevel.HIGH, {"tiktok_shop": RiskLevel.MEDIUM})])


def test_fraud_rules_round_trip_and_refuse_nonsense():
    for r in RULES:
        assert rule_from_dict(rule_to_dict(r)) == r
    with pytest.raises(ValueError, match="kind"):
        rule_from_dict({"kind": "astrology"})
    with pytest.raises(ValueError, match="max_orders"):
        rule_from_dict({"kind": "velocity", "max_orders": 0})
    with pytest.raises(ValueError, match="unknown field"):
        rule_from_dict({"kind": "country_mismatch", "strict": True})


@pytest.mark.parametrize(("raw", "expected"), [
    ("  Jane.Doe@Example.COM ", "jane.doe@example.com"),
    ("Jane.Doe+shop@googlemail.com", "janedoe@gmail.com"),
    ("j.a.n.e@gmail.com", "jane@gmail.com"),
    ("jane+tag@example.com", "jane+tag@example.com"),  # not Gmail: plus kept
    ("not-an-email", None),
    ("a@b@c.com", None),
    (None, None),
])
def test_normalize_email(raw, expected):
    assert normalize_email(raw) == expected


@pytest.mark.parametrize(("raw", "expected"), [
    ("(415) 555-0123", "+14155550123"),
    ("1-415-555-0123", "+14155550123"),
    ("+1 415 555 0123 ext 9", "+14155550123"),
    ("+44 20 7946 0958", "+442079460958"),
    ("0044 20 7946 0958", "+442079460958"),
    ("12", None),
    (None, None),
])
def test_normalize_phone(raw, expected):
    assert normalize_phone(raw) == expected


def test_given_a_pos_profile_and_a_web_profile_when_an_amazon_order_carries_both_email_and_phone_then_they_become_one_customer():
    pos = UnifiedCustomer(id=7, phones=frozenset({"+14155550123"}), channel_ids=frozenset({("shopify_pos", "p-1")}))
    web = UnifiedCustomer(id=3, emails=frozenset({"janedoe@gmail.com"}), channel_ids=frozenset({("shopify", "c-9")}))
    other = UnifiedCustomer(id=5, emails=frozenset({"someone@else.com"}))
    r = resolve(ChannelCustomer("amazon_seller", "A-77", email="Jane.Doe@gmail.com", phone="415.555.0123"),
                [pos, web, other])
    assert r.customer.id == 3 and r.merged_ids == (7,) and not r.created
    assert r.customer.channel_ids == {("shopify_pos", "p-1"), ("shopify", "c-9"), ("amazon_seller", "A-77")}
    assert set(match_keys("Jane.Doe@gmail.com", "415.555.0123")) <= r.customer.keys


def test_given_a_stranger_then_a_new_profile_is_proposed():
    r = resolve(ChannelCustomer("shopify", "c-1", email="new@shop.com"), [])
    assert r.created and r.customer.id is None and r.customer.emails == {"new@shop.com"}
