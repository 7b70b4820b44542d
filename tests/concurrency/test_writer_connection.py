"""The PostgreSQL writer keeps one connection for its life (a pooled one per batch was
pinged first: a round trip per batch) and takes a new one when the server drops it."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from tests.conftest import BACKEND

pytestmark = pytest.mark.skipif(BACKEND != "postgresql", reason="a server connection to drop: PostgreSQL's")


def _writer_backend_pid(hub) -> int:
    return hub.writer._own.connection.dbapi_connection.info.backend_pid


def test_the_writer_keeps_one_connection_from_batch_to_batch(stocked):
    stocked.inventory.receive("A", "WH", 5)
    pid = _writer_backend_pid(stocked)
    for _ in range(3):
        stocked.inventory.receive("A", "WH", 1)
    assert _writer_backend_pid(stocked) == pid


def test_a_connection_the_server_dropped_is_replaced_and_the_next_command_lands(stocked):
    stocked.inventory.receive("A", "WH", 5)
    pid = _writer_backend_pid(stocked)
    with stocked.engine.connect() as conn:
        assert conn.execute(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": pid}).scalar()
    stocked.inventory.receive("A", "WH", 2)  # retried on a new connection, not lost
    assert _writer_backend_pid(stocked) != pid
    assert stocked.queries.positions("A")["WH"].on_hand == 7
