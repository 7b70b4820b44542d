"""What erasing a person takes out of an order and of a channel's payload, and what it keeps."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from omnihub.domain.catalog import GeoPoint
from omnihub.domain.orders import Address, CustomerRef, Order, OrderLine
from omnihub.domain.personal_data import ERASED, Subject, anonymized, erase_identifiers, erase_payload, payload_names_subject


def test_an_anonymized_order_keeps_the_sale_and_the_country_only():
    order = Order("shopify", "1001", datetime(2026, 11, 1, tzinfo=UTC), (OrderLine("1", "A", 2, unit_price_minor=950),),
                  customer=CustomerRef("77", "ana@example.com", "+15551234567", 5), notes="ring twice, Ana",
                  shipping_address=Address("1 Main St", "Apt 2", "Springfield", "IL", "62704", "US", GeoPoint(39.8, -89.6)),
                  tags=frozenset({"vip"}))
    erased = anonymized(order)
    assert erased.customer == CustomerRef() and erased.notes == ""
    assert erased.shipping_address == Address(country="US")
    assert (erased.lines, erased.order_value, erased.tags, erased.key) == (order.lines, order.order_value, order.tags,
                                                                         order.key)


def test_a_payload_loses_people_and_addresses_but_keeps_its_structure():
    body = {"id": 450789469, "email": "bob@example.com", "name": "#1001", "note": "gift for Ann", "total_price": "41.94",
            "line_items": [{"id": 1, "sku": "A", "name": "IPod Nano", "quantity": 1}],
            "customer": {"id": 207119551, "email": "bob@example.com", "first_name": "Bob", "verified_email": True,
                         "default_address": {"address1": "Chestnut Street 92", "country_code": "US"}},
            "shipping_address": {"address1": "Chestnut Street 92", "city": "Louisville", "zip": "40202",
                                 "name": "Bob Norman", "country": "United States", "country_code": "US"},
            "ShippingAddress": {"City": "Louisville", "PostalCode": "40202", "CountryCode": "US"},
            "BuyerInfo": {"BuyerEmail": "x@marketplace.amazon.com"}}
    erased = erase_payload(body)
    text = json.dumps(erased)
    for gone in ("bob@", "Bob", "Chestnut", "Louisville", "40202", "Ann", "marketplace"):
        assert gone not in text, gone
    assert (erased["id"], erased["name"], erased["total_price"], erased["line_items"]) == (
        450789469, "#1001", "41.94", body["line_items"])
    assert erased["shipping_address"]["country_code"] == "US" and erased["ShippingAddress"]["CountryCode"] == "US"
    assert erased["customer"]["id"] is None and erased["customer"]["verified_email"] is True


def test_identifiers_are_found_however_they_are_written():
    subject = Subject.of(emails=["Zelda.Q@Example.org"], phones=["+1 415-555-0175"])
    text = ("zelda.q@example.org; ZELDA.Q@EXAMPLE.ORG; (415) 555-0175; 415.555.0175; +14155550175; 1-415-555-0175; "
            "order 4155550175123 stays; 2026-12-02 stays")
    assert erase_identifiers(text, subject) == (f"{ERASED}; {ERASED}; {ERASED}; {ERASED}; {ERASED}; {ERASED}; "
                                                "order 4155550175123 stays; 2026-12-02 stays")
    assert payload_names_subject({"customer": {"phone": "415 555 0175"}}, subject)
    assert payload_names_subject({"contact_email": "zelda.q@example.org"}, subject)
    assert not payload_names_subject({"note": "zelda.q@example.org", "email": "other@example.org"}, subject)
