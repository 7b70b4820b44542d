"""How the hub's names map to a channel's: SKU → listing ids, hub location → the channel's
location id. Loaded from channel_listings and channel_locations by the sync engine and
handed to the (database-free) pushers."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(slots=True)
class ChannelMapping:
    channel: str
    items: dict[str, str] = field(default_factory=dict)  # sku → inventory item id / seller SKU
    locations: dict[str, str] = field(default_factory=dict)  # hub location code → channel location id

    def location_of(self, external_location_id: str) -> str | None:
        for code, ext in self.locations.items():
            if ext == external_location_id or ext.rsplit("/", 1)[-1] == external_location_id:
                return code
        return None

    def sku_of(self, external_item_id: str) -> str | None:
        for sku, ext in self.items.items():
            if ext == external_item_id or ext.rsplit("/", 1)[-1] == external_item_id:
                return sku
        return None
