"""`omnihub serve --workers 2` on the session's database: two API processes, each with its
own group-commit writer (on SQLite taking turns on the file). Reservations race over real HTTP; exactly
the stock on hand is reserved, the ledger holds exactly the successful ones."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import sqlalchemy as sa

from omnihub.adapters.db import tables as t
from omnihub.adapters.db.engine import make_engine
from tests.conftest import bearer, issue_token
from tests.live_server import free_port

UNITS = 60
ATTEMPTS = 240


def test_two_api_workers_share_one_database_without_overselling(clean_url, tmp_path):
    url = clean_url
    port = free_port()
    log = (tmp_path / "serve.log").open("wb")
    proc = subprocess.Popen(
        [sys.executable, "-c", "from omnihub.entrypoints.cli.main import app; app()", "serve", "--workers", "2",
         "--port", str(port), "--database-url", url],
        env={**os.environ, "OMNIHUB_LOG_LEVEL": "WARNING"}, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}/api/v1"
    engine = make_engine(url)
    operator = bearer(issue_token(engine, "operator"))  # made in the database; each worker verifies it itself
    engine.dispose()
    try:
        with httpx.Client(timeout=30, headers=operator) as client:
            deadline = time.monotonic() + 60
            while True:
                try:
                    if client.get(f"http://127.0.0.1:{port}/healthz").status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                assert proc.poll() is None, (tmp_path / "serve.log").read_text()
                assert time.monotonic() < deadline, "the API did not start"
                time.sleep(0.1)
            assert client.post(f"{base}/locations", json={"code": "WH", "name": "Warehouse", "kind": "warehouse",
                                                          "capabilities": ["ship"]}).status_code == 201
            assert client.post(f"{base}/products", json={"title": "Tee", "variants": [{"sku": "TEE"}]}).status_code == 201
            assert client.post(f"{base}/stock/receive", json={"sku": "TEE", "location": "WH",
                                                              "quantity": UNITS}).status_code == 201

        def reserve(_: int) -> int:
            with httpx.Client(timeout=60, headers=operator) as c:
                return c.post(f"{base}/stock/reserve", json={"sku": "TEE", "location": "WH", "quantity": 1}).status_code

        with ThreadPoolExecutor(16) as pool:
            codes = list(pool.map(reserve, range(ATTEMPTS)))
        assert codes.count(201) == UNITS
        assert set(codes) <= {201, 409, 422}, sorted(set(codes))
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        log.close()
    engine = make_engine(url)
    with engine.connect() as conn:
        reserved = conn.execute(sa.select(t.positions.c.reserved).where(t.positions.c.sku == "TEE")).scalar()
        in_ledger = conn.execute(sa.select(sa.func.count()).select_from(t.movements).where(
            t.movements.c.to_state == "reserved")).scalar()
    engine.dispose()
    assert reserved == in_ledger == UNITS
