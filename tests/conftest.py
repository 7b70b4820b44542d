"""Shared fixtures: a real database per test session (SQLite or PostgreSQL, chosen by
OMNIHUB_TEST_BACKEND), emptied before each test, and the shared contracts/data folder.

CI runs the whole suite once per backend. Tests that need ../shared find it through
OMNIHUB_SHARED_DIR (default ../shared beside the project) and skip with a reason when it
is absent; CI sets OMNIHUB_REQUIRE_SHARED=1, which turns that skip into a failure.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import sqlalchemy as sa

from omnihub.adapters.db.engine import make_engine, migrate
from omnihub.adapters.db.tables import metadata
from omnihub.benchmarks.scratch_db import scratch_database
from omnihub.hub import Hub
from omnihub.settings import LOOPBACK_HOSTS, Settings
from tests.shared_files import SHARED_ABSENT, require_shared, shared_dir  # noqa: F401  (re-exported for the tests)

PROJECT_ROOT = Path(__file__).resolve().parents[1]
BACKEND = os.environ.get("OMNIHUB_TEST_BACKEND", "sqlite")


def pytest_runtest_logreport(report):
    """With OMNIHUB_SHARED_SKIPS=FILE, every test skipped because shared/ is absent is
    written there (its function's id, once per parameter): .ci/run runs the suite once as
    a user's clone, without shared/, then only these with it, instead of the whole suite
    twice. Written by the process that reports (xdist's controller, or the only one)."""
    record = os.environ.get("OMNIHUB_SHARED_SKIPS")
    if not record or not report.skipped or os.environ.get("PYTEST_XDIST_WORKER"):
        return
    reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
    if SHARED_ABSENT in reason:
        with open(record, "a", encoding="utf-8") as out:
            out.write(report.nodeid.split("[", 1)[0] + "\n")


@pytest.fixture(scope="session", autouse=True)
def _privacy_exports_in_scratch(tmp_path_factory):
    """Customer data exports made by tests go to a scratch folder, not the project's var/."""
    os.environ.setdefault("OMNIHUB_PRIVACY_EXPORT_DIR", str(tmp_path_factory.mktemp("privacy-exports")))


@pytest.fixture(scope="session")
def database_url():
    with scratch_database(BACKEND) as url:
        migrate(url)
        yield url


def empty_database(url: str) -> None:
    engine = make_engine(url)
    with engine.begin() as conn:
        names = [t.name for t in reversed(metadata.sorted_tables)]
        if conn.dialect.name == "postgresql":
            conn.exec_driver_sql(f"TRUNCATE {', '.join(names)} RESTART IDENTITY CASCADE")
        else:
            for n in names:
                conn.exec_driver_sql(f"DELETE FROM {n}")
    engine.dispose()


@pytest.fixture
def clean_url(database_url):
    empty_database(database_url)
    return database_url


@pytest.fixture
def hub(clean_url):
    # TestClient's requests carry `Host: testserver`; the live servers' are loopback ones.
    h = Hub.open(Settings(database_url=clean_url, allowed_hosts=[*LOOPBACK_HOSTS, "testserver"]),
                 run_migrations=False, relay=False)
    yield h
    h.close()


def add_location(hub: Hub, code: str, **kw) -> None:
    data = {"code": code, "name": code, "kind": kw.pop("kind", "store"), "capabilities": kw.pop("capabilities", ["ship", "pickup"])}
    data.update(kw)
    hub.catalog.create_location(data)


def add_skus(hub: Hub, *skus: str) -> None:
    hub.catalog.create_product("Product", [{"sku": s} for s in skus])


@pytest.fixture
def stocked(hub):
    """Two locations, two SKUs, one per-location and one aggregate channel."""
    add_location(hub, "WH", kind="warehouse", capabilities=["ship"])
    add_location(hub, "ST", kind="store")
    add_skus(hub, "A", "B")
    hub.catalog.upsert_channel("shopify", name="Shopify", kind="shopify", per_location=True)
    hub.catalog.upsert_channel("amazon", name="Amazon", kind="amazon", feeds={"WH": "ship"})
    return hub


def count_rows(hub: Hub, table: str) -> int:
    with hub.engine.connect() as conn:
        return conn.execute(sa.text(f"SELECT COUNT(*) FROM {table}")).scalar()


# -- access: every API route needs a principal (entrypoints/api/access.py) ---------------

def issue_token(hub_or_engine, role: str = "admin", *, name: str | None = None, scopes=(), locations=(),
                expires_days: float | None = None) -> str:
    """A real API token of `role` in the hub's database (the resolver verifies it as any)."""
    from omnihub.services.api_tokens import ApiTokens

    tokens = getattr(hub_or_engine, "tokens", None) or ApiTokens(getattr(hub_or_engine, "engine", hub_or_engine))
    return tokens.create(name or f"tests-{role}", role, scopes=scopes, locations=locations,
                         expires_days=expires_days, created_by="tests").token


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


class SignedIn:
    """An ASGI app whose requests carry a bearer token unless they bring their own
    Authorization: the tests that drive the API with plain `httpx.get(url)` act as the
    principal of `token` through the real resolver."""

    def __init__(self, app, token: str) -> None:
        self.app, self.token = app, token
        self._header = (b"authorization", f"Bearer {token}".encode())

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http" and not any(k == b"authorization" for k, _ in scope.get("headers", [])):
            scope = {**scope, "headers": [*scope.get("headers", []), self._header]}
        return await self.app(scope, receive, send)


def admin_app(hub: Hub, **kw):
    """The hub's API as an admin (one token made for it): what most API tests drive."""
    from omnihub.entrypoints.api.app import create_app

    return SignedIn(create_app(hub=hub, **kw), issue_token(hub, "admin"))


@pytest.fixture
def admin_token(hub) -> str:
    return issue_token(hub, "admin")
