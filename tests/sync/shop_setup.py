"""Connecting a test hub to a Shopify sandbox the way an operator would: import the shop,
take its levels as opening stock, configure the per-location channel."""

from __future__ import annotations

from datetime import UTC, datetime

from omnihub.services.channel_setup import import_shopify_shop
from omnihub.services.erp_snapshot import import_snapshot


def connect_shopify(hub, connector, *, channel: str = "shopify") -> dict:
    summary = import_shopify_shop(hub.catalog, connector.client, channel=channel)
    codes = sorted({code for _, code in summary.levels} | {c for c in _mapped(hub, channel)})
    hub.catalog.upsert_channel(channel, name="Shopify", kind="shopify", per_location=True,
                               feeds={c: "ship" for c in codes})
    lines = ["sku,location,on_hand"] + [f"{sku},{code},{qty}" for (sku, code), qty in sorted(summary.levels.items())]
    report = import_snapshot(hub.writer, "\n".join(lines) + "\n", actor="test-setup")
    assert not report.errors, report.errors
    # Shopify shows the opening levels: that is what it has confirmed.
    from omnihub.services.channel_sync import ChannelSync

    now = datetime.now(UTC)
    with hub.engine.begin() as conn:
        ChannelSync._upsert_levels(conn, [{"channel": channel, "sku": s, "location": c, "confirmed": q, "confirmed_at": now}
                                          for (s, c), q in summary.levels.items()])
    return {"summary": summary, "locations": codes}


def _mapped(hub, channel):
    import sqlalchemy as sa

    from omnihub.adapters.db import tables as t

    with hub.engine.connect() as conn:
        return list(conn.execute(sa.select(t.channel_locations.c.location).where(t.channel_locations.c.channel == channel)).scalars())
