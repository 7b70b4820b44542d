"""Set-based statements for the hot path's reads and writes, written once per driver.

SQLAlchemy Core costs ~10 µs a row to build parameters; at tens of thousands of rows a
second that is most of the budget, so these few statements go to the driver directly:

* SQLite: `executemany` (in-process, no round trips) and, for composite-key reads, a join
  against `WITH k AS (VALUES ...)` (SQLite answers `(a, b) IN (VALUES ...)` with a scan).
* PostgreSQL: COPY for inserts, and for the rest one statement per batch whatever its
  size, with every column passed as an array and expanded by `unnest`: a thousand rows
  cost one round trip and one plan, where `executemany` or a long VALUES list cost many.

Everything else keeps using SQLAlchemy Core.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from functools import lru_cache
from typing import Any

import orjson
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError

from omnihub.adapters.db.tables import metadata


def _pg(conn: Connection) -> bool:
    return conn.dialect.name == "postgresql"


@lru_cache(maxsize=None)
def _pg_type(table: str, column: str) -> str:
    """The PostgreSQL type of a column, for casting its parameter array."""
    return metadata.tables[table].c[column].type.compile(dialect=postgresql.dialect())


def _unnest(table: str, columns: Sequence[str], alias: str = "k") -> str:
    arrays = ", ".join(f"%s::{_pg_type(table, c)}[]" for c in columns)
    return f"unnest({arrays}) AS {alias}({', '.join(columns)})"


def _arrays(rows: Sequence[Sequence[Any]], width: int) -> tuple[list, ...]:
    return tuple(list(col) for col in zip(*rows)) if rows else tuple([] for _ in range(width))


def driver_connection(conn: Connection) -> Any:
    """The DBAPI connection (sqlite3 or psycopg) under a connection in use, which always has one."""
    raw = conn.connection.dbapi_connection
    if raw is None:
        raise RuntimeError("the connection has no DBAPI connection (closed or invalidated)")
    return raw


def driver_rows(conn: Connection, sql: str, params) -> list[tuple]:
    """Run a read on the transaction's own DBAPI cursor: plain tuples at C speed, where
    SQLAlchemy's result wraps every row (a third of the cost of reading a batch's
    positions). Only for reads of plain columns (no type conversion needed)."""
    cursor = driver_connection(conn).cursor()
    try:
        cursor.execute(sql, params)
        return cursor.fetchall()
    finally:
        cursor.close()


def driver_write(conn: Connection, sql: str, params: Any, *, many: bool = False) -> int:
    """Run a write on the transaction's own DBAPI cursor; the rows it changed. Through
    SQLAlchemy each statement cost some 80 µs before the driver saw it: a dozen per
    batch, which at the small batches of a lightly loaded writer was a tenth of an
    order's cost. Only for statements whose values need no type conversion."""
    cursor = driver_connection(conn).cursor()
    try:
        if many:
            cursor.executemany(sql, params)
        else:
            cursor.execute(sql, params)
        n: int = cursor.rowcount
        return n
    except Exception as exc:
        # As SQLAlchemy would raise it (IntegrityError, OperationalError...): the writer
        # retries and the services answer on those.
        base = conn.dialect.loaded_dbapi.Error
        if isinstance(exc, base):
            raise DBAPIError.instance(sql, None, exc, base) from exc
        raise
    finally:
        cursor.close()


def insert_many(conn: Connection, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    if not rows:
        return
    if _pg(conn):
        # COPY: several times faster than any INSERT for a batch, in the same transaction.
        cursor = driver_connection(conn).cursor()
        try:
            with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        finally:
            cursor.close()
        return
    sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join(['?'] * len(columns))})"
    driver_write(conn, sql, rows, many=True)


def update_many(conn: Connection, table: str, set_columns: Sequence[str], where_columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> int:
    """`UPDATE table SET a = ..., ... WHERE k = ... AND ...`; each row is the set values,
    then the key values. Returns the number of rows updated."""
    if not rows:
        return 0
    if _pg(conn):
        # Key columns may repeat a set column (a version checked and bumped): alias them.
        keys = [f"w_{c}" for c in where_columns]
        arrays = ", ".join(
            [f"%s::{_pg_type(table, c)}[]" for c in set_columns] + [f"%s::{_pg_type(table, c)}[]" for c in where_columns]
        )
        sql = (
            f"UPDATE {table} AS t SET {', '.join(f'{c} = k.{c}' for c in set_columns)} "
            f"FROM unnest({arrays}) AS k({', '.join([*set_columns, *keys])}) "
            f"WHERE {' AND '.join(f't.{c} = k.{w}' for c, w in zip(where_columns, keys))}"
        )
        return driver_write(conn, sql, _arrays(rows, len(set_columns) + len(where_columns)))
    sql = (
        f"UPDATE {table} SET {', '.join(f'{c} = ?' for c in set_columns)} "
        f"WHERE {' AND '.join(f'{c} = ?' for c in where_columns)}"
    )
    return driver_write(conn, sql, rows, many=True)


def upsert_many(conn: Connection, table: str, columns: Sequence[str], key_columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    """`INSERT ... ON CONFLICT (keys) DO UPDATE` the other columns."""
    if not rows:
        return
    updates = ", ".join(f"{c} = excluded.{c}" for c in columns if c not in key_columns)
    conflict = f"ON CONFLICT ({', '.join(key_columns)}) DO UPDATE SET {updates}"
    if _pg(conn):
        # Rows go in key order: two writers upserting overlapping rows (a SKU's channel
        # pool) then take the row locks in the same order and wait, never deadlock.
        order = ", ".join(f"k.{c}" for c in key_columns)
        driver_write(
            conn,
            f"INSERT INTO {table} ({', '.join(columns)}) SELECT * FROM {_unnest(table, columns)} ORDER BY {order} "
            f"{conflict}",
            _arrays(rows, len(columns)),
        )
        return
    sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join(['?'] * len(columns))}) {conflict}"
    driver_write(conn, sql, rows, many=True)


def insert_ignore_many(conn: Connection, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    """Insert rows whose key is not there yet (`ON CONFLICT DO NOTHING`)."""
    if not rows:
        return
    if _pg(conn):
        driver_write(
            conn,
            f"INSERT INTO {table} ({', '.join(columns)}) SELECT * FROM {_unnest(table, columns)} ON CONFLICT DO NOTHING",
            _arrays(rows, len(columns)),
        )
        return
    driver_write(conn, f"INSERT OR IGNORE INTO {table} ({', '.join(columns)}) VALUES ({', '.join(['?'] * len(columns))})",
                 rows, many=True)


def fetch_by_keys(conn: Connection, table: str, columns: Sequence[str], key_columns: Sequence[str],
                  keys: Sequence[Sequence[Any]], *, for_update: bool = False, chunk: int = 400) -> list[tuple]:
    """Rows whose key columns equal one of `keys`, ordered by the key columns.

    FOR UPDATE (PostgreSQL) locks the rows in key order, the fixed order that avoids
    deadlocks between writers.
    """
    if not keys:
        return []
    cols = ", ".join(f"{table}.{c}" for c in columns)
    order = ", ".join(f"{table}.{c}" for c in key_columns)
    on = " AND ".join(f"{table}.{c} = k.{c}" for c in key_columns)
    if _pg(conn):
        lock = f" FOR UPDATE OF {table}" if for_update else ""
        sql = f"SELECT {cols} FROM {_unnest(table, key_columns)} JOIN {table} ON {on} ORDER BY {order}{lock}"
        return driver_rows(conn, sql, _arrays(list(keys), len(key_columns)))
    grouped = _fetch_grouped(conn, table, columns, key_columns, keys, cols, order, chunk)
    if grouped is not None:
        return grouped
    out: list[tuple] = []
    row_ph = "(" + ", ".join(["?"] * len(key_columns)) + ")"
    for i in range(0, len(keys), chunk):
        part = keys[i : i + chunk]
        sql = (f"WITH k({', '.join(key_columns)}) AS (VALUES {', '.join([row_ph] * len(part))}) "
               f"SELECT {cols} FROM k JOIN {table} ON {on} ORDER BY {order}")
        out.extend(driver_rows(conn, sql, tuple(v for k in part for v in k)))
    return out


def _fetch_grouped(conn, table, columns, key_columns, keys, cols, order, chunk) -> list[tuple] | None:
    """SQLite: `b IN (...)` for a one-column key, and for composite keys where all but one
    column take few values (a channel and the total's location '' over many SKUs)
    `a = ? AND c = ? AND b IN (...)` per group. SQLite joins a VALUES list on a composite
    key several times slower (measured: 600 SKUs of one channel's availability by
    (channel, sku), 62 ms against 6.5 ms). None when the keys do not group well (most
    columns vary): the caller joins a VALUES list then."""
    width = len(key_columns)
    spread = [len({k[i] for k in keys}) for i in range(width)]
    wide = max(range(width), key=spread.__getitem__)
    fixed = [i for i in range(width) if i != wide]
    groups: dict[tuple, list] = {}
    for k in keys:
        groups.setdefault(tuple(k[i] for i in fixed), []).append(k[wide])
    if width > 1 and len(groups) * 8 > len(keys):
        return None
    where = "".join(f"{key_columns[i]} = ? AND " for i in fixed)
    out: list[tuple] = []
    for group in sorted(groups):
        values = sorted(groups[group])
        for i in range(0, len(values), chunk):
            part = values[i : i + chunk]
            sql = (f"SELECT {cols} FROM {table} WHERE {where}{key_columns[wide]} IN "
                   f"({', '.join(['?'] * len(part))}) ORDER BY {order}")
            out.extend(driver_rows(conn, sql, (*group, *part)))
    if len(groups) > 1 and all(c in columns for c in key_columns):
        at = [columns.index(c) for c in key_columns]
        out.sort(key=lambda r: tuple(r[i] for i in at))  # one order whatever the grouping
    return out


def delete_by_ids(conn: Connection, table: str, column: str, ids: Sequence) -> None:
    if not ids:
        return
    if _pg(conn):
        driver_write(conn, f"DELETE FROM {table} WHERE {column} = ANY(%s::{_pg_type(table, column)}[])", (list(ids),))
        return
    for i in range(0, len(ids), 500):
        part = ids[i : i + 500]
        driver_write(conn, f"DELETE FROM {table} WHERE {column} IN ({', '.join(['?'] * len(part))})", tuple(part))


def next_ids(conn: Connection, table: str, n: int, claims: Any = None) -> list[int]:
    """Reserve `n` primary keys. On PostgreSQL from the table's sequence (one round trip);
    on SQLite from MAX(id), which is safe because the writer holds the write lock, or,
    given a writer's FileClaims (it may be computing outside the write turn), from their
    shared id counter, never below MAX(id) + 1."""
    if n == 0:
        return []
    if _pg(conn):
        return list(conn.exec_driver_sql(
            f"SELECT nextval(pg_get_serial_sequence('{table}', 'id')) FROM generate_series(1, %s)", (n,)
        ).scalars())
    start = int(driver_rows(conn, f"SELECT COALESCE(MAX(id), 0) FROM {table}", ())[0][0]) + 1
    if claims is not None:
        ids: list[int] = claims.allocate_ids(table, n, start)
        return ids
    return list(range(start, start + n))


def db_time(conn: Connection, dt: datetime):
    """A timestamp as each driver stores it for SQLAlchemy's DateTime to read back."""
    if conn.dialect.name == "sqlite":
        # SQLAlchemy's "%Y-%m-%d %H:%M:%S.%f" of the wall time; isoformat is several times
        # faster than strftime, and [:26] leaves out an aware datetime's offset as it does.
        return dt.isoformat(" ", "microseconds")[:26]
    return dt


def db_json(obj) -> str:
    """JSON text for a JSON column (orjson: the outbox and routing explanations are on
    the hot path, and it is several times faster than the standard library)."""
    return orjson.dumps(obj, default=str, option=orjson.OPT_NON_STR_KEYS).decode()
