"""Building a channel's connector (client + pusher) from its decrypted credentials.

Shopify: {"shop_url", "access_token", "client_secret", "plan"?: standard|advanced|plus|
enterprise, "bucket_size"?, "bulk_from"?}. Amazon: {"endpoint", "lwa_url", "client_id",
"client_secret", "refresh_token", "seller_id", "marketplace_id"}.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from omnihub.adapters import sync_metrics as m
from omnihub.adapters.channels.amazon.inventory_push import AmazonInventoryPusher
from omnihub.adapters.channels.amazon.lwa import LwaTokenClient
from omnihub.adapters.channels.amazon.order_mapping import order_from_sp_api
from omnihub.adapters.channels.amazon.sp_api_client import SpApiClient
from omnihub.adapters.channels.amazon.usage_plans import UsagePlanLimiter
from omnihub.adapters.channels.shopify.admin_client import ShopifyAdminClient
from omnihub.adapters.channels.shopify.bulk_inventory_push import ShopifyBulkInventoryPush
from omnihub.adapters.channels.shopify.inventory_push import ShopifyInventoryPusher
from omnihub.domain.push_policy import SHOPIFY_POLICY, PushPolicy

RESTORE_RATES = {"standard": 100.0, "advanced": 200.0, "plus": 1000.0, "enterprise": 2000.0}
SHOPIFY_KEYS = ("shop_url", "access_token", "client_secret")
AMAZON_KEYS = ("endpoint", "lwa_url", "client_id", "client_secret", "refresh_token", "seller_id", "marketplace_id")


def _require(secrets: dict, keys: tuple[str, ...], what: str) -> None:
    missing = [k for k in keys if not secrets.get(k)]
    if missing:
        raise ValueError(f"{what} credentials lack {', '.join(missing)}")


@dataclass
class ShopifyConnector:
    channel: str
    client: ShopifyAdminClient
    pusher: ShopifyInventoryPusher
    client_secret: str = field(repr=False)


@dataclass
class AmazonConnector:
    channel: str
    client: SpApiClient
    pusher: AmazonInventoryPusher

    def fetch_order(self, order_id: str):
        order = self.client.get_order(order_id)
        return order_from_sp_api(order, self.client.get_order_items(order_id), channel=self.channel)


def shopify_push_policy(secrets: dict) -> PushPolicy:
    """The bulk road's threshold: measured (domain/push_policy.py), or the channel's own
    `bulk_from` where an operator set one."""
    if secrets.get("bulk_from"):
        return PushPolicy(bulk_from=int(secrets["bulk_from"]))
    return SHOPIFY_POLICY


def build_shopify(channel: str, secrets: dict, *, max_use: float = 0.8) -> ShopifyConnector:
    _require(secrets, SHOPIFY_KEYS, "Shopify")
    plan = secrets.get("plan", "standard")
    client = ShopifyAdminClient(secrets["shop_url"], secrets["access_token"], restore_rate=RESTORE_RATES.get(plan, 100.0),
                                bucket_size=float(secrets["bucket_size"]) if secrets.get("bucket_size") else None,
                                max_use=max_use, on_call=lambda outcome: m.count_call(channel, outcome))
    pusher = ShopifyInventoryPusher(client)
    pusher.bulk = ShopifyBulkInventoryPush(pusher, policy=shopify_push_policy(secrets))
    return ShopifyConnector(channel, client, pusher, secrets["client_secret"])


def build_amazon(channel: str, secrets: dict, *, limiter: UsagePlanLimiter | None = None, patch_limit: int = 25,
                 feed_poll_s: float = 5.0) -> AmazonConnector:
    _require(secrets, AMAZON_KEYS, "Amazon")
    lwa = LwaTokenClient(secrets["lwa_url"], client_id=secrets["client_id"], client_secret=secrets["client_secret"],
                         refresh_token=secrets["refresh_token"])
    client = SpApiClient(secrets["endpoint"], lwa, seller_id=secrets["seller_id"], marketplace_id=secrets["marketplace_id"],
                         limiter=limiter, on_call=lambda op, outcome: m.count_call(channel, outcome))
    return AmazonConnector(channel, client, AmazonInventoryPusher(client, patch_limit=patch_limit, feed_poll_s=feed_poll_s))
