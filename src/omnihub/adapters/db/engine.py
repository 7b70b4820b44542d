"""Engines for SQLite (WAL, the embedded default) and PostgreSQL (psycopg 3), and the
migration entry point. Both databases run the same Alembic migrations."""

from __future__ import annotations

import fcntl
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.pool import NullPool
from sqlalchemy.engine import Engine


def normalise_url(url: str) -> str:
    """Accept the URLs people type (postgresql://, postgres://) and use psycopg 3."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


BUSY_TIMEOUT_S = 30  # how long an SQLite writer waits for another before "database is locked"
PG_RANDOM_PAGE_COST = 1.1  # the usual figure for data in memory or on SSD (see make_engine)


def make_engine(url: str, *, pool_size: int = 10) -> Engine:
    url = normalise_url(url)
    if url.startswith("sqlite"):
        from omnihub.adapters.db.write_turn import TURN_HELD, TurnConnection, WriteTurn

        engine = sa.create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": BUSY_TIMEOUT_S, "factory": TurnConnection},
            pool_size=pool_size,
            max_overflow=20,
        )
        turn = WriteTurn(database_file(engine))  # every write transaction of this engine queues here

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):  # pragma: no cover - trivial
            # Python's sqlite3 opens transactions lazily; we issue BEGIN ourselves so
            # that a writer can take the write lock up front (BEGIN IMMEDIATE).
            dbapi_conn.isolation_level = None
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_S * 1000}")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.close()

        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn):  # pragma: no cover - trivial
            options = conn.get_execution_options()
            mode = options.get("sqlite_begin", "IMMEDIATE")
            raw = conn.connection.dbapi_connection
            if mode == "IMMEDIATE" and turn.path is not None and not options.get(TURN_HELD) and raw.turn is None:
                # Given back when the transaction ends (TurnConnection). A thread of this
                # process stuck in a transaction must not hang the others: past the busy
                # timeout they go on without the turn and meet SQLite's own lock, which
                # answers "database is locked" as it always did.
                if turn.acquire(timeout=BUSY_TIMEOUT_S):
                    raw.turn = turn
            try:
                raw.execute(f"BEGIN {mode}")  # on the driver: through SQLAlchemy it cost more than a small batch's reads
            except BaseException:
                raw._give_back()
                raise

        return engine
    engine = sa.create_engine(url, pool_size=pool_size, max_overflow=20, pool_pre_ping=True)

    @event.listens_for(engine, "connect")
    def _pg_session(dbapi_conn, _record):  # pragma: no cover - trivial
        # Set for the hub's own sessions only; a server-wide choice is the operator's.
        # - The hub's reads name their keys (a batch's SKUs, orders, channel rows) over a
        #   working set that lives in memory. With PostgreSQL's default page costs (4,
        #   for spinning disks) a join of a hundred SKUs to 100,000 positions was planned
        #   as a scan of the whole table, 24 ms a batch where the index answers in 2.
        # - JSON the hub writes past 2 kB (a batch's events of one topic, a routing
        #   explanation) is compressed; pglz took 6% of the server's time under the
        #   orders benchmark, lz4 (PostgreSQL 14+, where built with it) a fraction.
        with dbapi_conn.cursor() as cur:
            cur.execute(f"SET random_page_cost = {PG_RANDOM_PAGE_COST}")
        dbapi_conn.commit()
        try:
            with dbapi_conn.cursor() as cur:
                cur.execute("SET default_toast_compression = lz4")
            dbapi_conn.commit()
        except Exception:  # a server without lz4 keeps its own default
            dbapi_conn.rollback()

    return engine


def for_reading(engine: Engine) -> Engine:
    """The same engine (and pool) for read-only work. On SQLite its transactions begin
    DEFERRED: they read a WAL snapshot and never wait for the write lock, where the default
    BEGIN IMMEDIATE (right for writers, which read then write) made an API read wait behind
    the stock writer's batches (measured under write load: p50 138 ms, p99 2.7 s, against
    5 ms and 20 ms). PostgreSQL ignores the option."""
    return engine.execution_options(sqlite_begin="DEFERRED")


def database_file(engine: Engine) -> str | None:
    """The SQLite database file behind an engine, or None (PostgreSQL, in-memory)."""
    if not is_sqlite(engine):
        return None
    database = engine.url.database
    return database if database and database != ":memory:" and not database.startswith("file:") else None


def is_sqlite(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"


MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def alembic_config(url: str):
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("sqlalchemy.url", normalise_url(url).replace("%", "%%"))
    return cfg


def migrate(url: str, revision: str = "head") -> None:
    """Bring the database schema to `revision` (creates the SQLite file if needed), one
    process at a time: `serve` and a CLI command started together on a new database
    would otherwise both see no schema and both create it, the second failing with
    "table ... already exists"."""
    import logging

    logging.getLogger("alembic").setLevel(logging.WARNING)  # before alembic logs its plugins
    from alembic import command

    with _one_migrator(url):
        command.upgrade(alembic_config(url), revision)


MIGRATION_LOCK_KEY = 0x6F6D6E69  # PostgreSQL advisory lock of the migrator ("omni")


@contextmanager
def _one_migrator(url: str) -> Iterator[None]:
    """An exclusive lock for the whole upgrade: a `flock` on a file beside an SQLite
    database, a session advisory lock on PostgreSQL; the one that waits then finds the
    schema at its revision and has nothing to do."""
    engine = sa.create_engine(normalise_url(url), poolclass=NullPool)
    try:
        if engine.dialect.name == "postgresql":
            with engine.connect() as conn:
                conn.exec_driver_sql(f"SELECT pg_advisory_lock({MIGRATION_LOCK_KEY})")
                try:
                    yield
                finally:
                    conn.exec_driver_sql(f"SELECT pg_advisory_unlock({MIGRATION_LOCK_KEY})")
                    conn.commit()
            return
        path = database_file(engine)
        if path is None:
            yield
            return
        with open(f"{path}-migrate.lock", "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
            yield
    finally:
        engine.dispose()


def analyze_after_bulk_load(engine: Engine) -> None:
    """Refresh PostgreSQL's planner statistics after loading many rows at once.

    The batch reads join a parameter array to a table (`unnest(...) JOIN positions`);
    planned with the statistics of a table that was nearly empty, such a join scans all
    100,000 positions of a freshly seeded catalog for every batch (17 ms a batch,
    measured) instead of looking up the hundred SKUs it names. Autovacuum would analyze
    within a minute or so; a bulk load (seeding, a catalog import) should not leave the
    writers planning blind until then. SQLite plans these reads by their primary keys
    without statistics: nothing to do there."""
    if engine.dialect.name != "postgresql":
        return
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql("ANALYZE")
