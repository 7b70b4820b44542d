"""Fixtures for the Walmart sandbox: a fresh sandbox per test on a manual clock."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable, Iterator

import pytest

from omnihub_sandbox.walmart.clock import ManualClock
from omnihub_sandbox.walmart.config import WalmartSandboxConfig
from walmart_sandbox_harness import Seller, TestClient, create_app


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def make_config(tmp_path: Path, clock: ManualClock) -> Callable[..., WalmartSandboxConfig]:
    def make(**overrides: Any) -> WalmartSandboxConfig:
        values: dict[str, Any] = {"state_path": tmp_path / "walmart.db", "clock": clock, "catalog_size": 12,
                                  "initial_quantity_max": 10}
        values.update(overrides)
        return WalmartSandboxConfig(**values)

    return make


@pytest.fixture
def config(make_config: Callable[..., WalmartSandboxConfig]) -> WalmartSandboxConfig:
    return make_config()


@pytest.fixture
def make_seller() -> Iterator[Callable[[WalmartSandboxConfig], Seller]]:
    """In-process sellers (no lifespan: no background tick, the clock alone drives time)."""
    apps = []

    def make(config: WalmartSandboxConfig) -> Seller:
        app = create_app(config)
        apps.append(app)
        return Seller(TestClient(app, base_url="http://sandbox.test"), config)

    yield make
    for app in apps:
        app.state.sandbox.store.close()


@pytest.fixture
def seller(make_seller: Callable[[WalmartSandboxConfig], Seller], config: WalmartSandboxConfig) -> Seller:
    return make_seller(config)
