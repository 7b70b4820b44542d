"""`copy_order` and `copy_line` (they stand in for dataclasses.replace on the hot path) keep
every field and replace only what they are given. They are written out from the fields by
omnihub.compiled_inits (tests/domain/test_compiled_inits.py holds the written-out code to
the field lists), so a field added to Order or OrderLine needs no edit here."""

from __future__ import annotations

from dataclasses import fields, replace
from datetime import UTC, datetime, timedelta

from omnihub.domain.catalog import GeoPoint
from omnihub.domain.orders import (
    Address,
    AssignmentState,
    CustomerRef,
    DeliveryMethod,
    Discount,
    FulfilmentAssignment,
    Order,
    OrderLine,
    RiskLevel,
    copy_line,
    copy_order,
)
from omnihub.domain.order_states import OrderState

T0 = datetime(2026, 11, 30, 12, tzinfo=UTC)

LINE_VALUES = dict(
    line_id="7", sku="TEE", quantity=3, unit_price_minor=1999, tax_minor=160,
    discounts=(Discount(500, "BF"),), cancelled_quantity=1,
    assignments=(FulfilmentAssignment(4, 1, shipment_id="s-1", state=AssignmentState.PICKED),),
)
ORDER_VALUES = dict(
    channel="shopify", external_id="1001", channel_updated_at=T0, lines=(OrderLine(**LINE_VALUES),), currency="EUR",
    placed_at=T0 - timedelta(minutes=3), customer=CustomerRef(customer_id=9, email="a@example.com"),
    shipping_address=Address(city="Lyon", country="FR", geo=GeoPoint(45.76, 4.84)), billing_country="DE",
    delivery_method=DeliveryMethod.PICKUP_IN_STORE, pickup_location_id=4, origin_location_id=5,
    tags=frozenset({"vip"}), notes="gift", cancelled=True, channel_risk=RiskLevel.HIGH, id=12,
    state=OrderState.ALLOCATED, holds=("velocity",),
)


def test_every_field_named_here_is_a_field_and_none_is_left_at_its_default():
    assert set(ORDER_VALUES) <= {f.name for f in fields(Order)}
    assert set(LINE_VALUES) <= {f.name for f in fields(OrderLine)}
    for name, value in ORDER_VALUES.items():  # a copy that dropped one of these would show
        assert value != Order.__dataclass_fields__[name].default, name


def test_a_copy_keeps_every_field_and_replaces_only_what_it_is_given():
    order = Order(**ORDER_VALUES)
    assert copy_order(order) == order
    assert copy_order(order, state=OrderState.SHIPPED) == replace(order, state=OrderState.SHIPPED)
    assert copy_order(order, id=99, holds=()) == replace(order, id=99, holds=())
    line = order.lines[0]
    assert copy_line(line, line.assignments) == line
    assert copy_line(line, ()) == replace(line, assignments=())
    assert copy_order(order, lines=(copy_line(line, ()),)) == replace(order, lines=(replace(line, assignments=()),))


def test_a_copy_is_checked_as_a_new_order_is():
    order = Order(**ORDER_VALUES)
    try:
        copy_order(order, lines=(order.lines[0], order.lines[0]))
    except ValueError as exc:
        assert "line" in str(exc)
    else:
        raise AssertionError("two lines with one id were accepted")
