"""Fixtures shared by the Shopify sandbox tests.

The official Admin schema lives outside the project (../shared); tests that need it find
it through shared_contracts.py (skipped with a reason when absent, failed in CI). It is parsed once
per session because it is 3.3 MB of SDL.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from omnihub_sandbox.serving import start_server
from shared_contracts import require_shared

HERE = Path(__file__).resolve().parent


def shared_file(relative: str) -> Path:
    return require_shared(*relative.split("/"))


@pytest.fixture(scope="session")
def official_admin_schema():
    """Shopify's 2025-09 Admin schema with the documented 2026 changes applied."""
    from graphql import build_schema, extend_schema, parse

    sdl = shared_file("contracts/shopify/admin_schema_2025-09.graphql").read_text()
    schema = build_schema(sdl, assume_valid=True)
    schema = extend_schema(schema, parse((HERE / "admin_2026_changes.graphql").read_text()), assume_valid=True)
    # 2026-04 removals (cannot be expressed as an SDL extension).
    schema.type_map["InventoryQuantityInput"].fields.pop("compareQuantity", None)
    schema.type_map["InventorySetQuantitiesInput"].fields.pop("ignoreCompareQuantity", None)
    return schema


@pytest.fixture(scope="session")
def fixtures_dir() -> Path:
    return shared_file("contracts/shopify/fixtures")


from shopify_sandbox_harness import AdminClient, WebhookReceiver, sandbox_config  # noqa: E402


@pytest.fixture
def live_sandbox(tmp_path):
    """Factory: start a sandbox over real HTTP on loopback; returns (client, app)."""
    from omnihub_sandbox.shopify.app import create_app

    started = []

    def start(clock=None, **overrides):
        app = create_app(sandbox_config(tmp_path, **overrides), clock=clock)
        server = start_server(app)
        client = AdminClient(server.url)
        started.append((server, client))
        return client, app

    yield start
    for server, client in started:
        client.close()
        server.stop()


@pytest.fixture
def webhook_receiver():
    with WebhookReceiver() as receiver:
        yield receiver
