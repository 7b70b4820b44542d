"""Fixtures for the connector and sync tests: the channel sandboxes served by uvicorn on
loopback ports (real HTTP, real sockets), and a hub connected to them through its own
connectors. The hub and the sandboxes share nothing but HTTP."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from omnihub.adapters.channels.connectors import build_amazon, build_shopify

SHOPIFY_TOKEN = "shpat_sync_tests"
SHOPIFY_SECRET = "shpss_sync_tests_secret"
SHOPIFY_DOMAIN = "omnihub-dev.myshopify.com"  # the sandbox's X-Shopify-Shop-Domain


from tests.live_server import LiveServer  # noqa: E402


@pytest.fixture
def _served():
    """Everything a test served, stopped in reverse order at its end (the hub's API before
    the simulators it talks to)."""
    started: list = []
    yield started
    for server in reversed(started):
        server.stop()


@pytest.fixture
def serve(_served):
    """Serve one of the hub's apps (or a test's own stand-in) on a loopback port."""

    def start(app) -> LiveServer:
        server = LiveServer(app).__enter__()
        _served.append(server)
        return server

    return start


@pytest.fixture
def serve_simulator(_served):
    """Serve a channel simulator's app the way the sandbox serves it (its public start_server)."""
    from omnihub_sandbox.serving import SandboxServer, start_server

    def start(app) -> SandboxServer:
        server = start_server(app)
        _served.append(server)
        return server

    return start


def shopify_config(tmp_path: Path, **overrides):
    from omnihub_sandbox.shopify.config import ShopifySandboxConfig

    values = dict(state_path=tmp_path / "shopify.sqlite3", access_tokens=[SHOPIFY_TOKEN], client_secret=SHOPIFY_SECRET,
                  shop_domain=SHOPIFY_DOMAIN,
                  catalog_products=4, catalog_variants_per_product=2, catalog_stores=2, catalog_warehouses=1,
                  initial_stock_max=12, time_scale=0.001, plan="plus")
    values.update(overrides)
    return ShopifySandboxConfig(**values)


@pytest.fixture
def shopify_sandbox(tmp_path, serve_simulator):
    """Factory: (server, app) of a Shopify sandbox with the given config overrides."""
    from omnihub_sandbox.shopify.app import create_app

    def start(**overrides):
        app = create_app(shopify_config(tmp_path, **overrides))
        return serve_simulator(app), app

    return start


def shopify_secrets(url: str, plan: str = "plus") -> dict:
    # The sandbox is reached on loopback, not at its myshopify.com name: say which shop it is.
    return {"shop_url": url, "access_token": SHOPIFY_TOKEN, "client_secret": SHOPIFY_SECRET, "plan": plan,
            "shop_domain": SHOPIFY_DOMAIN}


@pytest.fixture
def shopify_connector():
    made = []

    def make(url: str, **kw):
        conn = build_shopify("shopify", shopify_secrets(url), **kw)
        made.append(conn)
        return conn

    yield make
    for c in made:
        c.client.close()


def amazon_config(tmp_path: Path, **overrides):
    from omnihub_sandbox.amazon.config import AmazonSandboxConfig

    values = dict(state_path=tmp_path / "amazon.db", catalog_size=8, initial_quantity_max=10, feed_queue_seconds=0.2,
                  feed_processing_seconds=0.3, report_queue_seconds=0.1, report_processing_seconds=0.2,
                  pending_to_unshipped_seconds=0.5, tick_seconds=0.1)
    values.update(overrides)
    return AmazonSandboxConfig(**values)


def amazon_secrets(url: str, cfg) -> dict:
    return {"endpoint": url, "lwa_url": url + "/auth/o2/token", "client_id": cfg.lwa_client_id,
            "client_secret": cfg.lwa_client_secret, "refresh_token": cfg.lwa_refresh_token, "seller_id": cfg.seller_id,
            "marketplace_id": cfg.marketplace_id, "notification_secret": cfg.notification_signing_secret}


@pytest.fixture
def amazon_sandbox(tmp_path, serve_simulator):
    from omnihub_sandbox.amazon.app import create_app

    def start(**overrides):
        cfg = amazon_config(tmp_path, **overrides)
        app = create_app(cfg)
        return serve_simulator(app), app, cfg

    return start


@pytest.fixture
def amazon_connector():
    made = []

    def make(url: str, cfg, **kw):
        conn = build_amazon("amazon_seller", amazon_secrets(url, cfg), **kw)
        made.append(conn)
        return conn

    yield make
    for c in made:
        c.client.close()


def wait_until(predicate, timeout: float = 20.0, interval: float = 0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    return predicate()
