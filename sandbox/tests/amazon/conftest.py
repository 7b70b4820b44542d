"""Fixtures for the Amazon sandbox: a fresh sandbox per test on a manual clock."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable, Iterator

import pytest

from amazon_sandbox_harness import Seller, TestClient, create_app
from omnihub_sandbox.spapi.clock import ManualClock
from omnihub_sandbox.amazon.config import AmazonSandboxConfig
from omnihub_sandbox.serving import SandboxServer


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def make_config(tmp_path: Path, clock: ManualClock) -> Callable[..., AmazonSandboxConfig]:
    def make(**overrides: Any) -> AmazonSandboxConfig:
        values: dict[str, Any] = {"state_path": tmp_path / "amazon.db", "clock": clock, "catalog_size": 20,
                                  "initial_quantity_max": 20, "feed_queue_seconds": 5, "feed_processing_seconds": 10}
        values.update(overrides)
        return AmazonSandboxConfig(**values)

    return make


@pytest.fixture
def config(make_config: Callable[..., AmazonSandboxConfig]) -> AmazonSandboxConfig:
    return make_config()


@pytest.fixture
def seller(config: AmazonSandboxConfig) -> Iterator[Seller]:
    """In-process client (no lifespan: no background ticker, so the clock alone drives time)."""
    app = create_app(config)
    client = TestClient(app, base_url="http://sandbox.test")
    yield Seller(client, config)
    app.state.sandbox.store.close()


@pytest.fixture
def serve() -> Callable[[Any], SandboxServer]:
    """A server for an app, started by entering it (`with serve(app) as server:`)."""
    return SandboxServer


# -- the Vendor Central sandbox -------------------------------------------------------------

from amazon_vendor_harness import Vendor  # noqa: E402
from amazon_vendor_harness import create_app as create_vendor_app  # noqa: E402
from omnihub_sandbox.amazon_vendor.config import AmazonVendorSandboxConfig  # noqa: E402


@pytest.fixture
def make_vendor_config(tmp_path: Path, clock: ManualClock) -> Callable[..., AmazonVendorSandboxConfig]:
    def make(**overrides: Any) -> AmazonVendorSandboxConfig:
        values: dict[str, Any] = {"state_path": tmp_path / "vendor.db", "clock": clock, "catalog_size": 12,
                                  "initial_quantity_max": 0, "rate_multiplier": 1000.0}  # the rate-limit tests: 1.0
        values.update(overrides)
        return AmazonVendorSandboxConfig(**values)

    return make


@pytest.fixture
def vendor_config(make_vendor_config: Callable[..., AmazonVendorSandboxConfig]) -> AmazonVendorSandboxConfig:
    return make_vendor_config()


@pytest.fixture
def vendor(vendor_config: AmazonVendorSandboxConfig) -> Iterator[Vendor]:
    """In-process client (no lifespan: no background ticker, so the clock alone drives time)."""
    app = create_vendor_app(vendor_config)
    client = TestClient(app, base_url="http://vendor.test")
    yield Vendor(client, vendor_config)
    app.state.sandbox.store.close()
