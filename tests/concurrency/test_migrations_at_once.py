"""Processes started together on a new database (`omnihub serve` and the tour's
`omnihub tokens create` in the next terminal) each migrate it; one migrates, the others
wait for it and find the schema at head. Before the lock, the second failed with
"table privacy_requests already exists" and the command with it."""

from __future__ import annotations

import multiprocessing

import sqlalchemy as sa

from omnihub.adapters.db.engine import make_engine, migrate
from omnihub.benchmarks.scratch_db import scratch_database
from tests.conftest import BACKEND

PROCESSES = 4


def _migrate(url: str) -> str:
    try:
        migrate(url)
        return "ok"
    except Exception as exc:  # the answer the parent checks
        return f"{type(exc).__name__}: {exc}"


def test_processes_migrating_a_new_database_at_once_all_succeed():
    with scratch_database(BACKEND) as url:
        spawn = multiprocessing.get_context("spawn")
        with spawn.Pool(PROCESSES) as pool:
            answers = pool.map(_migrate, [url] * PROCESSES)
        assert answers == ["ok"] * PROCESSES, answers
        engine = make_engine(url)
        with engine.connect() as conn:
            versions = conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalars().all()
            assert conn.execute(sa.text("SELECT COUNT(*) FROM privacy_requests")).scalar() == 0
        engine.dispose()
        assert len(versions) == 1
