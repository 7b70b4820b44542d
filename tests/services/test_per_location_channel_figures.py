"""A per-location channel (Shopify sells the sum of its locations) must not show more than
the channel may sell: orders waiting in the brokering queue, the buffer and a fixed
allocation are taken off its locations, least preferred first, and given back when they
go. The maintained projection and a rebuild from scratch agree at every step."""

from __future__ import annotations

from omnihub.adapters.db.projection_rebuild import rebuild_all
from omnihub.domain.stock_commands import StockCommand, fixed_plan


def figures(hub, sku="A"):
    shown = hub.queries.channel_availability("shopify", [sku])[0]
    return shown["quantity"], {loc: shown["locations"].get(loc, 0) for loc in ("WH", "ST")}


def queue(hub, sku: str, units: int) -> None:
    """Units entering (+) or leaving (−) the brokering queue, as the order pipeline does."""
    hub.writer.execute(StockCommand("queue", (), fixed_plan([], {sku: units}), skus_only=(sku,)))


def assert_rebuild_agrees(hub):
    before = figures(hub)
    assert rebuild_all(hub.engine) == 0, "the rebuild found a figure the projection got wrong"
    assert figures(hub) == before


def test_queue_and_buffer_are_taken_off_the_least_preferred_locations_and_given_back(stocked):
    hub = stocked
    hub.inventory.receive("A", "WH", 10)
    hub.inventory.receive("A", "ST", 4)
    assert figures(hub) == (14, {"WH": 10, "ST": 4})

    # Five units wait in the queue: Shopify may sell 9, and its locations add up to 9.
    # WH and ST have the same priority, so the code decides: ST gives up units first.
    queue(hub, "A", 5)
    assert figures(hub) == (9, {"WH": 9, "ST": 0})
    assert_rebuild_agrees(hub)

    # A receipt at the warehouse moves only its own row, and still respects the total.
    hub.inventory.receive("A", "WH", 2)
    assert figures(hub) == (11, {"WH": 11, "ST": 0})

    # A buffer of 3 on Shopify (a rule change: the projection is rebuilt).
    hub.catalog.upsert_channel("shopify", name="Shopify", kind="shopify", per_location=True, buffer=3)
    assert figures(hub) == (8, {"WH": 8, "ST": 0})

    # The queue empties (the orders were routed elsewhere or cancelled): units come back,
    # the least preferred location last.
    queue(hub, "A", -5)
    assert figures(hub) == (13, {"WH": 12, "ST": 1})
    assert_rebuild_agrees(hub)
    assert sum(figures(hub)[1].values()) == figures(hub)[0]


def test_a_preferred_location_keeps_its_units(stocked):
    hub = stocked
    with hub.engine.begin() as conn:  # the store is the preferred place to ship from
        conn.exec_driver_sql("UPDATE locations SET priority = 1 WHERE code = 'ST'")
        conn.exec_driver_sql("UPDATE locations SET priority = 5 WHERE code = 'WH'")
    hub.catalog.upsert_channel("shopify", name="Shopify", kind="shopify", per_location=True, buffer=2)
    hub.inventory.receive("A", "WH", 3)
    hub.inventory.receive("A", "ST", 4)
    assert figures(hub) == (5, {"WH": 1, "ST": 4})
    assert_rebuild_agrees(hub)
