"""Building the reconciliation service for an entry point (API, CLI, worker) from the
channels' connectors: one reader per connected channel, over the hub's own sync engine,
order pipeline and inventory, so a run repairs through the same paths as everything else."""

from __future__ import annotations

from omnihub.adapters.channels.amazon.reconciliation_reads import AmazonReader
from omnihub.adapters.channels.connectors import AmazonConnector, ShopifyConnector, build_amazon, build_shopify
from omnihub.adapters.channels.shopify.bulk_levels import BULK_FROM
from omnihub.adapters.channels.shopify.reconciliation_reads import ShopifyReader
from omnihub.adapters.channels.snapshots import ChannelReader
from omnihub.hub import Hub
from omnihub.services.reconciliation import Reconciliation



def reconciliation(hub: Hub, *, shopify: ShopifyConnector | None = None, amazon: AmazonConnector | None = None) -> Reconciliation:
    readers: dict[str, ChannelReader] = {}
    if shopify:
        readers[shopify.channel] = ShopifyReader(shopify.client, channel=shopify.channel, bulk_from=BULK_FROM)
    if amazon:
        readers[amazon.channel] = AmazonReader(amazon.client, channel=amazon.channel)
    return Reconciliation(hub.engine, hub.sync, hub.orders.ingest_many, hub.inventory.record_sale, readers)


def connect(hub: Hub, channel: str):
    """(Reconciliation with this channel's reader, close) from the stored credentials, or
    (service without readers, close) when the channel is not connected."""
    secrets = hub.vault.get(channel) if hub.vault else None
    connector: ShopifyConnector | AmazonConnector | None = None
    if secrets and (channel.startswith("shopify") or secrets.get("shop_url")):
        connector = build_shopify(channel, secrets)
        job = reconciliation(hub, shopify=connector)
    elif secrets:
        connector = build_amazon(channel, secrets)
        job = reconciliation(hub, amazon=connector)
    else:
        job = reconciliation(hub)
    return job, (connector.client.close if connector else (lambda: None))
