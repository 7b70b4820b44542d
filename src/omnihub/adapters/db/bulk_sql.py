"""Plain DBAPI `executemany` for the hot path's inserts and updates.

SQLAlchemy Core costs ~10 µs a row to build parameters; at tens of thousands of rows a
second that is most of the budget. These few statements are written once, for both
drivers (sqlite3's `?` and psycopg's `%s`), and everything else keeps using Core.
"""

from __future__ import annotations

import orjson
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.engine import Connection


def _ph(conn: Connection) -> str:
    return "?" if conn.dialect.paramstyle == "qmark" else "%s"


def insert_many(conn: Connection, table: str, columns: Sequence[str], rows: list[tuple]) -> None:
    if not rows:
        return
    ph = _ph(conn)
    sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join([ph] * len(columns))})"
    conn.exec_driver_sql(sql, rows)


def update_many(conn: Connection, table: str, set_columns: Sequence[str], where_columns: Sequence[str], rows: list[tuple]) -> int:
    """`UPDATE table SET a=?, ... WHERE k=? AND ...`; each row is set values then keys.
    Returns the number of rows updated (summed over the batch)."""
    if not rows:
        return 0
    ph = _ph(conn)
    sql = (
        f"UPDATE {table} SET {', '.join(f'{c} = {ph}' for c in set_columns)} "
        f"WHERE {' AND '.join(f'{c} = {ph}' for c in where_columns)}"
    )
    return conn.exec_driver_sql(sql, rows).rowcount


def next_ids(conn: Connection, table: str, n: int) -> list[int]:
    """Reserve `n` primary keys. On PostgreSQL from the table's sequence (one round trip);
    on SQLite from MAX(id), which is safe because the writer holds the write lock."""
    if n == 0:
        return []
    if conn.dialect.name == "postgresql":
        rows = conn.exec_driver_sql(
            f"SELECT nextval(pg_get_serial_sequence('{table}', 'id')) FROM generate_series(1, %s)", (n,)
        ).all()
        return [r[0] for r in rows]
    start = conn.exec_driver_sql(f"SELECT COALESCE(MAX(id), 0) FROM {table}").scalar() + 1
    return list(range(start, start + n))


def db_time(conn: Connection, dt: datetime):
    """A timestamp as each driver stores it for SQLAlchemy's DateTime to read back."""
    if conn.dialect.name == "sqlite":
        return dt.strftime("%Y-%m-%d %H:%M:%S.%f")
    return dt


def db_json(obj) -> str:
    """JSON text for a JSON column (orjson: the outbox and routing explanations are on
    the hot path, and it is several times faster than the standard library)."""
    return orjson.dumps(obj, default=str, option=orjson.OPT_NON_STR_KEYS).decode()


def upsert_many(conn: Connection, table: str, columns: Sequence[str], key_columns: Sequence[str], rows: list[tuple]) -> None:
    """`INSERT ... ON CONFLICT (keys) DO UPDATE` — the same text works on SQLite and PostgreSQL."""
    if not rows:
        return
    ph = _ph(conn)
    updates = ", ".join(f"{c} = excluded.{c}" for c in columns if c not in key_columns)
    sql = (
        f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join([ph] * len(columns))}) "
        f"ON CONFLICT ({', '.join(key_columns)}) DO UPDATE SET {updates}"
    )
    conn.exec_driver_sql(sql, rows)


def fetch_by_keys(conn: Connection, table: str, columns: Sequence[str], key_columns: Sequence[str],
                  keys: Sequence[tuple], *, for_update: bool = False, chunk: int = 400) -> list[tuple]:
    """Rows whose key columns equal one of `keys`, ordered by the key columns.

    Composite keys are joined against a `WITH k AS (VALUES ...)` list: SQLite answers
    `(a, b) IN (VALUES ...)` with a full scan, but the join searches the primary key.
    FOR UPDATE (PostgreSQL) then locks the rows in key order, the fixed order that avoids
    deadlocks between writers.
    """
    if not keys:
        return []
    ph = _ph(conn)
    width = len(key_columns)
    lock = f" FOR UPDATE OF {table}" if for_update and conn.dialect.name == "postgresql" else ""
    cols = ", ".join(f"{table}.{c}" for c in columns)
    order = ", ".join(f"{table}.{c}" for c in key_columns)
    out: list[tuple] = []
    for i in range(0, len(keys), chunk):
        part = keys[i : i + chunk]
        if width == 1:
            sql = (f"SELECT {cols} FROM {table} WHERE {key_columns[0]} IN ({', '.join([ph] * len(part))}) "
                   f"ORDER BY {order}{lock}")
            params = tuple(k[0] for k in part)
        else:
            row_ph = "(" + ", ".join([ph] * width) + ")"
            names = ", ".join(f"k{j}" for j in range(width))
            on = " AND ".join(f"{table}.{c} = k.k{j}" for j, c in enumerate(key_columns))
            sql = (f"WITH k({names}) AS (VALUES {', '.join([row_ph] * len(part))}) "
                   f"SELECT {cols} FROM k JOIN {table} ON {on} ORDER BY {order}{lock}")
            params = tuple(v for k in part for v in k)
        out.extend(tuple(r) for r in conn.exec_driver_sql(sql, params))
    return out
