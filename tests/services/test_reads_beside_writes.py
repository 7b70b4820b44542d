"""Reads never wait for the write lock: an API read while a write transaction is open
answers from the last committed state (on SQLite a DEFERRED transaction reads the WAL
snapshot; the writers' BEGIN IMMEDIATE would have queued it behind every batch)."""

from __future__ import annotations

import sqlalchemy as sa

from omnihub.adapters.db import tables as t
from tests.conftest import add_location, add_skus


def test_a_read_answers_while_a_write_transaction_is_open(hub):
    add_location(hub, "WH")
    add_skus(hub, "A")
    hub.inventory.receive("A", "WH", 5)
    with hub.engine.connect() as writer_conn:
        with writer_conn.begin():  # holds the write lock (SQLite) or the row (PostgreSQL)
            writer_conn.execute(t.positions.update().where(t.positions.c.sku == "A").values(on_hand=t.positions.c.on_hand + 100))
            # Answered now, from the committed state, while the transaction is open:
            assert hub.queries.positions("A")["WH"].on_hand == 5
            assert hub.queries.atp(["A"])[0]["atp"] == 5
            with hub.read_engine.connect() as reader:
                assert reader.execute(sa.select(t.positions.c.on_hand).where(t.positions.c.sku == "A")).scalar() == 5
            writer_conn.rollback()
    assert hub.queries.positions("A")["WH"].on_hand == 5
