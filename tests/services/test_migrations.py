"""The migrations build exactly the schema the code declares (tables.py), and a
migration that moves data keeps it, both ways."""

from __future__ import annotations

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from omnihub.adapters.db.engine import alembic_config, make_engine, migrate
from omnihub.adapters.db.tables import metadata
from omnihub.benchmarks.scratch_db import scratch_database

from tests.conftest import BACKEND


def test_the_migrated_schema_is_the_declared_one(database_url):
    engine = make_engine(database_url)
    try:
        with engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": False}), metadata)
    finally:
        engine.dispose()
    assert diff == []


def test_pools_move_to_the_total_rows_and_back():
    with scratch_database(BACKEND) as url:
        migrate(url, "0008")
        engine = make_engine(url)
        try:
            with engine.begin() as conn:
                conn.exec_driver_sql(
                    "INSERT INTO channel_pools (channel, sku, pool) VALUES ('shop', 'A', 7), ('shop', 'B', 3), ('amz', 'A', -2)")
                conn.exec_driver_sql(
                    "INSERT INTO channel_availability (channel, sku, location, quantity, updated_at) VALUES "
                    "('shop', 'A', '', 5, CURRENT_TIMESTAMP), ('shop', 'A', 'L1', 4, CURRENT_TIMESTAMP), "
                    "('amz', 'A', '', 0, CURRENT_TIMESTAMP)")
            migrate(url)
            with engine.connect() as conn:
                rows = sorted(conn.exec_driver_sql(
                    "SELECT channel, sku, location, quantity, pool FROM channel_availability").all())
            assert [tuple(r) for r in rows] == [
                ("amz", "A", "", 0, -2),
                ("shop", "A", "", 5, 7),
                ("shop", "A", "L1", 4, None),  # a per-location row has no pool
                ("shop", "B", "", 0, 3),  # a pool without a total row gets one, showing nothing
            ]
            command.downgrade(alembic_config(url), "0008")
            with engine.connect() as conn:
                pools = sorted(tuple(r) for r in conn.exec_driver_sql("SELECT channel, sku, pool FROM channel_pools"))
            assert pools == [("amz", "A", -2), ("shop", "A", 7), ("shop", "B", 3)]
        finally:
            engine.dispose()
