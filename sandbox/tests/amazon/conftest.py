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
