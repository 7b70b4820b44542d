"""An Amazon simulator's own SQLite file: every simulator's state
(:class:`omnihub_sandbox.sqlite_state.SqliteState`) with the tables both SP-API
simulators keep (the tokens they issued).
"""

from __future__ import annotations

from pathlib import Path

from ..sqlite_state import SqliteState

#: Both Amazon simulators' files have these beside every simulator's meta and counters:
#: the LWA access tokens they issued (:mod:`.lwa`) and the Restricted Data Tokens
#: (:mod:`.restricted_data`).
COMMON_SCHEMA = """
CREATE TABLE IF NOT EXISTS access_tokens (
    token TEXT PRIMARY KEY, client_id TEXT NOT NULL, expires_at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS grantless_tokens (
    token TEXT PRIMARY KEY, client_id TEXT NOT NULL, scope TEXT NOT NULL, expires_at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS restricted_tokens (
    token TEXT PRIMARY KEY, client_id TEXT NOT NULL, expires_at REAL NOT NULL, resources TEXT NOT NULL);
"""
COMMON_TABLES = ("access_tokens", "grantless_tokens", "restricted_tokens")


class SqliteStore(SqliteState):
    """An SP-API simulator's SQLite state; use :meth:`tx` for every read-modify-write.

    ``schema`` is the simulator's own tables (``CREATE TABLE IF NOT EXISTS ...``) and
    ``tables`` their names, which :meth:`wipe` empties with the common ones.
    """

    def __init__(self, path: Path, schema: str, tables: tuple[str, ...]) -> None:
        super().__init__(path, COMMON_SCHEMA + schema, COMMON_TABLES + tables)
