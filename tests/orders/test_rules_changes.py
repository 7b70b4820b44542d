"""New routing rules take effect with the next order, in every hub process sharing the
database (each writer reads the newest version for every batch)."""

from __future__ import annotations

from omnihub.hub import Hub
from omnihub.settings import Settings
from tests.orders.conftest import NYC_CUSTOMER, order, stock

WAREHOUSES_ONLY = {
    "rules": [{"name": "warehouses-only", "enabled": True, "order_filter": {},
               "location_filter": {"kinds": ["warehouse"]}, "sort": ["distance"],
               "split": {"mode": "no_split"}, "fallback": "queue"}],
    "final_fallback": "queue",
}


def _routed_to(result) -> set[str]:
    return {a["location"] for a in result["assignments"]}


def test_saved_rules_route_the_next_order_here_and_in_another_hub(estate, clean_url):
    stock(estate, "SHELL-M", "SOHO", 5)
    stock(estate, "SHELL-M", "WH-NJ", 5)
    other = Hub.open(Settings(database_url=clean_url), run_migrations=False, relay=False)
    try:
        first = order(estate, ("SHELL-M", 1), shipping_address=NYC_CUSTOMER)
        assert _routed_to(first) == {"SOHO"}  # the default rules: nearest first
        assert _routed_to(other.orders.ingest(_api_order_like(other, "O-1")).as_dict()) == {"SOHO"}

        r = estate.put("/api/v1/routing-rules", json=WAREHOUSES_ONLY)
        assert r.status_code == 200, r.text

        assert _routed_to(order(estate, ("SHELL-M", 1), shipping_address=NYC_CUSTOMER)) == {"WH-NJ"}
        assert _routed_to(other.orders.ingest(_api_order_like(other, "O-2")).as_dict()) == {"WH-NJ"}
    finally:
        other.close()


def _api_order_like(hub: Hub, external_id: str):
    from datetime import UTC, datetime

    from omnihub.domain.catalog import GeoPoint
    from omnihub.domain.orders import Address, Order, OrderLine

    now = datetime.now(UTC)
    return Order(channel="shopify", external_id=external_id, channel_updated_at=now, placed_at=now,
                 lines=(OrderLine("1", "SHELL-M", 1),),
                 shipping_address=Address(country="US", geo=GeoPoint(NYC_CUSTOMER["lat"], NYC_CUSTOMER["lng"])))
